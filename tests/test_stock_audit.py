"""Where the stock paths meet (models/stock.py, repository/orders.py, returns, imports, adjustments): sequences
that must leave every SKU's on_hand, reserved and available right, checked against moto and localstripe with
a test-only Scan (tests/reliability/support.assert_stock_adds_up)."""

from datetime import timedelta

from chalicelib import clock
from chalicelib.errors import CommerceError
from chalicelib.models.orders import ShipmentLine
from tests.conftest import ADMIN, make_product
from tests.orders_support import checked_out, post_event
from tests.reliability.support import assert_stock_adds_up, table_items
from tests.reliability.test_races import race, racing  # noqa: F401 (the fixture)
from tests.test_webhooks import paid_event


def shards_of(sku: str) -> dict[int, dict]:
    items = [i for i in table_items() if i["PK"] == f"SKU#{sku}"]
    return {0 if i["SK"] == "SKU" else int(i["SK"].removeprefix("SHARD#")): i for i in items}


def set_inventory(api, sku: str, **body) -> dict:
    answer = api.put(f"/admin/inventory/{sku}", body, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    return answer.data


def ship(api, order_id: str, lines: dict[str, int] | None = None):
    body = {"carrier": "dhl", "tracking_number": "JD0001"}
    if lines:
        body["lines"] = [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()]
    return api.post(f"/admin/orders/{order_id}/shipments", body, headers=ADMIN)


def pay(api, result: dict) -> None:
    answer = post_event(api, paid_event(result))
    assert answer.status_code == 200, answer.data


def test_partial_shipments_of_an_order_reserved_over_several_shards_take_each_shards_share_once(shop):
    """Defect: every shipment of an order reserved on several shards was taken from its first shard again
    (models/stock.spread from the start of the recorded plan), so that shard's `reserved` fell below what the
    orders still holding it reserved. An order placed before the SKU was sharded (held on the SKU item, its
    moves conditioned on `reserved >= quantity`) could then be neither cancelled (409 for ever) nor expired
    (the schedule raised StockShort)."""
    from chalicelib.services import orders as order_service

    make_product(shop, on_hand=10)
    early = checked_out(shop, {"TEE-M": 2})["order"]  # held on the SKU item, before it is sharded
    set_inventory(shop, "TEE-M", on_hand=10, shards=4)  # shard 0: 2 reserved + 2 free; shards 1-3: 2 free each
    big = checked_out(shop, {"TEE-M": 4})  # no shard has 4: shards 0 and 1 give 2 each
    pay(shop, big)
    assert ship(shop, big["order"]["id"], {"TEE-M": 2}).status_code == 201
    assert ship(shop, big["order"]["id"], {"TEE-M": 2}).status_code == 201
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 6, "reserved": 2, "available": 4}
    levels = shards_of("TEE-M")
    assert (levels[0]["reserved"], levels[1]["reserved"]) == (2, 0)  # each shard gave its share, once
    # The early order's reservation is still on the SKU item: it expires and gives it back.
    assert order_service.expire_unpaid(now=clock.now() + timedelta(minutes=31)) == 1
    assert shop.get(f"/admin/orders/{early['id']}", headers=ADMIN).data["status"] == "cancelled"
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 6, "reserved": 0, "available": 6}


def test_giving_back_part_by_part_continues_where_the_last_part_stopped():
    from chalicelib.models.stock import spread

    recorded = [(0, 2), (1, 2)]
    assert spread(recorded, 2) == [(0, 2)]
    assert spread(recorded, 2, taken=2) == [(1, 2)]
    assert spread(recorded, 3, taken=1) == [(0, 1), (1, 2)]


def late_payment(order: dict, event_id: str = "evt_late"):
    from chalicelib import payments

    return payments.PaymentEvent(id=event_id, kind="payment_succeeded", provider="stripe",
                                 provider_type="payment_intent.succeeded", payment_id="pi_late", order_id=order["id"],
                                 amount=order["total"], currency=order["currency"])


