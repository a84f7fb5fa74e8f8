"""Scheduled sales.

| pattern                              | key or index                                          |
| ------------------------------------ | ----------------------------------------------------- |
| sale by id                           | PK=SALE#<id>, SK=SALE                                 |
| sales, newest first                  | GSI2: GSI2PK=SALES, GSI2SK=<created_at>#<id>          |
| sales due to start                   | GSI1: GSI1PK=SALES#starts, GSI1SK=<starts_at>#<id>    |
| sales due to end                     | GSI1: GSI1PK=SALES#ends, GSI1SK=<ends_at>#<id>        |

A sale sits in one of the two schedule partitions at a time (sparse: an ended sale in neither), so
the schedule reads only what is due, never the table; its moves are conditioned on the status read.
"""

from datetime import datetime

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.models.sales import SaleRecord
from chalicelib.repository import dynamo


def sale_key(sale_id: str) -> dict:
    return {"PK": f"SALE#{sale_id}", "SK": "SALE"}


def create(sale: SaleRecord) -> None:
    """Write a new sale, due to start at its `starts_at`."""
    item = sale_key(sale.id) | sale.model_dump(mode="json") | {
        "GSI1PK": "SALES#starts", "GSI1SK": f"{iso(sale.starts_at)}#{sale.id}",
        "GSI2PK": "SALES", "GSI2SK": f"{iso(sale.created_at)}#{sale.id}"}
    dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(item),
                ConditionExpression="attribute_not_exists(PK)")


def get(sale_id: str) -> SaleRecord | None:
    item = dynamo.get(sale_key(sale_id))
    return SaleRecord.model_validate(item) if item else None


def list_recent(limit: int, cursor: str | None) -> tuple[list[SaleRecord], str | None]:
    items, next_cursor = dynamo.query_page("GSI2", "GSI2PK", "SALES", limit, cursor, newest_first=True)
    return [SaleRecord.model_validate(item) for item in items], next_cursor


def due(edge: str, now: datetime) -> list[SaleRecord]:
    """The sales whose start (`edge` "starts") or end ("ends") is at or before `now`, oldest first."""
    found, start = [], None
    while True:
        kwargs = {"TableName": dynamo.table(), "IndexName": "GSI1",
                  "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK <= :now",
                  "ExpressionAttributeValues": dynamo.values(pk=f"SALES#{edge}", now=iso(now) + "#~")}
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = dynamo.call("query", **kwargs)
        found += [SaleRecord.model_validate(dynamo.from_item(item)) for item in answer["Items"]]
        start = answer.get("LastEvaluatedKey")
        if not start:
            return found


def _move(sale: SaleRecord, expression: str, was: str, condition: str = "", **values) -> bool:
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(sale_key(sale.id)),
                    UpdateExpression=expression, ConditionExpression="#status = :was" + condition,
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(was=was, **values))
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False  # another run of the schedule moved it first
        raise
    return True


def fix_targets(sale: SaleRecord, skus: list[str]) -> list[str]:
    """Write the SKUs the starting sale lowers, once: before any is lowered, so a run that stops half-way
    is finished by the next on the same SKUs, and the end gives back exactly those. Returns the SKUs
    fixed (another run's, when it fixed them first)."""
    if _move(sale, "SET applied_skus = :skus", "scheduled", " AND size(applied_skus) = :zero", skus=skus, zero=0):
        return skus
    return get(sale.id).applied_skus


def mark_started(sale: SaleRecord, now: datetime) -> bool:
    """The sale is on: due to end at its `ends_at` (False if another run marked it first)."""
    return _move(sale, "SET #status = :active, started_at = :now, GSI1PK = :pk, GSI1SK = :sk",
                 "scheduled", active="active", now=iso(now), pk="SALES#ends",
                 sk=f"{iso(sale.ends_at)}#{sale.id}")


def mark_ended(sale: SaleRecord, now: datetime) -> bool:
    """The sale is over (from scheduled or active): out of both schedule partitions."""
    return _move(sale, "SET #status = :ended, ended_at = :now REMOVE GSI1PK, GSI1SK", sale.status,
                 ended="ended", now=iso(now))
