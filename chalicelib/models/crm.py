"""The shop's customer view (CRM) and customer service: pure rules, no I/O.

A customer's figures (`CustomerStats`, the `STATS` item of `CUSTOMER#<cus_id>`) are kept by the
stream relay from paid orders and refunds (services/crm.py); every customer is in exactly one
segment, the first that holds of:

| segment  | rule                                                   |
| -------- | ------------------------------------------------------ |
| lapsed   | last order LAPSED_DAYS (120) or more UTC days ago      |
| at_risk  | last order AT_RISK_DAYS (60) or more UTC days ago      |
| vip      | lifetime value in some currency >= VIP_THRESHOLD       |
| repeat   | 2 or more paid orders                                  |
| new      | 1 paid order                                           |

A customer service thread is one per order (`Thread`), its messages `MessageRecord`s; an internal
note is a message with `internal` set, never shown to the customer.
"""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from chalicelib.models import Record
from chalicelib.models.base import Model
from chalicelib.models.customers import customer_id_for
from chalicelib.models.orders import Order, OrderRecord

Segment = Literal["new", "repeat", "vip", "at_risk", "lapsed"]
SEGMENTS: tuple[str, ...] = ("new", "repeat", "vip", "at_risk", "lapsed")
AT_RISK_DAYS = 60
LAPSED_DAYS = 120
WINBACK_PREFIX = "WB-"  # discount codes offered by the win-back sweep; an order using one is recovered
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
MessageBody = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class WinBack(Model):
    """The win-back offered for one lapse (the lapse of the order placed at `last_order_at`)."""

    code: str
    percent: int
    ends_at: datetime
    offered_at: datetime
    last_order_at: datetime


class CustomerStats(Record):
    id: str
    email: str
    orders_count: int = 0
    lifetime_value: dict[str, int] = {}
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    segment: Segment | None = None
    tags: list[str] = []
    note: str | None = None
    winback: WinBack | None = None
    created_at: datetime
    version: int = 0


class AdminCustomer(Model):
    """A customer as the shop sees them (API.md, AdminCustomer)."""

    id: str
    email: str
    orders_count: int
    lifetime_value: dict[str, int]
    first_order_at: datetime | None
    last_order_at: datetime | None
    segment: Segment | None
    tags: list[str]
    note: str | None
    store_credit: dict[str, int]
    created_at: datetime

    @classmethod
    def from_stats(cls, stats: CustomerStats, store_credit: dict[str, int] | None = None) -> "AdminCustomer":
        # Zero in each currency the customer bought in, and their balance where they have one.
        credit = {currency: 0 for currency in stats.lifetime_value} | (store_credit or {})
        return cls(store_credit=credit, **stats.model_dump(include=set(cls.model_fields) - {"store_credit"}))


def days_since(moment: datetime, now: datetime) -> int:
    """Whole UTC days from the day of `moment` to the day of `now`."""
    return (now.astimezone(UTC).date() - moment.astimezone(UTC).date()).days


def segment_of(stats: CustomerStats, now: datetime, vip_threshold: int) -> Segment | None:
    """The one segment `stats` is in at `now` (see the module's table); None before a paid order."""
    if not stats.orders_count or stats.last_order_at is None:
        return None
    age = days_since(stats.last_order_at, now)
    if age >= LAPSED_DAYS:
        return "lapsed"
    if age >= AT_RISK_DAYS:
        return "at_risk"
    if max(stats.lifetime_value.values(), default=0) >= vip_threshold:
        return "vip"
    return "repeat" if stats.orders_count >= 2 else "new"


class OrderFact(Model):
    """What one committed change of an order means for its customer, applied once under `marker`."""

    marker: str
    customer_id: str
    email: str
    order_id: str
    currency: str
    amount: int          # added to the lifetime value (negative for a refund)
    paid_at: datetime | None = None  # set for the order's payment: one more order


def order_facts(old: OrderRecord | None, new: OrderRecord | None, changed_at: datetime) -> list[OrderFact]:
    """A paid order counts once with its total; money refunded later comes off the lifetime value."""
    if new is None:
        return []
    base = {"customer_id": customer_id_for(new.email), "email": new.email, "order_id": new.id,
            "currency": new.currency}
    facts = []
    if new.status == "paid" and (old is None or old.status != "paid"):
        facts.append(OrderFact(marker=f"crm.{new.id}.paid", amount=new.total, paid_at=new.paid_at or changed_at,
                               **base))
    refunded, was = new.amount_refunded, old.amount_refunded if old else 0
    counted = new.status == "paid" or (old is not None and old.status == "paid")
    if refunded > was and counted:
        # Only refunds of an order that counted (a paid one, or one cancelled from paid with its
        # refund). amount_refunded only grows: each value is reached once, a stable marker.
        facts.append(OrderFact(marker=f"crm.{new.id}.refunded.{refunded}", amount=-(refunded - was), **base))
    return facts