def test_a_late_payment_for_an_order_placed_before_its_sku_was_sharded_re_reserves_on_the_shards(shop):
    """Defect: a late payment re-reserved an order placed while its SKU was one item on the SKU item alone
    (shard 0) once the SKU was sharded: with the stock spread over the shards, shard 0 was short and the
    customer was refunded for goods that were there."""
    from chalicelib.repository import orders
    from chalicelib.services import orders as order_service

    make_product(shop, on_hand=4)
    order = checked_out(shop, {"TEE-M": 2})["order"]
    assert order_service.expire_unpaid(now=clock.now() + timedelta(minutes=31)) == 1
    set_inventory(shop, "TEE-M", on_hand=4, shards=4)  # 1 on each shard
    assert order_service.apply_payment_event(late_payment(order)) == "applied"
    stored = orders.get(order["id"])
    assert (stored.status, stored.amount_refunded) == ("paid", 0)
    assert sum(q for _, q in stored.stock_shards["TEE-M"]) == 2
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 4, "reserved": 2, "available": 2}
    # and it ships from where it was reserved again
    assert ship(shop, order["id"]).status_code == 201
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 2, "reserved": 0, "available": 2}


def assert_held_on_the_sku_item(sku: str) -> None:
    """The SKU item (shard 0) holds at least what the orders placed while the SKU was one item still reserve:
    their moves are conditioned on its `reserved` alone."""
    items = table_items()
    held = 0
    for order in (i for i in items if i["SK"] == "ORDER" and not i.get("stock_released")):
        if sku in (order.get("stock_shards") or {}):
            continue
        held += sum(line["quantity"] for line in order["lines"] if line["sku"] == sku and not line.get("gift_card"))
        held -= sum(line["quantity"] for s in order.get("shipments") or [] for line in s["lines"] if line["sku"] == sku)
    item = next(i for i in items if i["PK"] == f"SKU#{sku}" and i["SK"] == "SKU")
    assert item["reserved"] >= held, (item, held)


def test_shipments_cancellations_and_shard_count_changes_raced_conserve_every_unit(racing):  # noqa: F811
    """Orders reserved over several shards shipped in parts, others cancelled, while the shard count changes:
    afterwards the sums are exact, and the orders placed before the SKU was sharded still expire."""
    from chalicelib.repository import catalog
    from chalicelib.services import orders as order_service

    make_product(racing, sku_prefix="SALE", sizes=("ONE",), on_hand=40)
    early = [checked_out(racing, {"SALE-ONE": 2})["order"]["id"] for i in range(2)]
    set_inventory(racing, "SALE-ONE", on_hand=40, shards=4)  # 9 free on each shard
    big = []
    for _ in range(3):  # 10 each: no shard has them, two give them
        result = checked_out(racing, {"SALE-ONE": 10})
        pay(racing, result)
        big.append(result["order"]["id"])
    small = [checked_out(racing, {"SALE-ONE": 1 + i % 2})["order"]["id"]
             for i in range(3)]

    def act(job):
        kind, value = job
        if kind == "ship":
            return order_service.ship(value, "dhl", "JD1", [ShipmentLine(sku="SALE-ONE", quantity=5)])
        if kind == "cancel":
            return order_service.cancel(value, None)
        return catalog.set_stock("SALE-ONE", None, None, value)  # the shard count alone: on_hand as it is now

    jobs = [("ship", o) for o in big for _ in range(2)] + [("cancel", o) for o in small] + \
        [("shards", n) for n in (2, 6, 5, 3)]
    outcomes = race(act, jobs)
    errors = {o.code for _, o in outcomes if isinstance(o, CommerceError)}
    assert errors <= {"invalid_state", "order_changed", "upstream_unavailable"}, outcomes
    for order_id in big:  # what a racer gave up on, shipped now
        left = order_service.get(order_id)
        if left.fulfilment_status != "shipped":
            assert ship(racing, order_id).status_code == 201
    for order_id in small:
        if order_service.get(order_id).status != "cancelled":
            order_service.cancel(order_id, None)
    assert assert_stock_adds_up()["SALE-ONE"] == {"on_hand": 10, "reserved": 4, "available": 6}
    assert_held_on_the_sku_item("SALE-ONE")
    assert order_service.expire_unpaid(now=clock.now() + timedelta(minutes=31)) == len(early)
    assert assert_stock_adds_up()["SALE-ONE"] == {"on_hand": 10, "reserved": 0, "available": 10}


