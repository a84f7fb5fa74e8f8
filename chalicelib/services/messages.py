"""Customer service: a customer writes about an order (with its order token, or signed in as its owner),
the shop reads the inbox of open threads oldest first, answers (the customer gets an email with the answer and a link to
the order page: the stream relay queues MessageReplied, events.py), writes internal notes the customer
never sees, and closes the thread. A customer's new message opens a closed thread again.
"""

from chalicelib import clock
from chalicelib.errors import Conflict, UpstreamUnavailable, not_found
from chalicelib.models import crm as rules
from chalicelib.models.crm import Message, MessageRecord, Thread, oldest_open_age, thread_after
from chalicelib.models.orders import Order
from chalicelib.repository import messages
from chalicelib.repository import orders as stored_orders
from chalicelib.retry import retried


def _busy() -> Exception:
    return UpstreamUnavailable("The conversation kept changing; please retry.")


def _add(order: Order, author: str, body: str, internal: bool = False, to: str | None = None,
         order_token: str | None = None) -> Message:
    message = MessageRecord(id=clock.new_id("msg"), order_id=order.id, author=author, body=body, internal=internal,
                            created_at=clock.now(), to=to, order_token=order_token)

    def attempt() -> Message:
        before = messages.get_thread(order.id)
        if before and before.size >= rules.MAX_MESSAGES:
            raise Conflict(f"This conversation has reached {rules.MAX_MESSAGES} messages.")
        messages.add(message, before, thread_after(before, order, message))
        return Message.from_record(message)
    return retried(attempt, messages.ThreadChanged, _busy)


def write(order: Order, body: str) -> Message:
    """The customer's message about their order (found by its order token or its owner's sign-in: the
    handler). A retry without Idempotency-Key writes another message."""
    return _add(order, "customer", body)


def read(order: Order) -> list[Message]:
    """What the customer sees of the conversation about their order: never the internal notes."""
    return [Message.from_record(m) for m in messages.list_messages(order.id, internal=False)]


def _order(order_id: str):
    record = stored_orders.get(order_id) if order_id.startswith("ord_") and len(order_id) <= 64 else None
    if record is None:
        raise not_found("order")
    return record


def reply(order_id: str, body: str, internal: bool) -> Message:
    """The shop's answer (emailed to the customer) or internal note (never shown to them)."""
    record = _order(order_id)
    order = Order.from_record(record)
    if internal:
        return _add(order, "shop", body, internal=True)
    return _add(order, "shop", body, to=record.email, order_token=record.token)


def conversation(order_id: str) -> list[Message]:
    """Every message of an order's conversation, internal notes included, oldest first (the shop's view)."""
    return [Message.from_record(m) for m in messages.list_messages(_order(order_id).id, internal=True)]


def close(order_id: str) -> Thread:
    """Close an order's thread (idempotent: a closed thread stays as it was). Raises ResourceMissing
    when the order has no thread."""
    _order(order_id)

    def attempt() -> Thread:
        thread = messages.get_thread(order_id)
        if thread is None:
            raise not_found("thread")
        if thread.status == "closed":
            return thread.view()
        closed = thread.model_copy(update={"status": "closed", "closed_at": clock.now()})
        return messages.save_thread(thread, closed).view()
    return retried(attempt, messages.ThreadChanged, _busy)


def inbox(status: str, limit: int, cursor: str | None) -> tuple[list[Thread], str | None]:
    found, next_cursor = messages.list_threads(status, limit, cursor)
    return [t.view() for t in found], next_cursor


def measure_oldest_open() -> float:
    """Seconds the oldest open thread has waited (0 when none is open), emitted as the metric
    `OldestOpenThreadAge` (an EMF line; infra/deploy.yaml alarms on it). One Query."""
    from chalicelib import observability

    found, _ = messages.list_threads("open", 1, None)
    age = oldest_open_age(found[0] if found else None, clock.now())
    observability.metric("OldestOpenThreadAge", age, unit="Seconds")
    return age
