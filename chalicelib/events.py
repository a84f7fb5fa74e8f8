"""Events the backend emits, derived from committed changes, and their publishing to SQS.

The table's stream is the transactional outbox: a request commits one transaction and returns;
the stream delivers every committed change to `relay` at least once, which turns state transitions
into queue messages. If sending fails, `relay` raises and the stream delivers the same records
again, so nothing is lost between "database written" and "message sent". Message ids are derived
from the change (order id + event type + what is new), stable across redelivery, so consumers
de-duplicate on them.
"""

import json
from dataclasses import dataclass, field
from functools import lru_cache

from chalicelib import clock, config

FULFILMENT = "fulfilment"
EMAIL = "email"


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    occurred_at: str
    data: dict
    queues: tuple[str, ...] = field(default=(EMAIL,))

    def body(self, queue: str) -> str:
        data = self.data
        if queue != EMAIL:
            # Only the customer's emails need the order token (for the order page link).
            data = {k: v for k, v in data.items() if k != "order_token"}
        return json.dumps({"id": self.id, "type": self.type, "occurred_at": self.occurred_at, "data": data},
                          separators=(",", ":"))


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


def events_for_change(old: dict | None, new: dict | None) -> list[Event]:
    """All events for one stream record's images (plain dicts)."""
    kind = (new or old or {}).get("SK")
    if kind == "ORDER":
        return order_events(old, new)
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
    events. Returns the number of events published."""
    from chalicelib.repository.dynamo import from_item

    events = []
    for record in records:
        images = record.get("dynamodb", {})
        events += events_for_change(from_item(images.get("OldImage")), from_item(images.get("NewImage")))
    publish(events)
    return len(events)
