"""History for the growth benchmark: realistic orders and carts written with BatchWriteItem.

The items are built by the repository's own item functions (`repository/orders._item`,
`repository/carts._item`), so they carry exactly the keys and index attributes the app writes: an
order is in GSI1 (`ORDERS#<status>`) and GSI2 (`ORDERS`), an open cart with an email and lines in
the idle index (GSI2 `IDLE#<hour>`). Everything is 2 to 29 days old, as a shop's history is: paid
and shipped orders (80 %), cancelled ones (15 %), refunded ones (5 %), each with its checked-out
cart, and carts that were abandoned (reminded long ago) or never got an email. Nothing is unpaid
or idle within the last day, so the schedules find the same work at any table size.
"""

import gc
import random
from datetime import UTC, datetime, timedelta

from chalicelib import clock
from chalicelib.models import Address, CartLine, CartLineRecord, CartRecord
from chalicelib.models.orders import OrderRecord, PaymentRef, Shipment, ShipmentLine
from chalicelib.repository import carts, dynamo, orders

BATCH = 25  # BatchWriteItem's limit
ADDRESS = Address(name="Grace Hopper", line1="1 Harbour Road", city="Dublin", postal_code="D02 X285", country="IE")


def _lines(rng: random.Random, skus: list[dict]) -> list[CartLine]:
    chosen = rng.sample(skus, k=rng.randint(1, min(3, len(skus))))
    lines = []
    for sku in chosen:
        quantity = rng.randint(1, 3)
        lines.append(CartLine(sku=sku["sku"], product_id=sku["product_id"], title=sku["title"], quantity=quantity,
                              unit_price=sku["price"], line_total=sku["price"] * quantity))
    return lines


def _order_and_cart(rng: random.Random, skus: list[dict], now: datetime) -> tuple[dict, dict]:
    created = now - timedelta(days=rng.uniform(2, 29))
    created = created.replace(microsecond=0)
    lines = _lines(rng, skus)
    subtotal = sum(line.line_total for line in lines)
    shipping = 0 if subtotal >= 5000 else 495
    tax = (subtotal + shipping) * 23 // 100
    total = subtotal + shipping + tax
    roll = rng.random()
    cart_id, order_id = clock.new_id("cart"), clock.new_id("ord")
    payment = PaymentRef(provider="stripe", payment_id=f"pi_{rng.getrandbits(96):024x}",
                         client_secret=f"pi_{rng.getrandbits(96):024x}_secret_{rng.getrandbits(64):016x}",
                         status="succeeded")
    common = {"id": order_id, "cart_id": cart_id, "token": clock.new_id("tok", 24)[4:], "currency": "EUR",
              "email": f"customer{rng.getrandbits(32)}@example.com", "lines": lines, "shipping_address": ADDRESS,
              "shipping_method": "standard", "subtotal": subtotal, "shipping_total": shipping, "tax_total": tax,
              "total": total, "created_at": created, "payment_deadline": created + timedelta(minutes=30),
              "payment": payment, "version": 4}
    if roll < 0.80:
        shipped = created + timedelta(days=1)
        order = OrderRecord(**common, status="paid", payment_status="paid", fulfilment_status="shipped",
                            amount_paid=total, paid_at=created + timedelta(minutes=2), stock_released=False,
                            shipments=[Shipment(id=clock.new_id("shp", 12), carrier="DHL",
                                                tracking_number=f"JD{rng.getrandbits(60):018d}"[:20],
                                                lines=[ShipmentLine(sku=line.sku, quantity=line.quantity)
                                                       for line in lines], created_at=shipped)])
    elif roll < 0.95:
        order = OrderRecord(**common, status="cancelled", payment_status="pending", stock_released=True,
                            cancelled_at=created + timedelta(minutes=31), cancel_reason="not paid before the deadline")
    else:
        order = OrderRecord(**common, status="paid", payment_status="refunded", amount_paid=total,
                            amount_refunded=total, paid_at=created + timedelta(minutes=2))
    record = CartRecord(id=cart_id, currency="EUR", email=order.email,
                        lines=[CartLineRecord(sku=line.sku, quantity=line.quantity) for line in lines],
                        shipping_address=ADDRESS, shipping_method="standard", version=6, created_at=created,
                        updated_at=created, expires_at=int((created + timedelta(days=30)).timestamp()))
    cart = dynamo.from_item(carts._item(record))  # as saved while open, then as orders.place leaves it
    cart = {k: v for k, v in cart.items() if k not in carts.IDLE_ATTRIBUTES}
    cart |= {"status": "checked_out", "order_id": order_id, "version": 7}
    return dynamo.to_item(orders._item(order)), dynamo.to_item(cart)


