"""Refunds and cancellations by the shop.

A refund is first recorded as pending on the order (conditioned on the order's version, so two
concurrent refunds cannot both fit in what was paid), then made through the provider with the
refund's id as idempotency key, then settled. A provider failure settles it as failed (502): the
money was not moved and the shop may try again.
"""

from chalicelib import clock, ordering, payments
from chalicelib.errors import Conflict, InvalidRequest, OrderChanged, StockShort, not_found
from chalicelib.ordering import Order, OrderRecord, Refund
from chalicelib.repository import orders

ATTEMPTS = 8


def _load(order_id: str) -> OrderRecord:
    order = orders.get(order_id)
    if order is None:
        raise not_found("order")
    return order


def _settle(order_id: str, refund_id: str, status: str, provider_refund_id: str | None) -> OrderRecord:
    for _ in range(ATTEMPTS):
        order = _load(order_id)
        try:
            return orders.save(order, ordering.settle_refund(order, refund_id, status, provider_refund_id))
        except OrderChanged:
            continue
    raise Conflict("The order kept changing while recording the refund.", code="order_changed")


def _refund(order_id: str, amount: int | None, reason: str | None) -> OrderRecord:
    """Refund `amount` (everything refundable when None); returns the settled order."""
    for _ in range(ATTEMPTS):
        order = _load(order_id)
        if not order.amount_paid or not order.payment or not order.payment.payment_id:
            raise Conflict("Nothing has been paid for this order.")
        left = ordering.refundable(order)
        wanted = left if amount is None else amount
        if wanted > left or wanted <= 0:
            raise Conflict(f"At most {left} can still be refunded on this order.", param="amount",
                           code="refund_exceeds_payment")
        refund = Refund(id=clock.new_id("ref", 12), amount=wanted, status="pending", reason=reason,
                        created_at=clock.now())
        try:
            orders.save(order, order.model_copy(update={"refunds": [*order.refunds, refund]}))
            break
        except OrderChanged:
            continue
    else:
        raise Conflict("The order kept changing; try again.", code="order_changed")
    provider = payments.provider(order.payment.provider)
    try:
        provider_refund_id = provider.refund(order.payment.payment_id, wanted, idempotency_key=refund.id)
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
    if ordering.refundable(order) > 0:
        _refund(order_id, None, reason or "order cancelled")
    for _ in range(ATTEMPTS):
        order = _load(order_id)
        if order.status == "cancelled":
            raise Conflict("The order is cancelled already.")
        if order.shipments:
            raise Conflict("Part of the order has shipped meanwhile; refund what is left instead.")
        after = order.model_copy(update={"status": "cancelled", "cancelled_at": clock.now(),
                                         "cancel_reason": reason or "cancelled by the shop", "stock_released": True})
        stock = [] if order.stock_released else orders.all_lines(order, "release")
        try:
            return Order.from_record(orders.save(order, after, stock=stock,
                                                 give_back_discount=order.holds_discount_use))
        except (OrderChanged, StockShort):
            continue
    raise Conflict("The order kept changing; try again.", code="order_changed")
