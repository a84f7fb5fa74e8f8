"""Order use cases: the customer's order page, payment events, and the expiry of unpaid orders."""

import hmac
import logging
from datetime import datetime, timedelta

from chalicelib import clock, config, observability, ordering, payments
from chalicelib.errors import DuplicateEvent, OrderChanged, ResourceMissing, StockShort, not_found
from chalicelib.ordering import Order
from chalicelib.repository import orders

log = logging.getLogger(__name__)
ATTEMPTS = 5


def get_for_customer(order_id: str, token: str | None) -> Order:
    """The order, if `token` is its order token; otherwise ResourceMissing, revealing nothing about
    whether the order exists."""
    record = orders.get(order_id) if order_id.startswith("ord_") and len(order_id) <= 64 else None
    if record is None or not token or not hmac.compare_digest(record.token.encode(), token.encode()):
        raise not_found("order")
    return Order.from_record(record)


def _stock_moves(order, transition: ordering.Transition) -> list[tuple[str, int, str]]:
    if transition.release_stock:
        return orders.all_lines(order, "release")
    if transition.reserve_stock:
        return orders.all_lines(order, "reserve")
    return []


def apply_payment_event(event: payments.PaymentEvent) -> str:
    """Apply a verified provider event to its order at most once, whatever the arrival order.
    Returns what happened ("applied", "duplicate", "unchanged", "ignored"). Raises ResourceMissing
    when the order does not exist (yet), so that the provider delivers the event again."""
    if event.kind == "ignored" or not event.order_id:
        return "ignored"
    provider = payments.provider(event.provider)
    stock_available = True
    for _ in range(ATTEMPTS):
        order = orders.get(event.order_id)
        if order is None:
            raise ResourceMissing(f"Order {event.order_id} is not known (yet); deliver the event again later.")
        transition = ordering.apply_payment_event(order, event.kind, event.amount, event.currency,
                                                  event.amount_refunded, clock.now(), stock_available)
        if transition is None:
            return "unchanged"
        after = transition.order
        if transition.refund_amount:
            # Refund before recording, with a key derived from the order: if recording fails, the
            # redelivered event refunds idempotently instead of never.
            provider.refund(event.payment_id, transition.refund_amount, idempotency_key=f"{order.id}:late-refund")
            refunded = after.amount_refunded + transition.refund_amount
            after = after.model_copy(update={"amount_refunded": refunded,
                                             "payment_status": ordering.refunded_status(after.amount_paid, refunded)})
        try:
            orders.save(order, after, stock=_stock_moves(order, transition), event=(event.provider, event.id),
                        give_back_discount=transition.release_stock and order.holds_discount_use)
            if after.status == "paid" and order.status != "paid":
                observability.metric("OrdersPaid", currency=after.currency)
                observability.metric("Revenue", after.total, currency=after.currency)
            return "applied"
        except DuplicateEvent:
            return "duplicate"
        except OrderChanged:
            continue
        except StockShort:
            stock_available = False  # the goods went to someone else: refund instead
    raise OrderChanged("The order kept changing; deliver the event again.")


def expire_unpaid(now: datetime | None = None) -> int:
    """Cancel unpaid orders past their payment deadline and release their stock. Safe to run
    concurrently and repeatedly: each cancellation is conditioned on the order's version. Returns
    how many orders were cancelled."""
    now = now or clock.now()
    cutoff = clock.iso(now - timedelta(minutes=config.settings().payment_window_minutes) + timedelta(seconds=1))
    cancelled = 0
    while True:
        batch = orders.list_pending_created_before(cutoff)
        progressed = 0
        for order in batch:
            transition = ordering.expire(order, now)
            if transition is None:
                continue
            try:
                orders.save(order, transition.order, stock=_stock_moves(order, transition),
                            give_back_discount=order.holds_discount_use)
                progressed += 1
            except OrderChanged:
                log.info("order %s changed while expiring it; the next run looks again", order.id)
        cancelled += progressed
        if len(batch) < 100 or not progressed:
            return cancelled
