"""Quotes (models/quotes.py).

| pattern                            | key or index                                  |
| ---------------------------------- | --------------------------------------------- |
| quote by id                        | PK=QUOTE#<id>, SK=QUOTE                       |
| quotes by status, oldest first     | GSI1: QUOTES#<status>, <created_at>#<id>      |
| accept a quote (checkout)          | a piece of orders.place's transaction         |
"""

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.models.quotes import QuoteRecord
from chalicelib.repository import dynamo


def quote_key(quote_id: str) -> dict:
    return {"PK": f"QUOTE#{quote_id}", "SK": "QUOTE"}


def _item(quote: QuoteRecord) -> dict:
    return (quote_key(quote.id) | quote.model_dump(mode="json")
            | {"GSI1PK": f"QUOTES#{quote.status}", "GSI1SK": f"{iso(quote.created_at)}#{quote.id}"})


def get(quote_id: str) -> QuoteRecord | None:
    item = dynamo.get(quote_key(quote_id))
    return QuoteRecord.model_validate(item) if item else None


def create(quote: QuoteRecord) -> None:
    """Write a new quote (ids are random: a retry with the same Idempotency-Key is answered by the key layer)."""
    dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(_item(quote)),
                ConditionExpression="attribute_not_exists(PK)")


def save(before: QuoteRecord, after: QuoteRecord) -> bool:
    """Write `after` if the quote is still at `before`'s version; False when it moved on (read again)."""
    saved = after.model_copy(update={"version": before.version + 1})
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(_item(saved)),
                    ConditionExpression="version = :version", ExpressionAttributeValues=dynamo.values(
                        version=before.version))
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


def accept(quote: QuoteRecord, order_id: str, at: str) -> dynamo.Piece:
    """The piece "quote" of the checkout transaction: the answered quote, still at the version read and
    not expired at `at`, becomes accepted with its order (one order per quote)."""
    return dynamo.update(
        "quote", quote_key(quote.id),
        "SET #status = :accepted, order_id = :order, accepted_at = :at, version = version + :one, GSI1PK = :index",
        "version = :version AND #status = :answered AND expires_at > :at", {"#status": "status"},
        accepted="accepted", order=order_id, at=at, one=1, index="QUOTES#accepted", version=quote.version,
        answered="answered")


def list_by_status(status: str, limit: int, cursor: str | None) -> tuple[list[QuoteRecord], str | None]:
    """Quotes of one status, oldest first (the shop's inbox)."""
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", f"QUOTES#{status}", limit, cursor)
    return [QuoteRecord.model_validate(item) for item in items], next_cursor
