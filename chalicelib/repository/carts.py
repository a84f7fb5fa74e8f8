"""Carts: one item per cart, written with optimistic concurrency on `version`.

An open cart with an email and at least one line, not yet reminded, is also in the sparse idle
index (GSI2): GSI2PK=`IDLE#<YYYY-MM-DDTHH>` (the hour of its `updated_at`), GSI2SK=`<updated_at>#<id>`.
Every save moves it to the hour of its latest change; checkout (repository/orders.place) and the
reminder remove it. The abandoned-cart sweep reads the hours it has not swept yet, and remembers
how far it got in one small item (PK=`SWEEP#abandoned_carts`, SK=`SWEEP`).
"""

import time

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.errors import CartChanged
from chalicelib.models import CartRecord
from chalicelib.repository import dynamo

IDLE_INDEX = "GSI2"
IDLE_ATTRIBUTES = ("GSI2PK", "GSI2SK")  # what retiring a cart must REMOVE


def cart_key(cart_id: str) -> dict:
    return {"PK": f"CART#{cart_id}", "SK": "CART"}


def sweep_key() -> dict:
    return {"PK": "SWEEP#abandoned_carts", "SK": "SWEEP"}


def idle_hour(stamp: str) -> str:
    """The idle-index partition of an ISO timestamp: `IDLE#2026-11-22T10`."""
    return f"IDLE#{stamp[:13]}"


def _idle_keys(cart: CartRecord) -> dict:
    if cart.status != "open" or not cart.email or not cart.lines or getattr(cart, "reminded_at", None):
        return {}
    stamp = iso(cart.updated_at)
    return {"GSI2PK": idle_hour(stamp), "GSI2SK": f"{stamp}#{cart.id}"}


def _item(cart: CartRecord) -> dict:
    return dynamo.to_item(cart_key(cart.id) | cart.model_dump(mode="json") | _idle_keys(cart))


def get(cart_id: str) -> CartRecord | None:
    """The cart, or None if it does not exist or has expired (TTL deletion lags)."""
    item = dynamo.get(cart_key(cart_id))
    if not item or item.get("expires_at", 0) < time.time():
        return None
    return CartRecord.model_validate(item)


def create(cart: CartRecord) -> CartRecord | None:
    """Write a new cart unless a live one has its id: None when written, else that cart (returned by
    the refused put itself). With a random id of 128 bits that is a put botocore resent after a
    timeout, whose first send landed; with an id derived from an Idempotency-Key, the key's cart."""
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=_item(cart),
                    ConditionExpression="attribute_not_exists(PK) OR expires_at < :now",
                    ExpressionAttributeValues=dynamo.values(now=int(time.time())),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise
        return CartRecord.model_validate(dynamo.from_item(error.response["Item"]))
    return None


def save(cart: CartRecord) -> CartRecord:
    """Write `cart` if nobody changed it since it was read (its version is bumped). Raises
    CartChanged if the stored cart moved on or was checked out meanwhile."""
    saved = cart.model_copy(update={"version": cart.version + 1})
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=_item(saved),
                    ConditionExpression="version = :version AND #status = :open",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(version=cart.version, open="open"))
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            raise CartChanged("The cart was changed by another request; read it again.") from error
        raise
    return saved


def stamp_shown(cart: CartRecord, shown_prices: dict[str, int], at: str) -> None:
    """Record what a read of the cart showed and when (checkout's grace after a sale), if the cart is
    still at the version read. Not a change of the cart: its version stays, so no save or checkout
    racing it has to read again; one that moved it on wins and this is dropped."""
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(cart_key(cart.id)),
                    UpdateExpression="SET priced_at = :at, shown_prices = :shown",
                    ConditionExpression="version = :version AND #status = :open",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(at=at, shown=shown_prices, version=cart.version,
                                                            open="open"))
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise


# --- abandoned carts -------------------------------------------------------------------------


def list_idle(hour: str, start: str, end: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """Carts of the idle index's `hour` partition whose last change was at or after `start` and
    before `end` (ISO timestamps), oldest first, as stored (the index projects every attribute)."""
    return dynamo.query_page(IDLE_INDEX, "GSI2PK", idle_hour(hour), limit, cursor,
                             sk_condition=" AND #sk BETWEEN :start AND :end", start=start, end=end)


def mark_reminded(cart_id: str, version: int, reminded_at: str, reminder: dict) -> bool:
    """Record that the cart, unchanged since `version`, is reminded now, with what the reminder
    shows (`reminder`); the stream relay turns this into its CartAbandoned email. Takes it out of
    the idle index and bumps the version (a save racing it reads again). Returns False, writing
    nothing, when it was reminded already (an overlapping sweep), changed or checked out meanwhile."""
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(cart_key(cart_id)),
                    UpdateExpression="SET reminded_at = :now, reminder = :reminder, version = version + :one "
                                     "REMOVE " + ", ".join(IDLE_ATTRIBUTES),
                    ConditionExpression="version = :version AND #status = :open AND attribute_not_exists(reminded_at)",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(now=reminded_at, reminder=reminder, one=1,
                                                            version=version, open="open"))
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


def mark_recovered(cart_id: str) -> bool:
    """Mark an open cart as recovered through its reminder link (`recovered: true`; checkout
    copies it to the order). Idempotent: False when it is missing, not open or marked already."""
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(cart_key(cart_id)),
                    UpdateExpression="SET recovered = :true, version = version + :one",
                    ConditionExpression="attribute_exists(PK) AND #status = :open "
                                        "AND (attribute_not_exists(recovered) OR recovered = :false)",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(true=True, false=False, one=1, open="open"))
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


def sweep_position() -> str | None:
    """Up to which `updated_at` (exclusive, ISO) the abandoned-cart sweep has looked, if it ran."""
    item = dynamo.get(sweep_key())
    return item.get("position") if item else None


def save_sweep_position(position: str) -> None:
    """Move the sweep's position forward; never back (an overlapping sweep that finishes later)."""
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(sweep_key() | {"position": position}),
                    ConditionExpression="attribute_not_exists(PK) OR #position < :position",
                    ExpressionAttributeNames={"#position": "position"},
                    ExpressionAttributeValues=dynamo.values(position=position))
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise


def merge(account: CartRecord, guest: CartRecord) -> CartRecord:
    """Write the account's cart with the guest cart's lines merged in and the emptied guest cart, both on
    the versions read, in one transaction (so the lines move exactly once). Raises CartChanged."""
    saved = account.model_copy(update={"version": account.version + 1})
    emptied = guest.model_copy(update={"version": guest.version + 1})
    condition = "version = :version AND #status = :open"
    pieces = [dynamo.Piece(name, {"Put": {"TableName": dynamo.table(), "Item": _item(cart),
                                          "ConditionExpression": condition,
                                          "ExpressionAttributeNames": {"#status": "status"},
                                          "ExpressionAttributeValues": dynamo.values(version=before.version,
                                                                                     open="open")}})
              for name, cart, before in (("account", saved, account), ("guest", emptied, guest))]
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        raise CartChanged("A cart changed while merging; read them again.") from cancelled
    return saved
