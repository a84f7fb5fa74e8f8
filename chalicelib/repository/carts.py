"""Carts: one item per cart, written with optimistic concurrency on `version`."""

import time

from botocore.exceptions import ClientError

from chalicelib.errors import CartChanged
from chalicelib.models import CartRecord
from chalicelib.repository import dynamo


def cart_key(cart_id: str) -> dict:
    return {"PK": f"CART#{cart_id}", "SK": "CART"}


def get(cart_id: str) -> CartRecord | None:
    """The cart, or None if it does not exist or has expired (TTL deletion lags)."""
    item = dynamo.get(cart_key(cart_id))
    if not item or item.get("expires_at", 0) < time.time():
        return None
    return CartRecord.model_validate(item)


def create(cart: CartRecord) -> None:
    dynamo.call("put_item", TableName=dynamo.table(),
                Item=dynamo.to_item(cart_key(cart.id) | cart.model_dump(mode="json")),
                ConditionExpression="attribute_not_exists(PK)")


def save(cart: CartRecord) -> CartRecord:
    """Write `cart` if nobody changed it since it was read (its version is bumped). Raises
    CartChanged if the stored cart moved on or was checked out meanwhile."""
    saved = cart.model_copy(update={"version": cart.version + 1})
    try:
        dynamo.call("put_item", TableName=dynamo.table(),
                    Item=dynamo.to_item(cart_key(cart.id) | saved.model_dump(mode="json")),
                    ConditionExpression="version = :version AND #status = :open",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(version=cart.version, open="open"))
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            raise CartChanged("The cart was changed by another request; read it again.") from error
        raise
    return saved
