"""Sales report counters: daily figures per currency, kept by the stream relay with `ADD` updates,
each change applied once (a marker item written in the same transaction).

Keys (one partition per currency and month, so a date range is one Query per month it touches):

| item                         | key                                                          |
| ---------------------------- | ------------------------------------------------------------ |
| a day's figures              | PK=`REPORT#<currency>#<YYYY-MM>`, SK=`DAY#<dd>`                |
| a product's figures that day | PK=`REPORT#<currency>#<YYYY-MM>`, SK=`DAY#<dd>#PRODUCT#<id>`   |
| "this change was counted"    | PK=`APPLIED#<marker>`, SK=`APPLIED` (expires after 7 days)    |

A 30-day report reads one or two partitions (a Query each, more pages only past 1 MB of items)
plus one BatchGetItem for the titles of its top products.

**Write sharding**: every paid order and every new cart ADDs to its day's item, one item per
currency and day. A DynamoDB item takes at most 1,000 write units a second, and each transactional
write costs two, so past a few hundred paid orders plus new carts per second (a flash sale) these
items throttle. Then shard them: SK=`DAY#<dd>#<n>` with n = hash(order or cart id) % N, and let
`read_days` sum the N shards (its Query reads them anyway, being in the same partition and SK
range). Product items spread over products and need it only for one product selling that fast.
"""

import time
from datetime import date, timedelta

from chalicelib.counters import Tally
from chalicelib.repository import dynamo
from chalicelib.repository.recommendations import pair_key

MARKER_RETENTION = timedelta(days=7)  # the stream keeps records 24 hours: redeliveries come sooner
MAX_ACTIONS = 100  # TransactWriteItems' limit, marker included


def _partition(currency: str, day: date) -> str:
    return f"REPORT#{currency}#{day:%Y-%m}"


def day_key(currency: str, day: date) -> dict:
    return {"PK": _partition(currency, day), "SK": f"DAY#{day:%d}"}


def product_day_key(currency: str, day: date, product_id: str) -> dict:
    return {"PK": _partition(currency, day), "SK": f"DAY#{day:%d}#PRODUCT#{product_id}"}


def marker_key(marker: str) -> dict:
    return {"PK": f"APPLIED#{marker}", "SK": "APPLIED"}


def _add(key: dict, deltas: dict[str, int]) -> dynamo.Piece:
    """A piece ADDing `deltas` to the counters at `key` (named after the key: each key once per tally)."""
    return dynamo.update(f"{key['PK']}/{key['SK']}", key,
                         "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(deltas))), None,
                         {f"#f{i}": name for i, name in enumerate(deltas)},
                         **{f"v{i}": value for i, value in enumerate(deltas.values())})


def apply(tally: Tally) -> int:
    """ADD the tally's increments, once: each transaction carries a marker item conditioned on not
    existing, so a redelivered change is skipped. A tally larger than one transaction is split into
    chunks with a marker each (`<marker>#<n>`, in a stable order), so a retry after a partial failure
    applies only what is missing. Returns the number of chunks applied now."""
    updates = [_add(day_key(currency, day), deltas) for (currency, day), deltas in sorted(tally.days.items())]
    updates += [_add(product_day_key(*key), deltas) for key, deltas in sorted(tally.products.items())]
    updates += [_add(pair_key(a, b), {"count": n}) for (a, b), n in sorted(tally.pairs.items())]
    applied = 0
    expires = int(time.time() + MARKER_RETENTION.total_seconds())
    per_chunk = MAX_ACTIONS - 1
    for index, start in enumerate(range(0, len(updates), per_chunk)):
        marker = dynamo.put("marker", marker_key(f"{tally.marker}#{index}") | {"expires_at": expires},
                            "attribute_not_exists(PK)")
        try:
            dynamo.transact([marker, *updates[start:start + per_chunk]])
            applied += 1
        except dynamo.Cancelled as cancelled:
            if not cancelled.failed("marker"):
                raise
            # Counted already: a redelivery.
    return applied


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def read_days(currency: str, start: date, end: date) -> tuple[dict[date, dict], list[tuple[date, str, dict]]]:
    """The counters of the days `start`..`end` (inclusive): ({day: figures}, [(day, product_id,
    {units, revenue})]). One Query per calendar month touched (following pages past 1 MB)."""
    totals, products = {}, []
    for month in _months(start, end):
        first = max(start, month)
        last = min(end, (month + timedelta(days=32)).replace(day=1) - timedelta(days=1))
        kwargs = {
            "TableName": dynamo.table(),
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :first AND :last",
            # "~" sorts after "#": the last day's product items are inside the range too.
            "ExpressionAttributeValues": dynamo.values(pk=_partition(currency, month), first=f"DAY#{first:%d}",
                                                       last=f"DAY#{last:%d}~"),
        }
        while True:
            answer = dynamo.call("query", **kwargs)
            for item in map(dynamo.from_item, answer["Items"]):
                _, dd, *rest = item.pop("SK").split("#", 3)
                day = month.replace(day=int(dd))
                figures = {k: v for k, v in item.items() if k != "PK"}
                if rest:
                    products.append((day, rest[1], figures))
                else:
                    totals[day] = figures
            if not answer.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return totals, products
