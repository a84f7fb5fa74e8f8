"""Customer service: an order's thread and its messages, in the order's partition.

| item / index                     | key                                                        |
| -------------------------------- | ---------------------------------------------------------- |
| an order's thread                | PK=ORDER#<order_id>, SK=THREAD                             |
|   open threads, oldest first     | GSI1: THREADS#open, <opened_at>#<order_id>                 |
|   closed threads, newest first   | GSI1: THREADS#closed, <closed_at>#<order_id>               |
| a message the customer sees      | PK=ORDER#<order_id>, SK=MESSAGE#<created_at>#<msg_id>      |
| an internal note of the shop     | PK=ORDER#<order_id>, SK=NOTE#<created_at>#<msg_id>         |

The customer's read is a Query on the `MESSAGE#` prefix: internal notes are never read for them,
not merely filtered out. A message and its thread are written in one transaction, on the thread's
version.
"""

from chalicelib.clock import iso
from chalicelib.models.crm import MessageRecord, ThreadRecord
from chalicelib.repository import dynamo
from chalicelib.repository.orders import order_key

PAGE = 1000  # a thread holds at most MAX_MESSAGES (models/crm.py): one page


class ThreadChanged(Exception):
    """The thread changed since it was read: read again and retry."""


def thread_key(order_id: str) -> dict:
    return {"PK": order_key(order_id)["PK"], "SK": "THREAD"}


def message_key(message: MessageRecord) -> dict:
    kind = "NOTE" if message.internal else "MESSAGE"
    return {"PK": order_key(message.order_id)["PK"], "SK": f"{kind}#{iso(message.created_at)}#{message.id}"}


def _thread_item(thread: ThreadRecord) -> dict:
    since = thread.opened_at if thread.status == "open" else thread.closed_at
    return thread_key(thread.order_id) | thread.model_dump(mode="json") | {
        "GSI1PK": f"THREADS#{thread.status}", "GSI1SK": f"{iso(since)}#{thread.order_id}"}


def get_thread(order_id: str) -> ThreadRecord | None:
    item = dynamo.get(thread_key(order_id))
    return ThreadRecord.model_validate(item) if item else None


def _thread_piece(before: ThreadRecord | None, after: ThreadRecord) -> tuple[dynamo.Piece, ThreadRecord]:
    saved = after.model_copy(update={"version": before.version + 1 if before else 0})
    if before:
        return dynamo.put("thread", _thread_item(saved), "version = :version", version=before.version), saved
    return dynamo.put("thread", _thread_item(saved), "attribute_not_exists(PK)"), saved


def _write(pieces: list[dynamo.Piece]) -> None:
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("thread") or cancelled.conflict:
            raise ThreadChanged() from cancelled
        raise


def add(message: MessageRecord, before: ThreadRecord | None, after: ThreadRecord) -> ThreadRecord:
    """Write a message and its thread as `after`, if the thread is still `before`. Raises ThreadChanged."""
    piece, saved = _thread_piece(before, after)
    _write([dynamo.put("message", message_key(message) | message.model_dump(mode="json"), "attribute_not_exists(PK)"),
            piece])
    return saved


def save_thread(before: ThreadRecord, after: ThreadRecord) -> ThreadRecord:
    """Write the thread (closing it), if it is still `before`. Raises ThreadChanged."""
    piece, saved = _thread_piece(before, after)
    _write([piece])
    return saved


def list_messages(order_id: str, internal: bool) -> list[MessageRecord]:
    """An order's messages, oldest first; with `internal`, the shop's notes among them."""
    pk = order_key(order_id)["PK"]
    if internal:
        condition, values = " AND #sk BETWEEN :first AND :last", {"first": "MESSAGE#", "last": "NOTE#~"}
    else:
        condition, values = " AND begins_with(#sk, :first)", {"first": "MESSAGE#"}
    items, _ = dynamo.query_page(None, "PK", pk, PAGE, None, sk_condition=condition, **values)
    found = [MessageRecord.model_validate(item) for item in items]
    return sorted(found, key=lambda m: (m.created_at, m.id))


def list_threads(status: str, limit: int, cursor: str | None) -> tuple[list[ThreadRecord], str | None]:
    """Open threads oldest first (the inbox), closed ones most recently closed first."""
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", f"THREADS#{status}", limit, cursor,
                                           newest_first=status == "closed")
    return [ThreadRecord.model_validate(item) for item in items], next_cursor
