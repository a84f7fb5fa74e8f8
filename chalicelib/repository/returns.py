"""Returns (RMA): the return items, the order's returned counts and `return_status`, restocks with their stock
ledger entries, and the yearly return-number counter.

| item                   | key                                                                          |
| ---------------------- | ---------------------------------------------------------------------------- |
| a return               | PK=`RETURN#<id>`, SK=`RETURN`; GSI1 `RETURNS#<status>`, `<created_at>#<id>`  |
|                        | (oldest first per status); GSI2 `RETURNS_OF#<order id>`, `<created_at>#<id>` |
| return numbers         | PK=`COUNTER#RETURNS#<year>`, SK=`COUNTER` (ADD 1)                            |

Every write of a return is conditioned on the version read; the order's `returned` counts are raised with
a condition per SKU (`returned <= shipped - quantity`), so concurrent requests can never return a unit
twice, whatever the versions they read.
"""

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.errors import OrderChanged
from chalicelib.models import SkuRecord
from chalicelib.models.orders import OrderRecord
from chalicelib.models.returns import ReturnRecord
from chalicelib.repository import catalog, dynamo, ledger, orders


class Exceeded(Exception):
    """A SKU's returned units would exceed what was shipped: a concurrent return took them (read again)."""


class Moved(Exception):
    """A restocked SKU's on_hand changed between the read and the write: read again."""


def return_key(return_id: str) -> dict:
    return {"PK": f"RETURN#{return_id}", "SK": "RETURN"}


def counter_key(year: int) -> dict:
    return {"PK": f"COUNTER#RETURNS#{year}", "SK": "COUNTER"}


def _item(record: ReturnRecord) -> dict:
    stamp = f"{record.listed_at or iso(record.created_at)}#{record.id}"
    return (return_key(record.id) | record.model_dump(mode="json")
            | {"GSI1PK": f"RETURNS#{record.status}", "GSI1SK": stamp,
               "GSI2PK": f"RETURNS_OF#{record.order_id}", "GSI2SK": stamp})


def _order_status(record: ReturnRecord, give_back: dict[str, int] | None = None,
                  name: str = "order") -> dynamo.Piece:
    """The order's `return_status` follows its return (and a rejected return's units are returnable again)."""
    expression = "SET return_status = :status, version = version + :one"
    names, extra = {}, {}
    for index, (sku, quantity) in enumerate((give_back or {}).items()):
        names[f"#s{index}"] = sku
        extra[f"g{index}"] = quantity
        expression += f", returned.#s{index} = returned.#s{index} - :g{index}"
    return dynamo.update(name, orders.order_key(record.order_id), expression, "attribute_exists(PK)",
                         names=names or None, status=record.status, one=1, **extra)


def get(return_id: str) -> ReturnRecord | None:
    item = dynamo.get(return_key(return_id))
    return ReturnRecord.model_validate(item) if item else None