def apply_fact(stats: CustomerStats | None, fact: OrderFact, now: datetime, vip_threshold: int) -> CustomerStats:
    """`stats` (None for a customer not seen yet) after `fact`, with the segment it leads to."""
    stats = stats or CustomerStats(id=fact.customer_id, email=fact.email, created_at=fact.paid_at or now)
    value = dict(stats.lifetime_value)
    value[fact.currency] = max(0, value.get(fact.currency, 0) + fact.amount)
    update = {"lifetime_value": value}
    if fact.paid_at is not None:
        update |= {"orders_count": stats.orders_count + 1, "email": fact.email,
                   "first_order_at": min(filter(None, (stats.first_order_at, fact.paid_at))),
                   "last_order_at": max(filter(None, (stats.last_order_at, fact.paid_at)))}
    after = stats.model_copy(update=update)
    return after.model_copy(update={"segment": segment_of(after, now, vip_threshold)})


def lapse_due(stats: CustomerStats) -> bool:
    """Whether a win-back may be offered for the current lapse: one per lapse, a new order is a new one."""
    return stats.segment == "lapsed" and (stats.winback is None or stats.winback.last_order_at != stats.last_order_at)


# Customer service ---------------------------------------------------------------------------------

Author = Literal["customer", "shop"]


class MessageRecord(Record):
    id: str
    order_id: str
    author: Author
    body: str
    internal: bool = False
    created_at: datetime
    # Only on the shop's replies: where the reply email goes and its link to the order page.
    to: str | None = None
    order_token: str | None = None


class Message(Model):
    id: str
    author: Author
    body: str
    internal: bool
    created_at: datetime

    @classmethod
    def from_record(cls, record: MessageRecord) -> "Message":
        return cls.model_validate(record.model_dump(include=set(cls.model_fields)))


ThreadStatus = Literal["open", "closed"]


class Thread(Model):
    """An order's conversation with the shop: open from the customer's first message (or again after
    being closed) until the shop closes it."""

    order_id: str
    customer_id: str
    email: str
    status: ThreadStatus
    messages_count: int = 0
    last_message_at: datetime
    last_author: Author
    opened_at: datetime
    closed_at: datetime | None = None


class ThreadRecord(Record, Thread):
    notes_count: int = 0  # the shop's internal notes (not in the customer's count)
    version: int = 0

    def view(self) -> Thread:
        return Thread.model_validate(self.model_dump(exclude={"version", "notes_count"}))

    @property
    def size(self) -> int:
        return self.messages_count + self.notes_count


MAX_MESSAGES = 100  # per thread: a thread is read whole, in one Query page (100 × 5,000 characters < 1 MB)


def thread_after(thread: ThreadRecord | None, order: "Order", message: MessageRecord) -> ThreadRecord:
    """The thread once `message` is added: a customer's message opens a closed thread again; the
    shop's messages and notes leave the status alone (a note opens no thread on its own: closed)."""
    count = (thread.messages_count if thread else 0) + (0 if message.internal else 1)
    if thread is None:
        opened = message.author == "customer"
        return ThreadRecord(order_id=order.id, customer_id=customer_id_for(order.email), email=order.email,
                      status="open" if opened else "closed", messages_count=count,
                      last_message_at=message.created_at, last_author=message.author,
                      opened_at=message.created_at, closed_at=None if opened else message.created_at,
                      notes_count=1 if message.internal else 0)
    update = {"messages_count": count, "notes_count": thread.notes_count + (1 if message.internal else 0),
              "last_message_at": message.created_at, "last_author": message.author}
    if message.author == "customer" and thread.status == "closed":
        update |= {"status": "open", "opened_at": message.created_at, "closed_at": None}
    return thread.model_copy(update=update)


def oldest_open_age(thread: Thread | None, now: datetime) -> float:
    """Seconds the oldest open thread has been open (0 with none open)."""
    return max(0.0, (now - thread.opened_at).total_seconds()) if thread else 0.0
