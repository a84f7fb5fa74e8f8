"""The shop's customer view: a customer's figures, the segment indexes and their counts, the
last-order-day buckets the win-back sweep reads. All kept by the stream relay and the sweep
(services/crm.py); the `PROFILE` item of a customer belongs to the accounts side, only read here for
marketing consent.

| item / index                         | key                                                             |
| ------------------------------------ | --------------------------------------------------------------- |
| a customer's figures                 | PK=CUSTOMER#<cus_id>, SK=STATS                                  |
|   customers, newest first            | GSI1: CUSTOMERS, <created_at>#<cus_id>                          |
|   customers by last order            | GSI2: CUSTOMERS#LAST_ORDER, <last_order_at>#<cus_id>            |
| a customer's paid orders             | PK=CUSTOMER#<cus_id>, SK=PAID_ORDER#<paid_at>#<order_id>        |
| members of a segment                 | PK=SEGMENT#<segment>, SK=<last_order_at>#<cus_id>               |
| customers per segment                | PK=SEGMENTS, SK=SEGMENT#<segment> (count, ADD ±1)               |
| customers by the day of last order   | PK=LAST_ORDER_DAY#<YYYY-MM-DD>, SK=<cus_id>                     |
| where the sweep stopped              | PK=SWEEP#customers, SK=SWEEP                                    |

Every change of a customer is one transaction: the figures on the version read, the segment counts,
the index items that moved, the marker of the order change it applies (so a redelivered stream
record counts nothing twice) and, for a lapse, the win-back discount code. The `SEGMENTS` counters
and the `CUSTOMERS` index partitions take a write per first order or segment change: past a few
hundred such changes a second they would need sharding like the report counters.
"""

import time

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.models import DiscountRecord
from chalicelib.models.crm import CustomerStats
from chalicelib.models.orders import OrderRecord
from chalicelib.repository import dynamo
from chalicelib.repository.discounts import discount_key
from chalicelib.repository.orders import order_key
from chalicelib.repository.reports import MARKER_RETENTION, marker_key

SWEEP_KEY = {"PK": "SWEEP#customers", "SK": "SWEEP"}


class StatsChanged(Exception):
    """The customer's figures changed since they were read: read again and retry."""


