"""Events the backend emits, derived from committed changes: pure functions, no I/O.

The table's stream is the transactional outbox: a request commits one transaction and returns;
the stream delivers every committed change to the relay (services/relay.py) at least once, which
reads it as domain models (repository/stream.py), derives its events here, publishes them
(publishing.py) and counts them (counters.py). Message ids are derived from the change (order id +
event type + what is new, or the stream record's own id), stable across redelivery, so consumers
de-duplicate on them. An event carries everything its consumers need: the order as the shop sees
it (every field, absent ones as null), so emails and fulfilment never read storage to fill it in.

| model       | change                                                   | event          | queue  |
| ----------- | -------------------------------------------------------- | -------------- | ------ |
| OrderRecord | see `order_events` (a new entry in `duplicate_payments`: | Order*, ...    | both   |
|             | PaymentDuplicateRefunded, to the shop)                   |                |        |
| SkuRecord   | `available` falls from above `low_stock_threshold` to at | StockLow       | email  |
|             | or below it (each crossing once; id from the record)     |                |        |
| CartRecord  | `reminded_at` appears (set by the abandoned-cart sweep)  | CartAbandoned  | email  |
| CustomerStats | a new `winback` (set by the customer sweep, once a lapse) | WinBackOffered | email |
| MessageRecord | created by the shop, not an internal note               | MessageReplied | email  |
| GiftCardRecord | with a recipient, released (now, or at its `send_at`)    | GiftCardIssued | email  |
| InvoiceRecord | created (with its order, paid by invoice)               | InvoiceIssued  | email  |
|               | `reminders` grows (the overdue schedule)                | InvoiceReminder | email |
| QuoteRecord   | created: to the shop (SHOP_EMAIL)                        | QuoteRequested | email  |
|               | answered (again): to the buyer                           | QuoteAnswered  | email  |
| PurchaseRequest | created: one to each approver                        | PurchaseRequested | email |
|             | an order recorded (approved) / rejected: to the buyer    | PurchaseRequestApproved / Rejected | email |
| ReturnRecord | created, or its status changes (`return_events`; an     | Return<Status> | email  |
|             | approved return also asks fulfilment for a return)       | (Approved)     | both   |
"""

import json
from dataclasses import dataclass, field

from chalicelib import clock
from chalicelib.models import CartRecord, Record, SkuRecord
from chalicelib.models.balances import GiftCardRecord
from chalicelib.models.companies import PurchaseRequest
from chalicelib.models.crm import CustomerStats, MessageRecord
from chalicelib.models.invoices import InvoiceRecord
from chalicelib.models.orders import Order, OrderRecord, ships_goods
from chalicelib.models.quotes import Quote, QuoteRecord
from chalicelib.models.returns import Return, ReturnRecord

FULFILMENT = "fulfilment"
EMAIL = "email"


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    occurred_at: str
    data: dict
    queues: tuple[str, ...] = field(default=(EMAIL,))
    correlation_id: str | None = None  # of the request that made the change; consumers log under it

    def body(self, queue: str) -> str:
        data = self.data
        if queue != EMAIL:
            # Only the customer's emails need the order token (for the order page link).
            data = {k: v for k, v in data.items() if k != "order_token"}
        if queue == FULFILMENT:
            data = goods_only(data)
        body = {"id": self.id, "type": self.type, "occurred_at": self.occurred_at, "data": data}
        if self.correlation_id:
            body["correlation_id"] = self.correlation_id
        return json.dumps(body, separators=(",", ":"))


def goods_only(data: dict) -> dict:
    """An event's data as the warehouse sees it: the order without its gift-card lines (issued and
    emailed when paid, never shipped; their recipients are none of a 3PL's business)."""
    order = data.get("order")
    if not order or not any(line.get("gift_card") for line in order.get("lines") or []):
        return data
    return data | {"order": order | {"lines": [line for line in order["lines"] if not line.get("gift_card")]}}


