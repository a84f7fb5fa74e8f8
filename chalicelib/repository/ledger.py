"""The stock ledger: every stock adjustment made through `POST /admin/inventory/{sku}/adjustments`,
with its reason, who made it and the SKU's stock before and after, written in the same transaction
as the change itself.

| item                    | key                                                        |
| ----------------------- | ---------------------------------------------------------- |
| a ledger entry          | PK=`LEDGER#<sku>`, SK=`ENTRY#<at, µs>#<id>` (newest last)  |

The SKU's counts are read first and the update is conditioned on `on_hand` still being what was
read, so `before` is exact; a concurrent change makes the transaction fail and the caller read again.
"""

from datetime import UTC, datetime

from chalicelib.clock import iso
from chalicelib.models import SkuRecord
from chalicelib.repository import catalog, dynamo


class Moved(Exception):
    """on_hand changed between the read and the write (or orders reserved more): read again."""


def entry_key(sku: str, at: str, entry_id: str) -> dict:
    return {"PK": f"LEDGER#{sku}", "SK": f"ENTRY#{at}#{entry_id}"}


def adjust(before: SkuRecord, on_hand: int, low_stock_threshold: int | None, entry: dict) -> None:
    """Set the SKU's counted stock (and threshold) and write the ledger entry, in one transaction,
    if `on_hand` is still `before.on_hand` and orders have not reserved more than `on_hand`.
    `entry`: id, at (datetime), reason, actor, before, after. Raises Moved otherwise."""
    expression = "SET on_hand = :on_hand, available = :on_hand - reserved"
    extra = {}
    if low_stock_threshold is not None:
        expression += ", low_stock_threshold = :threshold"
        extra["threshold"] = low_stock_threshold
    at = iso(entry["at"])
    # The key's time is read now, to the microsecond (clock.now(), shown as `at`, is to the second):
    # two adjustments within a second keep their order. The condition on on_hand serialises them.
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    try:
        dynamo.transact([
            dynamo.update("sku", catalog.sku_key(before.sku), expression,
                          "attribute_exists(PK) AND on_hand = :was AND reserved <= :on_hand AND "
                          f"{catalog.UNSHARDED}",
                          on_hand=on_hand, was=before.on_hand, one=1, **extra),
            dynamo.put("entry", entry_key(before.sku, stamp, entry["id"]) | entry | {"at": at, "sku": before.sku},
                       "attribute_not_exists(PK)"),
        ])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("sku"):
            raise Moved from cancelled
        raise


def entries(sku: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """A SKU's ledger entries, newest first."""
    items, next_cursor = dynamo.query_page(None, "PK", f"LEDGER#{sku}", limit, cursor, newest_first=True)
    return [{k: v for k, v in item.items() if k not in ("PK", "SK")} for item in items], next_cursor