def stats_key(customer_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": "STATS"}


def profile_key(customer_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": "PROFILE"}


def paid_order_key(customer_id: str, paid_at: str, order_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": f"PAID_ORDER#{paid_at}#{order_id}"}


def member_key(stats: CustomerStats) -> dict | None:
    if stats.segment is None:
        return None
    return {"PK": f"SEGMENT#{stats.segment}", "SK": f"{iso(stats.last_order_at)}#{stats.id}"}


def count_key(segment: str) -> dict:
    return {"PK": "SEGMENTS", "SK": f"SEGMENT#{segment}"}


def bucket_key(stats: CustomerStats) -> dict | None:
    if stats.last_order_at is None:
        return None
    return {"PK": f"LAST_ORDER_DAY#{iso(stats.last_order_at)[:10]}", "SK": stats.id}


def _item(stats: CustomerStats) -> dict:
    item = stats_key(stats.id) | stats.model_dump(mode="json") | {
        "GSI1PK": "CUSTOMERS", "GSI1SK": f"{iso(stats.created_at)}#{stats.id}"}
    if stats.last_order_at:
        item |= {"GSI2PK": "CUSTOMERS#LAST_ORDER", "GSI2SK": f"{iso(stats.last_order_at)}#{stats.id}"}
    return item


def _delete(name: str, key: dict) -> dynamo.Piece:
    return dynamo.Piece(name, {"Delete": {"TableName": dynamo.table(), "Key": dynamo.to_item(key)}})


def _moved(name: str, old: dict | None, new: dict | None, extra: dict | None = None) -> list[dynamo.Piece]:
    """Pieces moving an index item from `old` to `new` (either may be None)."""
    if old == new:
        return []
    pieces = [_delete(f"{name}:old", old)] if old else []
    return pieces + ([dynamo.put(f"{name}:new", new | (extra or {}))] if new else [])


def get(customer_id: str) -> CustomerStats | None:
    item = dynamo.get(stats_key(customer_id))
    return CustomerStats.model_validate(item) if item else None


def get_many(customer_ids: list[str]) -> list[CustomerStats]:
    """Figures of these customers, in the order given (missing ones left out)."""
    items = dynamo.batch_get([stats_key(c) for c in customer_ids])
    found = {item["id"]: CustomerStats.model_validate(item) for item in items}
    return [found[c] for c in customer_ids if c in found]


def save(before: CustomerStats | None, after: CustomerStats, marker: str | None = None,
         paid_order: tuple[str, str] | None = None, winback: DiscountRecord | None = None) -> bool:
    """Write `after` if the figures are still `before` (by version), moving its index items and
    segment counts, with the `marker` of the change it applies, a `paid_order` index item
    (order id, paid_at ISO) and a `winback` discount code, all in one transaction. Returns False
    when `marker` was applied already. Raises StatsChanged (read again and retry)."""
    saved = after.model_copy(update={"version": (before.version + 1) if before else 0})
    if before:
        pieces = [dynamo.put("stats", _item(saved), "version = :version", version=before.version)]
    else:
        pieces = [dynamo.put("stats", _item(saved), "attribute_not_exists(PK)")]
    if marker:
        expires = int(time.time() + MARKER_RETENTION.total_seconds())
        pieces.append(dynamo.put("marker", marker_key(marker) | {"expires_at": expires}, "attribute_not_exists(PK)"))
    was = before.segment if before else None
    if was != saved.segment:
        pieces += [dynamo.update(f"count:{segment}", count_key(segment), "ADD #count :n", None, {"#count": "count"},
                                 n=n) for segment, n in ((was, -1), (saved.segment, 1)) if segment]
    pieces += _moved("member", member_key(before) if before else None, member_key(saved), {"customer_id": saved.id})
    pieces += _moved("bucket", bucket_key(before) if before else None, bucket_key(saved), {"customer_id": saved.id})
    if paid_order:
        order_id, paid_at = paid_order
        pieces.append(dynamo.put("paid_order", paid_order_key(saved.id, paid_at, order_id) | {"order_id": order_id}))
    if winback:
        pieces.append(dynamo.put("winback", discount_key(winback.code) | winback.model_dump(mode="json") | {
            "GSI1PK": "DISCOUNTS", "GSI1SK": f"{iso(winback.created_at)}#{winback.id}"}, "attribute_not_exists(PK)"))
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("marker"):
            return False
        if cancelled.failed("stats") or cancelled.conflict:
            raise StatsChanged() from cancelled
        raise
    return True


def forget(stats: CustomerStats) -> None:
    """Remove the customer from the shop's view (erasure): the figures (and with them their GSI1 and
    GSI2 entries), their segment item and last-order-day bucket item, and their segment's count -1, in one
    transaction on the version read. Raises StatsChanged (read again and retry). The rest of the
    partition (PAID_ORDER#...) goes with the partition."""
    delete = {"TableName": dynamo.table(), "Key": dynamo.to_item(stats_key(stats.id)),
              "ConditionExpression": "version = :version",
              "ExpressionAttributeValues": dynamo.values(version=stats.version)}
    pieces = [dynamo.Piece("stats", {"Delete": delete})]
    pieces += _moved("member", member_key(stats), None) + _moved("bucket", bucket_key(stats), None)
    if stats.segment:
        pieces.append(dynamo.update(f"count:{stats.segment}", count_key(stats.segment), "ADD #count :n", None,
                                    {"#count": "count"}, n=-1))
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("stats") or cancelled.conflict:
            raise StatsChanged() from cancelled
        raise


def annotate(customer_id: str, tags: list[str] | None, note: str | None) -> CustomerStats | None:
    """Set the shop's tags and/or note (None leaves one as it is); None for an unknown customer."""
    sets, values = ["version = version + :one"], {"one": 1}
    if tags is not None:
        sets.append("tags = :tags")
        values["tags"] = tags
    if note is not None:
        sets.append("note = :note")
        values["note"] = note
    try:
        answer = dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(stats_key(customer_id)),
                             UpdateExpression="SET " + ", ".join(sets), ConditionExpression="attribute_exists(PK)",
                             ExpressionAttributeValues=dynamo.values(**values), ReturnValues="ALL_NEW")
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return None
        raise
    return CustomerStats.model_validate(dynamo.from_item(answer["Attributes"]))


def list_customers(sort: str, limit: int, cursor: str | None) -> tuple[list[CustomerStats], str | None]:
    """Customers newest first (`newest`, GSI1) or by their last order, latest first (`last_order`, GSI2)."""
    if sort == "newest":
        items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", "CUSTOMERS", limit, cursor, newest_first=True)
    else:
        items, next_cursor = dynamo.query_page("GSI2", "GSI2PK", "CUSTOMERS#LAST_ORDER", limit, cursor,
                                               newest_first=True)
    return [CustomerStats.model_validate(item) for item in items], next_cursor


def list_segment(segment: str, limit: int, cursor: str | None) -> tuple[list[CustomerStats], str | None]:
    """A segment's customers, latest last order first: one Query of the segment's items, one BatchGetItem."""
    items, next_cursor = dynamo.query_page(None, "PK", f"SEGMENT#{segment}", limit, cursor, newest_first=True)
    return get_many([item["customer_id"] for item in items]), next_cursor


def segment_counts() -> dict[str, int]:
    items, _ = dynamo.query_page(None, "PK", "SEGMENTS", 100, None)
    return {item["SK"].removeprefix("SEGMENT#"): item.get("count", 0) for item in items}


def paid_orders(customer_id: str, limit: int) -> list[OrderRecord]:
    """A customer's latest paid orders, newest first: a Query of their index items, a BatchGetItem."""
    items, _ = dynamo.query_page(None, "PK", f"CUSTOMER#{customer_id}", limit, None, newest_first=True,
                                 sk_condition=" AND begins_with(#sk, :prefix)", prefix="PAID_ORDER#")
    ids = [item["order_id"] for item in items]
    found = {item["id"]: OrderRecord.model_validate(item) for item in dynamo.batch_get([order_key(i) for i in ids])}
    return [found[i] for i in ids if i in found]


def last_ordered_on(day: str, limit: int, cursor: str | None) -> tuple[list[str], str | None]:
    """Ids of the customers whose last order was placed on `day` (YYYY-MM-DD), a page."""
    items, next_cursor = dynamo.query_page(None, "PK", f"LAST_ORDER_DAY#{day}", limit, cursor)
    return [item["customer_id"] for item in items], next_cursor


def consents(customer_id: str) -> bool:
    """Whether the customer agreed to marketing email (their PROFILE's `marketing_consent`; no
    profile is no consent)."""
    profile = dynamo.get(profile_key(customer_id)) or {}
    consent = profile.get("marketing_consent") or {}
    return isinstance(consent, dict) and consent.get("granted") is True


def sweep_position() -> str | None:
    """The last day the segment sweep finished (YYYY-MM-DD)."""
    return (dynamo.get(SWEEP_KEY) or {}).get("day")


def save_sweep_position(day: str) -> None:
    dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(SWEEP_KEY | {"day": day}))
