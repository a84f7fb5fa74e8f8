"""Order use cases after checkout: the customer's order page, payment events from the provider, the
expiry of unpaid orders, and the shop's shipments, refunds and cancellations.

Every change reads the order, decides with the pure rules of `models/orders.py`, and saves on the
version read (`repository/orders.save`), retried when a racing writer got there first.

A refund is first recorded as pending on the order (conditioned on the order's version, so two
concurrent refunds cannot both fit in what was paid), then made through the provider with the
refund's id as idempotency key, then settled. A provider failure settles it as failed (502): the
money was not moved and the shop may try again.
"""

import hmac
import logging
from datetime import datetime, timedelta

from chalicelib import clock, config, observability, payments
from chalicelib.errors import (
    Conflict,
    DuplicateEvent,
    InvalidRequest,
    OrderChanged,
    ResourceMissing,
    StockShort,
    not_found,
)
from chalicelib.models import orders as rules
from chalicelib.models.orders import Order, OrderRecord, Refund, Shipment, ShipmentLine, Transition
from chalicelib.repository import orders
from chalicelib.retry import retried

log = logging.getLogger(__name__)


def _load(order_id: str) -> OrderRecord:
    order = orders.get(order_id)
    if order is None:
        raise not_found("order")
    return order


def _kept_changing(message: str = "The order kept changing; try again.") -> Conflict:
    return Conflict(message, code="order_changed")


def get_for_customer(order_id: str, token: str | None) -> Order:
    """The order, if `token` is its order token; otherwise ResourceMissing, revealing nothing about
    whether the order exists."""
    record = orders.get(order_id) if order_id.startswith("ord_") and len(order_id) <= 64 else None
    if record is None or not token or not hmac.compare_digest(record.token.encode(), token.encode()):
        raise not_found("order")
    return Order.from_record(record)


def get(order_id: str) -> Order:
    """The order, for the shop. Raises ResourceMissing."""
    return Order.from_record(_load(order_id))


# Payment events ------------------------------------------------------------------------------

def receive_webhook(provider_name: str, raw_body: bytes, headers) -> str:
    """Verify the event's signature on the raw body (InvalidSignature: nothing is written) and
    apply it at most once. Raises ResourceMissing for an order not known yet (the provider retries)."""
    return apply_payment_event(payments.provider(provider_name).parse_webhook(raw_body, headers))


def _stock_moves(order: OrderRecord, transition: Transition) -> list[tuple[str, int, str]]:
    if transition.release_stock:
        return rules.stock_moves(order, "release")
    if transition.reserve_stock:
        return rules.stock_moves(order, "reserve")
    return []


def apply_payment_event(event: payments.PaymentEvent) -> str:
    """Apply a verified provider event to its order at most once, whatever the arrival order.
    Returns what happened ("applied", "duplicate", "unchanged", "ignored"). Raises ResourceMissing
    when the order does not exist (yet), so that the provider delivers the event again."""
    if event.kind == "ignored" or not event.order_id:
        return "ignored"
    provider = payments.provider(event.provider)
    stock_available = True

    def attempt() -> str:
        nonlocal stock_available
        order = orders.get(event.order_id)
        if order is None:
            raise ResourceMissing(f"Order {event.order_id} is not known (yet); deliver the event again later.")
        transition = rules.apply_payment_event(order, event.kind, event.amount, event.currency,
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
                                             "payment_status": rules.refunded_status(after.amount_paid, refunded)})
        try:
            orders.save(order, after, stock=_stock_moves(order, transition), event=(event.provider, event.id),
                        give_back_discount=transition.release_stock and order.holds_discount_use)
        except DuplicateEvent:
            return "duplicate"
        except StockShort:
            stock_available = False  # the goods went to someone else: refund instead
            raise
        if after.status == "paid" and order.status != "paid":
            observability.metric("OrdersPaid", currency=after.currency)
            observability.metric("Revenue", after.total, currency=after.currency)
        return "applied"

    return retried(attempt, (OrderChanged, StockShort),
                   lambda: OrderChanged("The order kept changing; deliver the event again."))


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
            transition = rules.expire(order, now)
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


# Shipments -----------------------------------------------------------------------------------