def order_events(old: OrderRecord | None, new: OrderRecord | None) -> list[Event]:
    """The events one committed change of an order stands for."""
    if not new:
        return []
    view = Order.from_record(new).model_dump(mode="json")
    was = Order.from_record(old).model_dump(mode="json") if old else {}
    order_id = new.id
    now = clock.iso(clock.now())
    data = {"order": view, "order_token": new.token}
    events = []
    # An order of gift cards only has nothing to ship: the warehouse never hears of it.
    to_ship = (FULFILMENT,) if ships_goods(new) else ()
    if new.status == "paid" and was.get("status") != "paid":
        events.append(Event(f"{order_id}.OrderPaid", "OrderPaid", view["paid_at"] or now, data,
                            (*to_ship, EMAIL)))
    if new.status == "cancelled" and was.get("status") != "cancelled":
        queues = (*to_ship, EMAIL) if was.get("status") == "paid" else (EMAIL,)
        events.append(Event(f"{order_id}.OrderCancelled", "OrderCancelled", view["cancelled_at"] or now, data,
                            queues))
    if new.status == "needs_review" and was.get("status") != "needs_review":
        events.append(Event(f"{order_id}.OrderNeedsReview", "OrderNeedsReview", now, data, (EMAIL,)))
    old_shipments = {s["id"] for s in was.get("shipments") or []}
    for shipment in view["shipments"]:
        if shipment["id"] not in old_shipments:
            events.append(Event(f"{shipment['id']}.ShipmentCreated", "ShipmentCreated", shipment["created_at"],
                                data | {"shipment": shipment}, (FULFILMENT, EMAIL)))
    known = {d["payment_id"] for d in was.get("duplicate_payments") or []}
    for duplicate in view["duplicate_payments"]:
        if duplicate["payment_id"] not in known:
            # The customer paid twice and the second payment was refunded (services/orders.py): the shop is told.
            events.append(Event(f"{order_id}.PaymentDuplicateRefunded.{duplicate['payment_id']}",
                                "PaymentDuplicateRefunded", duplicate["at"], data | {"duplicate": duplicate},
                                (EMAIL,)))
    refunded, was_refunded = new.amount_refunded, was.get("amount_refunded", 0)
    if refunded > was_refunded:
        events.append(Event(f"{order_id}.RefundCreated.{refunded}", "RefundCreated", now,
                            data | {"amount": refunded - was_refunded}, (EMAIL,)))
    return events


