"""Discount codes and their usage counters.

| pattern                              | key or index                                          |
| ------------------------------------ | ----------------------------------------------------- |
| discount by code                     | PK=DISCOUNT#<CODE>, SK=DISCOUNT                       |
| discounts, newest first              | GSI1: GSI1PK=DISCOUNTS, GSI1SK=<created_at>#<id>      |
| uses of a code by one customer       | PK=DISCOUNT#<CODE>, SK=USE#<sha256 of the email>      |

Usage is counted inside the checkout transaction (`redeem`, pieces of `orders.place`) with conditions
on the limits, so N concurrent checkouts of a code limited to N uses all succeed and the next one
fails; an unpaid order that expires or is cancelled gives its use back (`give_back`, pieces of
`orders.save`).
"""

import hashlib

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.errors import ResourceExists
from chalicelib.models import DiscountRecord, SkuRecord
from chalicelib.repository import catalog, dynamo
from chalicelib.repository.catalog import sku_key


def discount_key(code: str) -> dict:
    return {"PK": f"DISCOUNT#{code.upper()}", "SK": "DISCOUNT"}


def customer_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def usage_key(code: str, email: str) -> dict:
    return {"PK": f"DISCOUNT#{code.upper()}", "SK": f"USE#{customer_hash(email)}"}


def create(discount: DiscountRecord) -> None:
    """Raises Conflict if the code exists already."""
    item = discount_key(discount.code) | discount.model_dump(mode="json") | {
        "GSI1PK": "DISCOUNTS", "GSI1SK": f"{iso(discount.created_at)}#{discount.id}"}
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(item),
                    ConditionExpression="attribute_not_exists(PK)", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as error:
        existing = dynamo.from_item(error.response.get("Item")) or {}
        if existing.get("id") == discount.id:
            return  # botocore retried a put whose first attempt landed
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            raise ResourceExists(f"Discount code {discount.code} exists already.", param="code") from error
        raise


def disable(code: str, now: str) -> DiscountRecord | None:
    """End the code now (ends_at and disabled_at), unless it has ended already; the code as it is then,
    or None if there is no such code. Checkout's redeem condition (ends_at > now) refuses it from then."""
    try:
        answer = dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(discount_key(code)),
                             UpdateExpression="SET ends_at = :now, disabled_at = :now",
                             ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(ends_at) OR "
                                                 "ends_at > :now)",
                             ExpressionAttributeValues=dynamo.values(now=now), ReturnValues="ALL_NEW")
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise
        return get(code)
    return DiscountRecord.model_validate(dynamo.from_item(answer["Attributes"]))


def get(code: str) -> DiscountRecord | None:
    item = dynamo.get(discount_key(code))
    return DiscountRecord.model_validate(item) if item else None


def list_recent(limit: int, cursor: str | None) -> tuple[list[DiscountRecord], str | None]:
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", "DISCOUNTS", limit, cursor, newest_first=True)
    return [DiscountRecord.model_validate(item) for item in items], next_cursor


def get_with_skus(code: str | None, skus: list[str]) -> tuple[DiscountRecord | None, dict[str, SkuRecord]]:
    """A cart's discount code and SKUs in one BatchGetItem (and one more for the shards of sharded
    SKUs, summed as catalog.get_skus does)."""
    keys = [sku_key(s) for s in skus] + ([discount_key(code)] if code else [])
    if not keys:
        return None, {}
    discount, found = None, {}
    for item in dynamo.batch_get(keys):
        if item["SK"] == "DISCOUNT":
            discount = DiscountRecord.model_validate(item)
        else:
            found[item["sku"]] = SkuRecord.model_validate(item)
    return discount, catalog.with_shards(found)


def redeem(discount: DiscountRecord, email: str, now: str) -> list[dynamo.Piece]:
    """Checkout transaction pieces counting one use of the code, conditioned on its limits and
    window: "discount" and, for a per-customer limit, "discount_use"."""
    conditions = ["attribute_exists(PK)",
                  "(attribute_not_exists(usage_limit) OR times_used < usage_limit)",
                  "(attribute_not_exists(ends_at) OR ends_at > :now)",
                  "(attribute_not_exists(starts_at) OR starts_at <= :now)"]
    pieces = [dynamo.update("discount", discount_key(discount.code), "SET times_used = times_used + :one",
                            " AND ".join(conditions), one=1, now=now)]
    if discount.per_customer_limit is not None:
        pieces.append(dynamo.update("discount_use", usage_key(discount.code, email), "ADD uses :one",
                                    "attribute_not_exists(uses) OR uses < :limit",
                                    one=1, limit=discount.per_customer_limit))
    return pieces


def give_back(code: str, email: str, per_customer: bool) -> list[dynamo.Piece]:
    """Transaction pieces returning one use of the code (an unpaid order expired or was cancelled):
    "discount" and, for a per-customer limit, "discount_use"."""
    pieces = [dynamo.update("discount", discount_key(code), "SET times_used = times_used - :one",
                            "times_used >= :one", one=1)]
    if per_customer:
        pieces.append(dynamo.update("discount_use", usage_key(code, email), "ADD uses :minus", "uses >= :one",
                                    minus=-1, one=1))
    return pieces
