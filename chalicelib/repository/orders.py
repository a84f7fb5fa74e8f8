"""Orders: placing one (the checkout transaction), reading, and moving one through its states.

Every write to an order bumps its `version`; writes that read-modify-write are conditioned on the
version read, so a racing webhook, storefront or schedule re-reads instead of overwriting.
"""

import time
from collections.abc import Iterator
from datetime import timedelta

from botocore.exceptions import ClientError

from chalicelib import observability
from chalicelib.clock import iso
from chalicelib.errors import CartChanged, Conflict
from chalicelib.ordering import OrderRecord, PaymentRef
from chalicelib.repository import dynamo
from chalicelib.repository.carts import IDLE_ATTRIBUTES, cart_key
from chalicelib.repository.catalog import sku_key

EVENT_RETENTION = timedelta(days=30)


class StockShort(Conflict):
    """A SKU no longer has the stock, price or status the order was priced with."""

    def __init__(self, sku: str):
        super().__init__(f"SKU {sku} is short", code="out_of_stock")
        self.sku = sku


class DiscountRefused(Conflict):
    """The discount code's usage limit (total or per customer) or validity window refused the order."""


class OrderChanged(Conflict):
    """The order moved on since it was read."""


class DuplicateEvent(Conflict):
    """This provider event was applied already."""


def order_key(order_id: str) -> dict:
    return {"PK": f"ORDER#{order_id}", "SK": "ORDER"}


def event_key(provider: str, event_id: str) -> dict:
    return {"PK": f"EVENT#{provider}#{event_id}", "SK": "EVENT"}


def _item(order: OrderRecord) -> dict:
    stamp = f"{iso(order.created_at)}#{order.id}"
    order = order.model_copy(update={"correlation_id": observability.correlation_id() or order.correlation_id})
    return (order_key(order.id) | order.model_dump(mode="json")
            | {"GSI1PK": f"ORDERS#{order.status}", "GSI1SK": stamp, "GSI2PK": "ORDERS", "GSI2SK": stamp})


STOCK_MOVES = {
    # kind: (update, condition) on the SKU item
    "reserve": ("SET available = available - :q, reserved = reserved + :q", "available >= :q"),
    "release": ("SET available = available + :q, reserved = reserved - :q", "reserved >= :q"),
    "ship": ("SET on_hand = on_hand - :q, reserved = reserved - :q", "reserved >= :q AND on_hand >= :q"),
}


def _stock_update(sku: str, quantity: int, kind: str, price: int | None = None) -> dict:
    """Move `quantity` of a SKU: reserve (only if enough is available), release, or ship."""
    expression, condition = STOCK_MOVES[kind]
    values = {"q": quantity}
    if price is not None:
        condition += " AND price = :price AND active = :true"
        values |= {"price": price, "true": True}
    return {"Update": {"TableName": dynamo.table(), "Key": dynamo.to_item(sku_key(sku)),
                       "UpdateExpression": expression, "ConditionExpression": condition,
                       "ExpressionAttributeValues": dynamo.values(**values)}}


def all_lines(order: OrderRecord, kind: str) -> list[tuple[str, int, str]]:
    """One stock move per SKU for all the order's lines (a free line may share its SKU)."""
    return [(sku, quantity, kind) for sku, quantity in _per_sku(order).items()]


def _per_sku(order: OrderRecord) -> dict[str, int]:
    quantities: dict[str, int] = {}
    for line in order.lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    return quantities


def get(order_id: str) -> OrderRecord | None:
    item = dynamo.get(order_key(order_id))
    return OrderRecord.model_validate(item) if item else None


def place(order: OrderRecord, cart_version: int, discount_actions: list[dict] = ()) -> None:
    """The checkout transaction: write the order, reserve every SKU's stock (at the price the
    order was computed with), count the discount code's use and retire the cart at the version
    read; all or nothing. Raises StockShort naming a short SKU, DiscountRefused, CartChanged if the
    cart moved on or was checked out."""
    actions = [{"Put": {"TableName": dynamo.table(), "Item": dynamo.to_item(_item(order)),
                        "ConditionExpression": "attribute_not_exists(PK)"}}]
    prices = {line.sku: line.unit_price for line in order.lines if not line.free}
    quantities = _per_sku(order)
    actions += [_stock_update(sku, quantity, "reserve", price=prices.get(sku)) for sku, quantity in quantities.items()]
    actions += list(discount_actions)
    actions.append({"Update": {
        "TableName": dynamo.table(), "Key": dynamo.to_item(cart_key(order.cart_id)),
        # Out of the abandoned-cart idle index (carts.IDLE_ATTRIBUTES): a checked-out cart is not idle.
        "UpdateExpression": "SET #status = :done, order_id = :order, version = version + :one, updated_at = :now "
                            "REMOVE " + ", ".join(IDLE_ATTRIBUTES),
        "ConditionExpression": "#status = :open AND version = :version",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": dynamo.values(done="checked_out", order=order.id, one=1, open="open",
                                                   version=cart_version, now=iso(order.created_at)),
    }})
    try:
        dynamo.call("transact_write_items", TransactItems=actions)
    except ClientError as error:
        if dynamo.error_code(error) != "TransactionCanceledException":
            raise
        reasons = dynamo.cancellation_codes(error)
        if (reasons and reasons[-1] == "ConditionalCheckFailed") or "TransactionConflict" in reasons:
            # TransactionConflict: another transaction held one of the items (a SKU or the
            # discount code, under a sale-day rush); the caller reads again and retries.
            raise CartChanged("The cart changed while checking out.") from error
        skus = list(quantities)
        for index, reason in enumerate(reasons[1:-1]):
            if reason == "ConditionalCheckFailed":
                if index < len(skus):
                    raise StockShort(skus[index]) from error
                raise DiscountRefused(f"Discount code {order.discount_code} can no longer be used.",
                                      param="discount_code", code="discount_used_up") from error
        raise