def ship(order_id: str, carrier: str, tracking_number: str, lines: list[dict] | None) -> Order:
    """Record a shipment of `lines` (all unshipped lines when None): the stock leaves on_hand and
    reserved, `fulfilment_status` becomes partially_shipped or shipped. Not idempotent by itself (use
    an Idempotency-Key). Raises ResourceMissing, Conflict (not paid, or more than is left to ship)."""
    def attempt() -> Order:
        order = _load(order_id)
        if order.status != "paid":
            raise Conflict(f"An order in state {order.status} cannot be shipped.")
        left = rules.unshipped(order)
        if lines is None:
            wanted = left
        else:
            wanted = {}
            for index, line in enumerate(lines):
                wanted[line["sku"]] = wanted.get(line["sku"], 0) + line["quantity"]
                if line["sku"] not in {ordered.sku for ordered in order.lines}:
                    raise InvalidRequest(f"SKU {line['sku']} is not in this order.", param=f"lines.{index}.sku")
        for index, (sku, quantity) in enumerate(wanted.items()):
            if quantity > left.get(sku, 0):
                raise Conflict(f"Only {left.get(sku, 0)} of SKU {sku} are left to ship.",
                               param=f"lines.{index}.quantity", code="over_shipment")
        if not wanted:
            raise Conflict("Everything in this order has been shipped.", code="over_shipment")
        shipment = Shipment(id=clock.new_id("shp", 12), carrier=carrier, tracking_number=tracking_number,
                            lines=[ShipmentLine(sku=sku, quantity=q) for sku, q in wanted.items()],
                            created_at=clock.now())
        after = order.model_copy(update={"shipments": [*order.shipments, shipment]})
        after = after.model_copy(update={"fulfilment_status": "partially_shipped" if rules.unshipped(after)
                                         else "shipped"})
        return Order.from_record(orders.save(order, after, stock=[(s, q, "ship") for s, q in wanted.items()]))

    return retried(attempt, (OrderChanged, StockShort), _kept_changing)


# Refunds and cancellations -------------------------------------------------------------------

def _settle(order_id: str, refund_id: str, status: str, provider_refund_id: str | None) -> OrderRecord:
    def attempt() -> OrderRecord:
        order = _load(order_id)
        return orders.save(order, rules.settle_refund(order, refund_id, status, provider_refund_id))

    return retried(attempt, OrderChanged,
                   lambda: _kept_changing("The order kept changing while recording the refund."))


def _refund(order_id: str, amount: int | None, reason: str | None) -> OrderRecord:
    """Refund `amount` (everything refundable when None); returns the settled order."""
    def record_pending() -> tuple[OrderRecord, Refund]:
        order = _load(order_id)
        if not order.amount_paid or not order.payment or not order.payment.payment_id:
            raise Conflict("Nothing has been paid for this order.")
        left = rules.refundable(order)
        wanted = left if amount is None else amount
        if wanted > left or wanted <= 0:
            raise Conflict(f"At most {left} can still be refunded on this order.", param="amount",
                           code="refund_exceeds_payment")
        refund = Refund(id=clock.new_id("ref", 12), amount=wanted, status="pending", reason=reason,
                        created_at=clock.now())
        orders.save(order, order.model_copy(update={"refunds": [*order.refunds, refund]}))
        return order, refund

    order, refund = retried(record_pending, OrderChanged, _kept_changing)
    provider = payments.provider(order.payment.provider)
    try:
        provider_refund_id = provider.refund(order.payment.payment_id, refund.amount, idempotency_key=refund.id)
    except Exception:
        _settle(order_id, refund.id, "failed", None)
        raise
    return _settle(order_id, refund.id, "succeeded", provider_refund_id)


def refund(order_id: str, amount: int, reason: str | None) -> Order:
    """Refund part or all of what was paid, never more in total, even concurrently. Raises
    ResourceMissing, InvalidRequest, Conflict (nothing paid, or more than is left),
    UpstreamUnavailable (nothing was refunded)."""
    if amount <= 0:
        raise InvalidRequest("amount must be positive.", param="amount")
    return Order.from_record(_refund(order_id, amount, reason))


def cancel(order_id: str, reason: str | None) -> Order:
    """Cancel an order that has not shipped: its stock is released, and what was paid is refunded in
    full. Raises ResourceMissing, Conflict (already cancelled or shipped), UpstreamUnavailable."""
    order = _load(order_id)
    if order.status == "cancelled":
        raise Conflict("The order is cancelled already.")
    if order.shipments:
        raise Conflict("Part of the order has shipped; refund instead of cancelling.")
    if rules.refundable(order) > 0:
        _refund(order_id, None, reason or "order cancelled")

    def attempt() -> Order:
        order = _load(order_id)
        if order.status == "cancelled":
            raise Conflict("The order is cancelled already.")
        if order.shipments:
            raise Conflict("Part of the order has shipped meanwhile; refund what is left instead.")
        after = order.model_copy(update={"status": "cancelled", "cancelled_at": clock.now(),
                                         "cancel_reason": reason or "cancelled by the shop", "stock_released": True})
        stock = [] if order.stock_released else rules.stock_moves(order, "release")
        return Order.from_record(orders.save(order, after, stock=stock, give_back_discount=order.holds_discount_use))

    return retried(attempt, (OrderChanged, StockShort), _kept_changing)