def _abandoned_cart(rng: random.Random, skus: list[dict], now: datetime) -> dict:
    updated = (now - timedelta(days=rng.uniform(2, 29))).replace(microsecond=0)
    with_email = rng.random() < 0.5
    lines = [CartLineRecord(sku=line.sku, quantity=line.quantity) for line in _lines(rng, skus)]
    record = CartRecord(id=clock.new_id("cart"), currency="EUR", email="later@example.com" if with_email else None,
                        lines=lines, version=len(lines) + 1, created_at=updated - timedelta(minutes=5),
                        updated_at=updated, expires_at=int((updated + timedelta(days=30)).timestamp()))
    item = dynamo.from_item(carts._item(record))
    if with_email:  # the sweep reminded it long ago, which took it out of the idle index
        item = {k: v for k, v in item.items() if k not in carts.IDLE_ATTRIBUTES}
        item |= {"reminded_at": clock.iso(updated + timedelta(hours=1)), "version": record.version + 1}
    return dynamo.to_item(item)


def items(count: int, skus: list[dict], seed: int = 8) -> list[dict]:
    """`count` items of history (DynamoDB JSON): 40 % orders, 40 % their carts, 20 % abandoned carts."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    made: list[dict] = []
    orders_wanted = count * 2 // 5
    for _ in range(orders_wanted):
        made.extend(_order_and_cart(rng, skus, now))
    while len(made) < count:
        made.append(_abandoned_cart(rng, skus, now))
    return made[:count]


def _chunk(job: tuple[int, list[dict], int]) -> list[dict]:
    count, skus, seed = job
    return items(count, skus, seed)


def seed_table(count: int, skus: list[dict], progress=None, chunk: int = 2500) -> None:
    """Write `count` items of history with BatchWriteItem, 25 at a time (what comes back unprocessed
    is sent again). A second process builds the next items while this one writes."""
    import multiprocessing

    from bench import moto_speed

    jobs = [(min(chunk, count - start), skus, start) for start in range(0, count, chunk)]
    # Millions of long-lived objects (moto's items and stream records) make every full garbage
    # collection slower as the table grows: measured, it tripled the seeding time. They live until
    # the world ends, so the collector is off while seeding and they are frozen out of it afterwards.
    gc.disable()
    try:
        # The moto world lives in this process; the builder only makes dicts and never calls AWS.
        with multiprocessing.get_context("fork").Pool(1) as pool, moto_speed.seeding():
            for built in pool.imap(_chunk, jobs):
                write(built, progress)
    finally:
        gc.freeze()
        gc.enable()


def write(batch_of_items: list[dict], progress=None) -> None:
    """BatchWriteItem, 25 at a time, retrying what comes back unprocessed. The items are ours and
    valid, so botocore's client-side parameter validation (a quarter of the time) is skipped."""
    import boto3
    from botocore.config import Config

    client = boto3.client("dynamodb", config=Config(parameter_validation=False))
    for start in range(0, len(batch_of_items), BATCH):
        request = {dynamo.table(): [{"PutRequest": {"Item": item}} for item in batch_of_items[start:start + BATCH]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        if progress is not None:
            progress(min(BATCH, len(batch_of_items) - start))
