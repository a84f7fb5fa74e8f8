"""Reading the audit log: one partition per month (`AUDIT#2026-12`), records sorted by time (chalicelib/audit.py
writes them). A page walks the months newest first with Query (SK between the days asked), filtering by actor
and resource prefix; never a Scan."""

import base64
import binascii
import json

from chalicelib import audit
from chalicelib.errors import InvalidRequest
from chalicelib.repository import dynamo

MAX_QUERIES = 40  # per page: a page of a sparse filter stops early with a cursor to go on


def _cursor(month: str, sk: str | None) -> str:
    raw = json.dumps({"m": month, "sk": sk}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _start(cursor: str | None, months: list[str]) -> tuple[int, str | None]:
    if not cursor:
        return 0, None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        month, sk = raw["m"], raw["sk"]
        if month in months and (sk is None or isinstance(sk, str)):
            return months.index(month), sk
    except (ValueError, binascii.Error, UnicodeDecodeError, KeyError, TypeError):
        pass
    raise InvalidRequest("The cursor is not valid for this listing.", param="cursor")


def _entry(item: dict) -> dict:
    return {"id": item["id"], "actor": item["actor"], "action": item["action"], "resource": item["resource"],
            "before": json.loads(item.get("before") or "null"), "after": json.loads(item.get("after") or "null"),
            "at": item["at"]}


def page(months: list[str], low: str, high: str, actor: str | None, resource: str | None, limit: int,
         cursor: str | None) -> tuple[list[dict], str | None]:
    """Records at `low` <= at <= `high` (ISO strings), newest first, in `months` (newest first)."""
    index, after_sk = _start(cursor, months)
    found: list[dict] = []
    filters, extra = [], {}
    if actor:
        filters.append("actor = :actor")
        extra["actor"] = actor
    if resource:
        filters.append("begins_with(#resource, :resource)")
        extra["resource"] = resource
    queries = 0
    while index < len(months) and queries < MAX_QUERIES:
        kwargs = {"TableName": dynamo.table(), "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
                  "ExpressionAttributeValues": dynamo.values(pk=audit.partition(months[index]), low=low,
                                                             high=high + "~", **extra),
                  "ScanIndexForward": False, "Limit": limit - len(found)}
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
            if resource:
                kwargs["ExpressionAttributeNames"] = {"#resource": "resource"}
        if after_sk:
            kwargs["ExclusiveStartKey"] = dynamo.to_item({"PK": audit.partition(months[index]), "SK": after_sk})
        answer = dynamo.call("query", **kwargs)
        queries += 1
        found.extend(_entry(dynamo.from_item(item)) for item in answer["Items"])
        last = answer.get("LastEvaluatedKey")
        after_sk = dynamo.from_item(last)["SK"] if last else None
        if not last:
            index += 1
        if len(found) >= limit:
            break
    if index >= len(months):
        return found, None
    return found, _cursor(months[index], after_sk)


def write_alone(before: dict | None, after: dict | None, items: tuple[dict, ...] = ()) -> None:
    """The audit record of the open admin write whose change is not in DynamoDB (a staff user in Cognito):
    written on its own right after that change succeeded, with its `before`/`after` (keyed by a label such
    as "STAFF#<username>"). `items` (TransactWriteItems actions, e.g. repository/staff.revoke_tokens) are
    written with it in one transaction, as they are (not audited themselves: the record says what changed).
    Outside an admin write's audit context no record, `items` alone. Raises ClientError
    (TransactionCanceledException: an item's condition failed, nothing written)."""
    context = audit.current()
    if context is None:
        if items:
            dynamo.raw_call("transact_write_items", TransactItems=list(items))
        return
    item = audit.record(context, before, after)
    if not items:
        dynamo.raw_call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(item))
        return
    record = {"Put": {"TableName": dynamo.table(), "Item": dynamo.to_item(item),
                      "ConditionExpression": "attribute_not_exists(PK)"}}
    # The record's id as the request token, as repository/audited.py does: a resent transaction is answered
    # as the first attempt was.
    dynamo.raw_call("transact_write_items", TransactItems=[*items, record], ClientRequestToken=item["id"])