def create(order: OrderRecord, record: ReturnRecord, limits: dict[str, int]) -> ReturnRecord:
    """Write the return and raise the order's returned count of each SKU by its quantity, if each count
    stays within `limits` (sku -> units shipped), in one transaction. Raises Exceeded (read again to say
    which SKU), OrderChanged on a transaction conflict (retry)."""
    if order.returned is None:
        # The order's first return: the map the counts live in (a nested path needs its parent).
        try:
            dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(orders.order_key(order.id)),
                        # A new version: a writer that read the order before cannot put it back without the map.
                        UpdateExpression="SET returned = :empty, version = version + :one",
                        ConditionExpression="attribute_exists(PK) AND attribute_not_exists(returned)",
                        ExpressionAttributeValues=dynamo.values(empty={}, one=1))
        except ClientError as error:
            if dynamo.error_code(error) != "ConditionalCheckFailedException":
                raise
    # clock.now() is to the second: the list keeps the order of returns asked for within one second.
    record = record.model_copy(update={"listed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    units: dict[str, int] = {}
    for line in record.lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    expression, conditions, names, values = [], ["attribute_exists(PK)"], {}, {"zero": 0, "one": 1,
                                                                              "status": record.status}
    for index, (sku, quantity) in enumerate(units.items()):
        names[f"#s{index}"] = sku
        values |= {f"q{index}": quantity, f"l{index}": limits[sku] - quantity}
        expression.append(f"returned.#s{index} = if_not_exists(returned.#s{index}, :zero) + :q{index}")
        conditions.append(f"(attribute_not_exists(returned.#s{index}) OR returned.#s{index} <= :l{index})")
    pieces = [
        dynamo.update("order", orders.order_key(order.id),
                      "SET " + ", ".join(expression) + ", return_status = :status, version = version + :one",
                      " AND ".join(conditions), names=names, **values),
        dynamo.put("return", _item(record), "attribute_not_exists(PK)"),
    ]
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.conflict:
            raise OrderChanged("Another request changed the order's returns.") from cancelled
        if cancelled.failed("order"):
            raise Exceeded from cancelled
        raise
    return record


def save(before: ReturnRecord, after: ReturnRecord, give_back: dict[str, int] | None = None,
         order_status: bool = True) -> ReturnRecord:
    """Write `after` if the return is still at `before`'s version, with the order's `return_status`
    (unless not `order_status`) and, for a rejection, its units given back (`give_back`), in one
    transaction. Raises OrderChanged (read again and retry)."""
    saved = after.model_copy(update={"version": before.version + 1})
    pieces = [dynamo.put("return", _item(saved), "version = :version", version=before.version)]
    if order_status:
        pieces.append(_order_status(saved, give_back))
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("return") or cancelled.conflict:
            raise OrderChanged("The return changed meanwhile.") from cancelled
        raise
    return saved


def receive(before: ReturnRecord, after: ReturnRecord, restocks: list[tuple[SkuRecord, int, dict]]) -> ReturnRecord:
    """Record the goods received: the return at `before`'s version, the order's `return_status`, and for
    each restock (the SKU as read, quantity, ledger entry) its quantity back to on_hand and available with
    its stock ledger entry, conditioned on on_hand being what was read (so the entry's before is exact), in
    one transaction: restocked exactly once. Raises OrderChanged (the return moved on), Moved (a SKU's stock
    moved: read again)."""
    saved = after.model_copy(update={"version": before.version + 1})
    pieces = [dynamo.put("return", _item(saved), "version = :version", version=before.version),
              _order_status(saved)]
    for sku, quantity, entry in restocks:
        # Shard 0 (the SKU item itself) takes the goods back for a sharded SKU: reads sum the shards.
        pieces.append(dynamo.update(f"stock:{sku.sku}", catalog.sku_key(sku.sku),
                                    "SET on_hand = on_hand + :q, available = available + :q",
                                    "attribute_exists(PK) AND on_hand = :was", q=quantity,
                                    was=sku.shard_levels[0].on_hand if sku.shard_levels else sku.on_hand))
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        pieces.append(dynamo.put(f"entry:{sku.sku}", ledger.entry_key(sku.sku, stamp, entry["id"])
                                 | entry | {"at": iso(entry["at"]), "sku": sku.sku}, "attribute_not_exists(PK)"))
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("return"):
            raise OrderChanged("The return changed meanwhile.") from cancelled
        if cancelled.first_failed("stock:") or cancelled.conflict:
            raise Moved from cancelled
        raise
    return saved


def settle_as_order(before: ReturnRecord, after: ReturnRecord, order: OrderRecord) -> None:
    """Place the exchange `order` (stock reserved like a checkout: orders.place) and record the return at
    `before`'s version as settled by it, in one transaction: one exchange order per return. Raises
    OrderChanged (the return moved on), StockShort, CartChanged (a transaction conflict: retry)."""
    saved = after.model_copy(update={"version": before.version + 1})
    try:
        orders.place(order, None, extra=[dynamo.put("return", _item(saved), "version = :version",
                                                    version=before.version),
                                         _order_status(saved, name="returned_order")])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("return"):
            raise OrderChanged("The return changed meanwhile.") from cancelled
        raise


def next_number(year: int) -> int:
    """The next return number of `year` (1, 2, ...): unique, not gap-free (a lost race skips one)."""
    answer = dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(counter_key(year)),
                         UpdateExpression="ADD n :one", ExpressionAttributeValues=dynamo.values(one=1),
                         ReturnValues="UPDATED_NEW")
    return int(dynamo.from_item(answer["Attributes"])["n"])


def list_by_status(status: str, limit: int, cursor: str | None) -> tuple[list[ReturnRecord], str | None]:
    """Returns in `status`, oldest first."""
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", f"RETURNS#{status}", limit, cursor)
    return [ReturnRecord.model_validate(item) for item in items], next_cursor


def list_for_order(order_id: str) -> list[ReturnRecord]:
    """An order's returns, oldest first (at most 100: a few per order in practice)."""
    items, _ = dynamo.query_page("GSI2", "GSI2PK", f"RETURNS_OF#{order_id}", 100, None)
    return [ReturnRecord.model_validate(item) for item in items]