def stock_events(old: SkuRecord | None, new: SkuRecord | None, record_id: str) -> list[Event]:
    """StockLow when a SKU's `available` falls from above its threshold to at or below it. Rising
    above and falling again is a new crossing, told again: the id is the stream record's."""
    if not old or not new:
        return []
    threshold = new.low_stock_threshold
    if threshold is not None and new.shards > 1:
        # A sharded SKU's item holds one shard, and checkouts spread evenly over the shards: its
        # share of the threshold stands for the whole (models/stock.py).
        threshold = -(-threshold // new.shards)
    if threshold is None or not old.available > threshold >= new.available:
        return []
    data = {key: getattr(new, key) for key in ("sku", "product_id", "product_title", "title", "available", "on_hand")}
    data["low_stock_threshold"] = threshold
    return [Event(f"{new.sku}.StockLow.{record_id}", "StockLow", clock.iso(clock.now()), data, (EMAIL,))]


def cart_events(old: CartRecord | None, new: CartRecord | None) -> list[Event]:
    """CartAbandoned when the sweep marks a cart reminded (services/abandoned_carts.py); one per cart."""
    if not new or not new.reminded_at or (old and old.reminded_at):
        return []
    reminder = new.reminder or {}
    cart = {"id": new.id, "email": new.email, "currency": new.currency,
            "lines": reminder.get("lines", []), "subtotal": reminder.get("subtotal", 0)}
    return [Event(f"{new.id}.CartAbandoned", "CartAbandoned", clock.iso(new.reminded_at), {"cart": cart}, (EMAIL,))]


def customer_events(old: CustomerStats | None, new: CustomerStats | None) -> list[Event]:
    """WinBackOffered when the sweep offers a win-back code (services/crm.py); one per code."""
    if not new or not new.winback or (old and old.winback and old.winback.code == new.winback.code):
        return []
    offer = new.winback.model_dump(mode="json")
    data = {"customer": {"id": new.id, "email": new.email}, "winback": offer}
    return [Event(f"{new.id}.WinBackOffered.{offer['code']}", "WinBackOffered", offer["offered_at"], data, (EMAIL,))]


def message_events(old: MessageRecord | None, new: MessageRecord | None) -> list[Event]:
    """MessageReplied when the shop writes to the customer (never for an internal note)."""
    if old or not new or new.author != "shop" or new.internal or not new.to:
        return []
    data = {"order_id": new.order_id, "to": new.to, "order_token": new.order_token,
            "message": {"id": new.id, "body": new.body, "created_at": clock.iso(new.created_at)}}
    return [Event(f"{new.id}.MessageReplied", "MessageReplied", clock.iso(new.created_at), data, (EMAIL,))]


def gift_card_events(old: GiftCardRecord | None, new: GiftCardRecord | None) -> list[Event]:
    """GiftCardIssued when a card with a recipient is released (at issue, or at its send date): once per
    card. It carries the card's seed: the email consumer makes the code from it (chalicelib/gift_codes.py)."""
    if not new or not new.recipient_email or not new.released or (old and old.released):
        return []
    card = new.model_dump(mode="json", include={"id", "last4", "currency", "initial_amount", "valid_until",
                                                "recipient_email", "message", "order_id", "seed"})
    return [Event(f"{new.id}.GiftCardIssued", "GiftCardIssued", clock.iso(clock.now()), {"gift_card": card},
                  (EMAIL,))]
def purchase_request_events(old: PurchaseRequest | None, new: PurchaseRequest | None) -> list[Event]:
    """PurchaseRequested to each approver when a request is made; PurchaseRequestApproved (once its order is
    placed) or PurchaseRequestRejected to the buyer."""
    if not new:
        return []
    view = new.model_dump(mode="json")
    if old is None:
        return [Event(f"{new.id}.PurchaseRequested.{index}", "PurchaseRequested", clock.iso(new.created_at),
                      {"to": approver, "request": view}, (EMAIL,)) for index, approver in enumerate(new.approvers)]
    at = clock.iso(new.decided_at or new.created_at)
    if new.order_id and not old.order_id:
        return [Event(f"{new.id}.PurchaseRequestApproved", "PurchaseRequestApproved", at,
                      {"to": new.email, "request": view}, (EMAIL,))]
    if new.status == "rejected" and old.status != "rejected":
        return [Event(f"{new.id}.PurchaseRequestRejected", "PurchaseRequestRejected", at,
                      {"to": new.email, "request": view}, (EMAIL,))]
    return []


def return_events(old: ReturnRecord | None, new: ReturnRecord | None) -> list[Event]:
    """ReturnRequested, ReturnApproved (to fulfilment too: a return request for the warehouse or 3PL),
    ReturnRejected, ReturnReceived, ReturnRefunded: one per return and status."""
    if not new or (old and old.status == new.status):
        return []
    kind = "Return" + new.status.capitalize()
    data = {"return": Return.from_record(new).model_dump(mode="json"), "to": new.email, "currency": new.currency,
            "order_token": new.order_token}
    if new.status == "refunded" and new.refund and new.refund.method == "exchange" and new.exchange_due > 0:
        # The exchange order waits for the difference: the email links to its pay page.
        data["exchange"] = {"order_id": new.refund.order_id, "order_token": new.exchange_token,
                            "amount_due": new.exchange_due}
    queues = (FULFILMENT, EMAIL) if new.status == "approved" else (EMAIL,)
    return [Event(f"{new.id}.{kind}", kind, clock.iso(new.updated_at), data, queues)]


def events_for_change(old: Record | None, new: Record | None, record_id: str = "") -> list[Event]:
    """All events for one change's images (domain models, repository/stream.py); `record_id` is
    the stream record's eventID (the same on every delivery of the record)."""
    if isinstance(new or old, OrderRecord):
        return order_events(old, new)
    if isinstance(new or old, SkuRecord):
        return stock_events(old, new, record_id)
    if isinstance(new or old, CartRecord):
        return cart_events(old, new)
    if isinstance(new or old, CustomerStats):
        return customer_events(old, new)
    if isinstance(new or old, MessageRecord):
        return message_events(old, new)
    if isinstance(new or old, GiftCardRecord):
        return gift_card_events(old, new)
    if isinstance(new or old, PurchaseRequest):
        return purchase_request_events(old, new)
    if isinstance(new or old, ReturnRecord):
        return return_events(old, new)
    if isinstance(new or old, InvoiceRecord):
        return invoice_events(old, new)
    if isinstance(new or old, QuoteRecord):
        return quote_events(old, new)
    return []


def quote_events(old: QuoteRecord | None, new: QuoteRecord | None) -> list[Event]:
    """QuoteRequested when a buyer asks, QuoteAnswered on each answer of the shop (a new `answered_at`)."""
    if not new:
        return []
    data = {"quote": Quote.from_record(new, clock.now()).model_dump(mode="json") | {"email": new.email}}
    if old is None:
        return [Event(f"{new.id}.QuoteRequested", "QuoteRequested", clock.iso(new.created_at), data)]
    if new.status == "answered" and new.answered_at and new.answered_at != old.answered_at:
        at = clock.iso(new.answered_at)
        return [Event(f"{new.id}.QuoteAnswered.{at}", "QuoteAnswered", at, data)]
    return []


def invoice_events(old: InvoiceRecord | None, new: InvoiceRecord | None) -> list[Event]:
    """InvoiceIssued when an invoice is written, InvoiceReminder for each new reminder: both carry the whole
    invoice (the email consumer renders its PDF from it, models/invoices.py)."""
    if not new:
        return []
    data = {"invoice": new.model_dump(mode="json", exclude={"version"})}
    if old is None:
        return [Event(f"{new.id}.InvoiceIssued", "InvoiceIssued", clock.iso(new.issued_at), data)]
    if new.reminders > old.reminders:
        return [Event(f"{new.id}.InvoiceReminder.{new.reminders}", "InvoiceReminder",
                      clock.iso(new.reminded_at or clock.now()), data)]
    return []