def test_a_variant_retired_and_deactivated_while_orders_hold_it_is_cancelled_shipped_and_restocked_right(shop):
    """Retired by a product edit (sharded) and its product deactivated by a CSV import while orders hold it; then
    one order cancelled, one shipped in two parts and returned with restock after the shard count changed: the
    sums stay exact and the restock is in the ledger once."""
    from tests.test_returns import admin, ask, line

    product = make_product(shop, on_hand=10)
    set_inventory(shop, "TEE-M", on_hand=10, shards=3)
    kept = checked_out(shop, {"TEE-M": 4, "TEE-S": 1})
    pay(shop, kept)
    dropped = checked_out(shop, {"TEE-M": 2, "TEE-S": 2})
    body = {"title": "T-shirt", "description": "Organic cotton.", "active": True,
            "variants": [{"sku": "TEE-S", "title": "S", "price": 1999, "currency": "EUR", "on_hand": 10}]}
    assert shop.put(f"/admin/products/{product['id']}", body, headers=ADMIN).status_code == 200  # TEE-M retired
    text = ("product_id,product_title,description,active,sku,variant_title,price,currency,on_hand,low_stock_threshold\n"
            f"{product['id']},T-shirt,Organic cotton.,false,TEE-S,S,1999,EUR,9,\n")
    answer = shop.post("/admin/products/import", {"csv": text}, headers=ADMIN)  # the product is no longer sold
    assert answer.status_code == 200, answer.data
    assert {i["sku"]: i["active"] for i in table_items() if i["SK"] == "SKU"} == {"TEE-S": False, "TEE-M": False}
    assert assert_stock_adds_up() == {"TEE-S": {"on_hand": 9, "reserved": 3, "available": 6},
                                      "TEE-M": {"on_hand": 10, "reserved": 6, "available": 4}}
    assert shop.post(f"/admin/orders/{dropped['order']['id']}/cancel", {}, headers=ADMIN).status_code == 200
    assert ship(shop, kept["order"]["id"], {"TEE-M": 3}).status_code == 201
    assert ship(shop, kept["order"]["id"]).status_code == 201
    assert assert_stock_adds_up() == {"TEE-S": {"on_hand": 8, "reserved": 0, "available": 8},
                                      "TEE-M": {"on_hand": 6, "reserved": 0, "available": 6}}
    set_inventory(shop, "TEE-M", on_hand=6, shards=5)  # the return comes back to a SKU sharded otherwise
    ret = ask(shop, kept, [line(quantity=2)]).data
    assert admin(shop, ret["id"], "approve").status_code == 200
    received = admin(shop, ret["id"], "receive", {"lines": [{"sku": "TEE-M", "quantity": 2, "restock": True}]})
    assert received.status_code == 200, received.data
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 8, "reserved": 0, "available": 8}
    ledger = shop.get("/admin/inventory/TEE-M/ledger", headers=ADMIN).data["data"]
    assert [(e["before"]["on_hand"], e["after"]["on_hand"]) for e in ledger] == [(6, 8)]
    assert admin(shop, ret["id"], "receive", {"lines": [{"sku": "TEE-M", "quantity": 2, "restock": True}]}
                 ).status_code == 409
    assert assert_stock_adds_up()["TEE-M"]["on_hand"] == 8


