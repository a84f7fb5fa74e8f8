"""Order use cases: the customer's order page, payment events, the expiry of unpaid orders, and the
reconciliation of payments with the provider (webhooks are the fast path, never the only one)."""

import hmac
import logging
from datetime import datetime, timedelta

from chalicelib import clock, config, observability, ordering, payments
from chalicelib.errors import ResourceMissing, UpstreamUnavailable, not_found
from chalicelib.ordering import Order
from chalicelib.repository import discounts, orders
from chalicelib.repository.orders import DuplicateEvent, OrderChanged, StockShort

log = logging.getLogger(__name__)
ATTEMPTS = 5
# A webhook normally lands within seconds; after this long the reconciliation sweep asks the provider.
RECONCILE_AFTER = timedelta(minutes=2)
# Payment states in which the money may still come: an order in one is never cancelled.
STILL_RUNNING = frozenset({"processing", "requires_capture"})


def get_for_customer(order_id: str, token: str | None) -> Order:
    """The order, if `token` is its order token; otherwise ResourceMissing, revealing nothing about
    whether the order exists."""
    record = orders.get(order_id) if order_id.startswith("ord_") and len(order_id) <= 64 else None
    if record is None or not token or not hmac.compare_digest(record.token.encode(), token.encode()):
        raise not_found("order")
    return Order.from_record(record)


def give_back_discount(order: ordering.OrderRecord) -> list[dict]:
    """Transaction actions returning the discount code's use of an order that was never paid."""
    if not order.discount_code or order.amount_paid:
        return []
    return discounts.give_back_actions(order.discount_code, order.email, order.discount_per_customer)


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
                                                  event.amount_refunded, clock.now(), stock_available,
                                                  payment_id=event.payment_id)
        if transition is None:
            return "unchanged"
        after = transition.order
        if transition.refund_duplicate:
            # A second payment for a paid order: refunded whole before it is recorded, with a key of its
            # own, so a redelivered event refunds it once. The order's own money is not touched.
            refund_id = provider.refund(event.payment_id, transition.refund_duplicate,
                                        idempotency_key=f"{order.id}:duplicate:{event.payment_id}")
            duplicates = [d.model_copy(update={"refund_id": refund_id}) if d.payment_id == event.payment_id else d
                          for d in after.duplicate_payments]
            after = after.model_copy(update={"duplicate_payments": duplicates})
            log.warning("order %s was paid twice; payment %s refunded", order.id, event.payment_id)
        if transition.refund_amount:
            # Refund before recording, with a key derived from the order: if recording fails, the
            # redelivered event refunds idempotently instead of never.
            provider.refund(event.payment_id, transition.refund_amount, idempotency_key=f"{order.id}:late-refund")
            refunded = after.amount_refunded + transition.refund_amount
            after = after.model_copy(update={"amount_refunded": refunded,
                                             "payment_status": ordering.refunded_status(after.amount_paid, refunded)})
        try:
            orders.save(order, after, stock=_stock_moves(order, transition), event=(event.provider, event.id),
                        extra_actions=give_back_discount(order) if transition.release_stock else [])
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
    """Cancel unpaid orders past their payment deadline and release their stock. An order with a payment
    at the provider is asked about first: its payment is cancelled there, and one that succeeded meanwhile
    is applied as its webhook would be (paid, never cancelled); one still processing, or a provider that
    cannot be reached, leaves the order for the next run. Safe to run concurrently and repeatedly: each
    cancellation is conditioned on the order's version. Returns how many orders were cancelled."""
    now = now or clock.now()
    cutoff = clock.iso(now - timedelta(minutes=config.settings().payment_window_minutes) + timedelta(seconds=1))
    cancelled = 0
    for order in orders.each_pending_created_before(cutoff):
        if ordering.expire(order, now) is None:
            continue
        if order.payment and order.payment.payment_id:
            if _settle_with_provider(order, cancel=True) != "unpaid":
                continue
            order = orders.get(order.id)  # applying nothing still may have raced a webhook
            if order is None or ordering.expire(order, now) is None:
                continue
        transition = ordering.expire(order, now)
        try:
            orders.save(order, transition.order, stock=_stock_moves(order, transition),
                        extra_actions=give_back_discount(order))
            cancelled += 1
        except OrderChanged:
            log.info("order %s changed while expiring it; the next run looks again", order.id)
    return cancelled


def reconcile_payments(now: datetime | None = None) -> dict:
    """Ask the provider about every unpaid order with a payment that has waited longer than
    RECONCILE_AFTER and apply what it says (a success as paid, a cancellation as cancelled), so an
    order whose webhooks never came is settled within one run. Orders past their deadline are the
    expiry's. Safe to repeat: applying goes through the same state machine as the webhook. Returns
    `{"checked": n, "settled": k}`."""
    now = now or clock.now()
    checked = settled = 0
    for order in orders.each_pending_created_before(clock.iso(now - RECONCILE_AFTER)):
        if not (order.payment and order.payment.payment_id) or order.payment_deadline <= now:
            continue
        checked += 1
        settled += _settle_with_provider(order, cancel=False) in {"paid", "cancelled"}
    if settled:
        log.warning("reconciliation settled %d of %d unpaid orders whose webhooks had not come", settled, checked)
    return {"checked": checked, "settled": settled}


def _settle_with_provider(order: ordering.OrderRecord, cancel: bool) -> str:
    """Apply the state of the order's payment at the provider; with `cancel`, cancel it there first unless
    it can no longer be cancelled. Returns "paid", "cancelled" (applied), "processing" (money may still
    come), "unpaid" (nothing was or will be taken) or "unknown" (the provider could not be asked)."""
    provider = payments.provider(order.payment.provider)
    payment_id = order.payment.payment_id
    try:
        state = (provider.cancel_payment(payment_id, idempotency_key=f"{order.id}:expire") if cancel
                 else provider.retrieve_payment(payment_id))
    except ResourceMissing:
        return "unpaid"  # the provider has no such payment: nothing can have been taken
    except UpstreamUnavailable:
        log.warning("could not ask the provider about order %s; the next run asks again", order.id)
        return "unknown"
    if state["status"] in STILL_RUNNING:
        return "processing"
    kind = ordering.provider_event_kind(state["status"])
    if kind is None or (cancel and kind == "payment_canceled"):
        return "unpaid"
    event = payments.PaymentEvent(
        id=f"reconciled:{payment_id}:{state['status']}", kind=kind, provider=order.payment.provider,
        provider_type=f"reconciliation.{state['status']}", payment_id=payment_id, order_id=order.id,
        amount=state["amount_received"] if kind == "payment_succeeded" else None, currency=state["currency"])
    outcome = apply_payment_event(event)
    log.info("order %s reconciled with the provider: payment %s %s (%s)", order.id, payment_id, state["status"],
             outcome)
    return "paid" if kind == "payment_succeeded" else "cancelled"
