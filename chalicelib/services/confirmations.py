"""Sending a paid order's confirmation email again (the customer lost it, or typed a wrong address
that support has since corrected): the same OrderPaid email, queued for the email consumer only
(fulfilment is not asked again), under an event id of its own so the once-per-event delivery
record lets it through. A retried request with the same Idempotency-Key is answered from the
idempotency record and queues nothing more."""

from chalicelib import clock, publishing
from chalicelib.errors import Conflict, ResourceMissing
from chalicelib.events import EMAIL, Event
from chalicelib.models.orders import Order
from chalicelib.repository import orders


def resend(order_id: str) -> dict:
    order = orders.get(order_id)
    if order is None:
        raise ResourceMissing("No such order.")
    if order.paid_at is None or order.status == "pending_payment":
        raise Conflict("Only a paid order has a confirmation to send.")
    view = Order.from_record(order).model_dump(mode="json")
    event = Event(f"{order.id}.OrderPaid.resent.{clock.new_id('snd', 12)}", "OrderPaid", clock.iso(clock.now()),
                  {"order": view, "order_token": order.token}, (EMAIL,))
    publishing.publish([event])
    return {"order_id": order.id, "email": order.email, "event_id": event.id, "queued_at": event.occurred_at}