def attach_payment(order_id: str, payment: PaymentRef) -> None:
    """Remember the provider's payment for the order (idempotent)."""
    dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(order_key(order_id)),
                UpdateExpression="SET payment = :payment, version = version + :one",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=dynamo.values(payment=payment.model_dump(), one=1))


def save(before: OrderRecord, after: OrderRecord, stock: list[tuple[str, int, str]] = (),
         event: tuple[str, str] | None = None, extra_actions: list[dict] = ()) -> OrderRecord:
    """Write `after` if the order is still at `before`'s version, with its stock moves (sku,
    quantity, "reserve" | "release" | "ship") and, when `event` (provider, event id) is given, the
    record that the event was applied, in one transaction. Raises OrderChanged (re-read and
    retry), DuplicateEvent, StockShort (a move's condition failed)."""
    saved = after.model_copy(update={"version": before.version + 1})
    actions = [{"Put": {"TableName": dynamo.table(), "Item": dynamo.to_item(_item(saved)),
                        "ConditionExpression": "version = :version",
                        "ExpressionAttributeValues": dynamo.values(version=before.version)}}]
    actions += [_stock_update(sku, quantity, kind) for sku, quantity, kind in stock]
    actions += list(extra_actions)
    if event:
        expires = int(time.time() + EVENT_RETENTION.total_seconds())
        actions.append({"Put": {"TableName": dynamo.table(),
                                "Item": dynamo.to_item(event_key(*event) | {"order_id": before.id,
                                                                            "expires_at": expires}),
                                "ConditionExpression": "attribute_not_exists(PK)"}})
    try:
        dynamo.call("transact_write_items", TransactItems=actions)
    except ClientError as error:
        if dynamo.error_code(error) != "TransactionCanceledException":
            raise
        reasons = dynamo.cancellation_codes(error)
        if event and reasons and reasons[-1] == "ConditionalCheckFailed":
            raise DuplicateEvent("This event was applied already.") from error
        if (reasons and reasons[0] == "ConditionalCheckFailed") or "TransactionConflict" in reasons:
            raise OrderChanged("The order changed meanwhile.") from error
        for index, reason in enumerate(reasons[1:1 + len(stock)]):
            if reason == "ConditionalCheckFailed":
                raise StockShort(stock[index][0]) from error
        raise
    return saved


def event_seen(provider: str, event_id: str) -> bool:
    return dynamo.get(event_key(provider, event_id)) is not None


def each_pending_created_before(cutoff: str, page: int = 100) -> Iterator[OrderRecord]:
    """Unpaid orders created before `cutoff` (ISO), oldest first, page by page from the sparse status
    partition of GSI1: its size is the number of unpaid orders, not the number of orders."""
    cursor = None
    while True:
        items, cursor = dynamo.query_page("GSI1", "GSI1PK", "ORDERS#pending_payment", page, cursor,
                                          sk_condition=" AND #sk < :cutoff", cutoff=cutoff)
        yield from (OrderRecord.model_validate(item) for item in items)
        if not cursor:
            return


def mark_fulfilment_requested(order_id: str) -> bool:
    """Move a paid, unfulfilled order's fulfilment to `requested`. Idempotent: returns False when it
    was not unfulfilled-and-paid (already requested, shipped, or not paid)."""
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(order_key(order_id)),
                    UpdateExpression="SET fulfilment_status = :requested, version = version + :one",
                    ConditionExpression="#status = :paid AND fulfilment_status = :unfulfilled",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(requested="requested", one=1, paid="paid",
                                                            unfulfilled="unfulfilled"))
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


def list_recent(status: str | None, limit: int, cursor: str | None) -> tuple[list[OrderRecord], str | None]:
    """Orders newest first, all of them (GSI2) or one status (GSI1's status partitions)."""
    if status:
        items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", f"ORDERS#{status}", limit, cursor, newest_first=True)
    else:
        items, next_cursor = dynamo.query_page("GSI2", "GSI2PK", "ORDERS", limit, cursor, newest_first=True)
    return [OrderRecord.model_validate(item) for item in items], next_cursor