def test_an_exchange_order_on_a_sharded_sku_that_expires_unpaid_gives_its_stock_back_once(shop):
    """An exchange order reserved like a checkout (on shards), left unpaid past the exchange window: its stock
    goes back once, and the return's second exchange reserves again."""
    from chalicelib.repository import orders
    from chalicelib.services import orders as order_service
    from tests.test_exchanges import PRICE, approved, settle

    make_product(shop, on_hand=10, price=PRICE)
    set_inventory(shop, "TEE-S", on_hand=10, shards=3)
    _, ret = approved(shop, {"TEE-M": 1}, 1)
    exchanged = settle(shop, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 5}])
    assert exchanged.status_code == 200, exchanged.data
    first = orders.get(exchanged.data["refund"]["order_id"])
    assert first.status == "pending_payment" and sum(q for _, q in first.stock_shards["TEE-S"]) == 5
    assert assert_stock_adds_up()["TEE-S"] == {"on_hand": 10, "reserved": 5, "available": 5}
    later = first.created_at + timedelta(hours=72, seconds=1)
    assert order_service.expire_unpaid(later) == 1
    assert order_service.expire_unpaid(later) == 0
    assert assert_stock_adds_up()["TEE-S"] == {"on_hand": 10, "reserved": 0, "available": 10}
    again = settle(shop, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 2}])
    assert again.status_code == 200, again.data
    assert again.data["refund"]["order_id"] != first.id
    assert assert_stock_adds_up()["TEE-S"] == {"on_hand": 10, "reserved": 2, "available": 8}


def test_a_mixed_order_of_gift_cards_and_sharded_goods_expired_then_paid_late_moves_only_the_goods(shop):
    """Gift-card lines hold no stock: expiry gives back, a late payment takes again and shipping takes away the
    goods alone."""
    from chalicelib.repository import orders
    from chalicelib.services import orders as order_service
    from tests.test_gift_card_lines import cart_with, checkout

    body = {"title": "Gift card", "description": "", "active": True,
            "variants": [{"sku": "GIFT-25", "title": "25 EUR", "price": 2500, "currency": "EUR", "gift_card": True}]}
    assert shop.post("/admin/products", body, headers=ADMIN).status_code == 201
    make_product(shop, on_hand=6)
    set_inventory(shop, "TEE-M", on_hand=6, shards=3)
    order = checkout(shop, cart_with(shop, 2, {"TEE-M": 3}))["order"]
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 6, "reserved": 3, "available": 3}
    assert order_service.expire_unpaid(now=clock.now() + timedelta(minutes=31)) == 1
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 6, "reserved": 0, "available": 6}
    assert order_service.apply_payment_event(late_payment(order)) == "applied"
    assert orders.get(order["id"]).status == "paid"
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 6, "reserved": 3, "available": 3}
    assert assert_stock_adds_up()["GIFT-25"] == {"on_hand": 0, "reserved": 0, "available": 0}
    assert ship(shop, order["id"]).status_code == 201
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 3, "reserved": 0, "available": 3}


def paid_elsewhere(localstripe: str, order: dict) -> str:
    """A second PaymentIntent for the order (another tab), paid at localstripe after the expiry cancelled the
    order's own: its id."""
    import requests

    late = requests.post(f"{localstripe}/v1/payment_intents", auth=("sk_test_commerce", ""), timeout=5,
                         data={"amount": order["total"], "currency": "eur", "payment_method_types[]": "card",
                               "metadata[order_id]": order["id"], "payment_method": "pm_card_visa",
                               "confirm": "true"}).json()
    assert late["status"] == "succeeded", late
    return late["id"]


