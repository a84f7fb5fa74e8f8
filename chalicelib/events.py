"""Events the backend emits, derived from committed changes, and their publishing to SQS.

The table's stream is the transactional outbox: a request commits one transaction and returns;
the stream delivers every committed change to `relay` at least once, which turns state transitions
into queue messages. If sending fails, `relay` raises and the stream delivers the same records
again, so nothing is lost between "database written" and "message sent". Message ids are derived
from the change (order id + event type + what is new, or the stream record's own id), stable across
redelivery, so consumers de-duplicate on them.

Besides messages, the relay keeps counters (chalicelib/counters.py: daily sales figures,
bought-together pairs), each change counted once however often it is delivered.

| item (SK) | change                                                   | event          | queue  |
| --------- | -------------------------------------------------------- | -------------- | ------ |
| ORDER     | see `order_events`                                       | Order*, ...    | both   |
| SKU       | `available` falls from above `low_stock_threshold` to at | StockLow       | email  |
|           | or below it (each crossing once; id from the record)     |                |        |
| CART      | `reminded_at` appears (set by the abandoned-cart sweep)  | CartAbandoned  | email  |
"""

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from chalicelib import clock, config, counters

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
        body = {"id": self.id, "type": self.type, "occurred_at": self.occurred_at, "data": data}
        if self.correlation_id:
            body["correlation_id"] = self.correlation_id
        return json.dumps(body, separators=(",", ":"))


def _order_view(order: dict) -> dict:
    hidden = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "token", "version", "payment", "cart_id",
              "stock_released"}
    return {k: v for k, v in order.items() if k not in hidden}


def order_events(old: dict | None, new: dict | None) -> list[Event]:
    """The events one committed change of an order item stands for."""
    if not new:
        return []
    old = old or {}
    order_id = new["id"]
    now = clock.iso(clock.now())
    data = {"order": _order_view(new), "order_token": new.get("token")}
    events = []
    if new.get("status") == "paid" and old.get("status") != "paid":
        events.append(Event(f"{order_id}.OrderPaid", "OrderPaid", new.get("paid_at") or now, data,
                            (FULFILMENT, EMAIL)))
    if new.get("status") == "cancelled" and old.get("status") != "cancelled":
        queues = (FULFILMENT, EMAIL) if old.get("status") == "paid" else (EMAIL,)
        events.append(Event(f"{order_id}.OrderCancelled", "OrderCancelled", new.get("cancelled_at") or now, data,
                            queues))
    if new.get("status") == "needs_review" and old.get("status") != "needs_review":
        events.append(Event(f"{order_id}.OrderNeedsReview", "OrderNeedsReview", now, data, (EMAIL,)))
    old_shipments = {s["id"] for s in old.get("shipments") or []}
    for shipment in new.get("shipments") or []:
        if shipment["id"] not in old_shipments:
            events.append(Event(f"{shipment['id']}.ShipmentCreated", "ShipmentCreated", shipment["created_at"],
                                data | {"shipment": shipment}, (FULFILMENT, EMAIL)))
    refunded, was_refunded = new.get("amount_refunded", 0), old.get("amount_refunded", 0)
    if refunded > was_refunded:
        events.append(Event(f"{order_id}.RefundCreated.{refunded}", "RefundCreated", now,
                            data | {"amount": refunded - was_refunded}, (EMAIL,)))
    return events


def stock_events(old: dict | None, new: dict | None, record_id: str) -> list[Event]:
    """StockLow when a SKU's `available` falls from above its threshold to at or below it. Rising
    above and falling again is a new crossing, told again: the id is the stream record's."""
    if not old or not new:
        return []
    threshold = new.get("low_stock_threshold")
    if threshold is None or not old.get("available", 0) > threshold >= new.get("available", 0):
        return []
    data = {key: new.get(key) for key in ("sku", "product_id", "product_title", "title", "available", "on_hand")}
    data["low_stock_threshold"] = threshold
    return [Event(f"{new['sku']}.StockLow.{record_id}", "StockLow", clock.iso(clock.now()), data, (EMAIL,))]


def cart_events(old: dict | None, new: dict | None) -> list[Event]:
    """CartAbandoned when the sweep marks a cart reminded (services/abandoned_carts.py); one per cart."""
    if not new or not new.get("reminded_at") or (old or {}).get("reminded_at"):
        return []
    reminder = new.get("reminder") or {}
    cart = {"id": new["id"], "email": new.get("email"), "currency": new["currency"],
            "lines": reminder.get("lines", []), "subtotal": reminder.get("subtotal", 0)}
    return [Event(f"{new['id']}.CartAbandoned", "CartAbandoned", new["reminded_at"], {"cart": cart}, (EMAIL,))]


def events_for_change(old: dict | None, new: dict | None, record_id: str = "") -> list[Event]:
    """All events for one stream record's images (plain dicts); `record_id` is the record's
    eventID (the same on every delivery of the record)."""
    kind = (new or old or {}).get("SK")
    if kind == "ORDER":
        return order_events(old, new)
    if kind == "SKU":
        return stock_events(old, new, record_id)
    if kind == "CART":
        return cart_events(old, new)
    return []


@lru_cache(maxsize=1)
def _sqs():
    import boto3

    return boto3.client("sqs")


def queue_url(queue: str) -> str:
    settings = config.settings()
    return {FULFILMENT: settings.fulfilment_queue_url, EMAIL: settings.email_queue_url}[queue]


def publish(events: list[Event]) -> None:
    """Send each event to its queues (batches of 10). Raises if any message was not accepted, so
    the caller's source (the stream) delivers again; consumers de-duplicate the resent ones."""
    by_queue: dict[str, list[Event]] = {}
    for event in events:
        for queue in event.queues:
            by_queue.setdefault(queue, []).append(event)
    for queue, queued in by_queue.items():
        for start in range(0, len(queued), 10):
            batch = queued[start:start + 10]
            answer = _sqs().send_message_batch(QueueUrl=queue_url(queue), Entries=[
                {"Id": str(i), "MessageBody": e.body(queue),
                 "MessageAttributes": {"type": {"DataType": "String", "StringValue": e.type}}}
                for i, e in enumerate(batch)])
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} messages for {queue}: {answer['Failed']}")


def relay(records: list[dict]) -> int:
    """Turn DynamoDB stream records (Lambda's shape: images in DynamoDB JSON) into published
    events, and count them into the report and bought-together counters (once per change). Raises
    if either fails, so the stream delivers the batch again. Returns the number of events published."""
    from chalicelib.repository import reports
    from chalicelib.repository.dynamo import from_item

    events, tallies = [], []
    for record in records:
        images = record.get("dynamodb", {})
        old, new = from_item(images.get("OldImage")), from_item(images.get("NewImage"))
        correlation_id = (new or {}).get("correlation_id")
        events += [dataclasses.replace(e, correlation_id=correlation_id) if correlation_id else e
                   for e in events_for_change(old, new, record.get("eventID", ""))]
        created = images.get("ApproximateCreationDateTime")
        changed_at = datetime.fromtimestamp(float(created), UTC) if created is not None else clock.now()
        tallies += counters.tallies(old, new, changed_at)
    for tally in tallies:
        reports.apply(tally)
    publish(events)
    return len(events)
