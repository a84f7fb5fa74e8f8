"""A month of demo orders for `make run`, so the back office's charts show something.

The history is bench/seed.py's (orders 2 to 29 days old: paid and shipped, cancelled unpaid,
refunded; their carts; abandoned carts), written with BatchWriteItem before the event pump starts
reading the stream (from LATEST, as the deployed stream mapping does): no email or fulfilment
message goes out for them. Their counters (sales report, funnel) are applied here instead, by the
relay's own rules (chalicelib/counters.py), summed and written as the counter items' final values
with BatchWriteItem (the table is new: nothing to add to), not a transaction per change (moto copies
the whole table for each, which takes seconds under load). The newest few paid orders are left
unshipped, so "waiting to ship" has some.
"""

from chalicelib import counters
from chalicelib.repository import dynamo, reports, stream
from chalicelib.repository.recommendations import pair_key

DEMO_ORDERS = 60  # default of the DEMO_ORDERS variable (0: none); with their carts and half as many abandoned
UNSHIPPED = 5


def seed_orders(products: list, excluded_skus: tuple[str, ...] = (), count: int = DEMO_ORDERS) -> int:
    """Write `count` demo orders over `products` (Product models), their carts and count / 2 abandoned
    carts; returns the number of orders. Every item makes moto's transactions slower (it copies the
    table for each), so the browser test asks for none."""
    from bench import seed as history

    if count <= 0:
        return 0

    skus = [{"sku": v.sku, "product_id": p.id, "title": f"{p.title} ({v.title})" if v.title else p.title,
             "price": v.price} for p in products for v in p.variants if v.sku not in excluded_skus]
    made = [dynamo.from_item(item) for item in history.items(count * 5 // 2, skus, seed=16)]
    shipped = sorted((item for item in made if item["SK"] == "ORDER" and item["fulfilment_status"] == "shipped"),
                     key=lambda item: item["created_at"], reverse=True)
    for item in shipped[:UNSHIPPED]:
        item |= {"fulfilment_status": "requested", "shipments": []}
    history.write([dynamo.to_item(item) for item in made])
    history_tally = counters.Tally("devstack.demo-history")
    orders = 0
    for item in made:
        _, record = stream.images(None, item)
        if record is None:
            continue
        orders += item["SK"] == "ORDER"
        for tally in counters.tallies(None, record, record.created_at):
            for parts, own in ((history_tally.days, tally.days), (history_tally.products, tally.products)):
                for key, deltas in own.items():
                    summed = parts.setdefault(key, {})
                    for name, delta in deltas.items():
                        summed[name] = summed.get(name, 0) + delta
            for pair, delta in tally.pairs.items():
                history_tally.pairs[pair] = history_tally.pairs.get(pair, 0) + delta
    counted = [reports.day_key(*key) | figures for key, figures in history_tally.days.items()]
    counted += [reports.product_day_key(*key) | figures for key, figures in history_tally.products.items()]
    counted += [pair_key(a, b) | {"count": n} for (a, b), n in history_tally.pairs.items()]
    history.write([dynamo.to_item(item) for item in counted])
    return orders