def test_a_late_payment_for_a_variant_retired_meanwhile_is_refunded_not_re_reserved(shop, localstripe):
    """Defect: a late payment re-reserved an expired order's goods with no condition but stock, so a variant the
    shop had retired (or whose product it deactivated) meanwhile was sold again; checkout refuses it."""
    from chalicelib.repository import orders
    from chalicelib.services import orders as order_service
    from tests.test_expiry_and_relay import refunds_of

    product = make_product(shop, on_hand=10)
    set_inventory(shop, "TEE-M", on_hand=10, shards=2)
    retired = checked_out(shop, {"TEE-M": 1})["order"]
    deactivated = checked_out(shop, {"TEE-S": 1})["order"]
    assert order_service.expire_unpaid(now=clock.now() + timedelta(minutes=31)) == 2
    body = {"title": "T-shirt", "description": "Organic cotton.", "active": True,
            "variants": [{"sku": "TEE-S", "title": "S", "price": 1999, "currency": "EUR", "on_hand": 10}]}
    assert shop.put(f"/admin/products/{product['id']}", body, headers=ADMIN).status_code == 200  # TEE-M retired
    first = paid_elsewhere(localstripe, retired)
    assert post_event(shop, paid_event({"order": retired}, payment_id=first)).status_code == 200
    assert shop.put(f"/admin/products/{product['id']}", body | {"active": False},
                    headers=ADMIN).status_code == 200  # the whole product is no longer sold
    second = paid_elsewhere(localstripe, deactivated)
    assert post_event(shop, paid_event({"order": deactivated}, payment_id=second)).status_code == 200
    for order, payment_id in ((retired, first), (deactivated, second)):
        stored = orders.get(order["id"])
        assert (stored.status, stored.amount_refunded) == ("cancelled", order["total"])
        assert refunds_of(localstripe, payment_id) == [order["total"]]
    assert assert_stock_adds_up() == {"TEE-S": {"on_hand": 10, "reserved": 0, "available": 10},
                                      "TEE-M": {"on_hand": 10, "reserved": 0, "available": 10}}


def test_a_shard_count_change_racing_a_sale_start_leaves_every_shard_at_the_sale_price(shop):
    """Defect: a change of the shard count wrote the prices it had read to the shards (kept and new), so a sale
    that started between its read and its write was undone on them: their stock could no longer be reserved
    (checkout conditions each shard on the SKU's price) while the SKU item showed it available. The shard
    change is now conditioned on the SKU's price_version and read again."""
    from chalicelib.repository import catalog, dynamo, prices

    make_product(shop, on_hand=12)
    set_inventory(shop, "TEE-M", on_hand=12, shards=2)
    fired = []

    def sale_starts_meanwhile(params, **kwargs):
        actions = [next(iter(action.values())) for action in params["TransactItems"]]
        if fired or not any((a.get("Key") or a.get("Item"))["SK"]["S"] == "SHARD#03" for a in actions):
            return
        fired.append(True)  # the transaction of the shard change (to 4), after its read: a sale starts first
        record = catalog.get_skus(["TEE-M"])["TEE-M"]
        prices.reprice(record, {"prices": {"EUR": 1499}, "price": 1499, "compare_at_prices": {"EUR": 1999}},
                       clock.now(), "sale_start", "sale_test")

    client = dynamo.client()
    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", sale_starts_meanwhile,
                                unique_id="stockaudit-sale")
    try:
        level = set_inventory(shop, "TEE-M", on_hand=12, shards=4)
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", unique_id="stockaudit-sale")
    assert fired and level["shards"] == 4
    assert {shard: item["prices"]["EUR"] for shard, item in shards_of("TEE-M").items()} == {0: 1499, 1: 1499,
                                                                                             2: 1499, 3: 1499}
    # every shard sells: 12 units in 4 checkouts of 3
    for _ in range(4):
        checked_out(shop, {"TEE-M": 3})
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 12, "reserved": 12, "available": 0}


def test_a_late_payment_whose_shard_goes_between_its_read_and_its_write_is_re_reserved_not_refunded(
        shop, localstripe, monkeypatch):
    """Defect: a late payment planned its re-reservation on the shards as read; when a change of the shard
    count removed that shard before the write, the reservation failed and the payment was refunded though the
    SKU had the stock. A failed re-reservation now refunds only when the SKU is short (read again)."""
    from types import SimpleNamespace

    from chalicelib.models import stock
    from chalicelib.repository import catalog, dynamo, orders
    from chalicelib.services import orders as order_service

    make_product(shop, on_hand=8)
    set_inventory(shop, "TEE-M", on_hand=8, shards=4)
    monkeypatch.setattr(stock, "random", SimpleNamespace(choice=lambda shards: shards[-1]))  # the last shard
    order = checked_out(shop, {"TEE-M": 2})["order"]
    assert order_service.expire_unpaid(now=clock.now() + timedelta(minutes=31)) == 1
    fired = []

    def shards_fold_meanwhile(params, **kwargs):
        actions = [next(iter(action.values())) for action in params["TransactItems"]]
        if fired or not any(a.get("Key", {}).get("SK", {}).get("S", "").startswith("SHARD#") for a in actions):
            return
        fired.append(True)  # the late payment's write, planned on a shard: the shop folds the shards first
        catalog.set_stock("TEE-M", 8, None, 1)

    client = dynamo.client()
    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", shards_fold_meanwhile,
                                unique_id="stockaudit-fold")
    try:
        payment_id = paid_elsewhere(localstripe, order)
        assert post_event(shop, paid_event({"order": order}, payment_id=payment_id)).status_code == 200
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", unique_id="stockaudit-fold")
    assert fired
    stored = orders.get(order["id"])
    assert (stored.status, stored.amount_refunded, stored.stock_shards) == ("paid", 0, {"TEE-M": [(0, 2)]})
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 8, "reserved": 2, "available": 6}


def test_no_import_edit_count_or_adjustment_sets_on_hand_below_what_orders_reserved(shop):
    """Every way of setting on_hand refuses to go below what orders hold (sharded or not), changes nothing and
    writes no ledger entry."""
    product = make_product(shop, on_hand=10)
    set_inventory(shop, "TEE-M", on_hand=10, shards=3)
    checked_out(shop, {"TEE-M": 6, "TEE-S": 4})
    before = assert_stock_adds_up()
    header = ("product_id,product_title,description,active,sku,variant_title,price,currency,on_hand,"
              "low_stock_threshold\n")
    for sku, on_hand in (("TEE-M", 5), ("TEE-S", 3)):
        rows = {"TEE-S": 10, "TEE-M": 10} | {sku: on_hand}
        text = header + "".join(f"{product['id']},T-shirt,Organic cotton.,true,{s},{s[-1]},1999,EUR,{q},\n"
                                for s, q in rows.items())
        answer = shop.post("/admin/products/import", {"csv": text}, headers=ADMIN)
        assert answer.status_code == 400 and [(e["column"], e["message"][:1]) for e in answer.data["error"]["rows"]] \
            == [("on_hand", str(before[sku]["reserved"]))], answer.data
        body = {"title": "T-shirt", "description": "Organic cotton.", "active": True,
                "variants": [{"sku": s, "title": s[-1], "price": 1999, "currency": "EUR", "on_hand": q}
                             for s, q in rows.items()]}
        assert shop.put(f"/admin/products/{product['id']}", body, headers=ADMIN).status_code == 409
        assert shop.put(f"/admin/inventory/{sku}", {"on_hand": on_hand}, headers=ADMIN).status_code == 409
    for adjustment in ({"on_hand": 3}, {"delta": -7}):
        answer = shop.post("/admin/inventory/TEE-S/adjustments", adjustment | {"reason": "count"}, headers=ADMIN)
        assert answer.status_code == 409, answer.data
    assert assert_stock_adds_up() == before
    assert shop.get("/admin/inventory/TEE-S/ledger", headers=ADMIN).data["data"] == []


def test_a_late_payment_for_an_unpaid_order_the_shop_cancelled_is_refunded_not_re_reserved(shop, localstripe):
    """Defect: a payment arriving for an unpaid order the shop had cancelled (its PaymentIntent is left open)
    re-reserved its stock and marked it paid, undoing the shop's decision; only an order cancelled for want of
    payment (expired, or its payment cancelled) is taken up again by a late payment."""
    from chalicelib.repository import orders
    from tests.test_expiry_and_relay import refunds_of

    make_product(shop, on_hand=10)
    order = checked_out(shop, {"TEE-M": 2})["order"]
    assert shop.post(f"/admin/orders/{order['id']}/cancel", {"reason": "suspected fraud"},
                     headers=ADMIN).status_code == 200
    payment_id = paid_elsewhere(localstripe, order)
    assert post_event(shop, paid_event({"order": order}, payment_id=payment_id)).status_code == 200
    stored = orders.get(order["id"])
    assert (stored.status, stored.amount_refunded) == ("cancelled", order["total"])
    assert refunds_of(localstripe, payment_id) == [order["total"]]
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 10, "reserved": 0, "available": 10}
