"""Order use cases after checkout: the customer's order page, payment events from the provider, the
expiry of unpaid orders, the reconciliation of payments with the provider (webhooks are the fast
path, never the only one), and the shop's shipments, refunds and cancellations.

Every change reads the order, decides with the pure rules of `models/orders.py`, and saves on the
version read (`repository/orders.save`), retried when a racing writer got there first.

A refund is first recorded as pending on the order (conditioned on the order's version, so two
concurrent refunds cannot both fit in what was paid), then made through the provider with the
refund's id as idempotency key, then settled. A provider failure settles it as failed (502): the
money was not moved and the shop may try again.
"""

import hmac
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib import clock, config, observability, payments
from chalicelib.errors import (
    Conflict,
    DuplicateEvent,
    InvalidRequest,
    OrderChanged,
    OrderKeptChanging,
    OverShipment,
    RefundExceedsPayment,
    ResourceMissing,
    StockShort,
    UpstreamUnavailable,
    not_found,
)
from chalicelib.models import orders as rules
from chalicelib.models.balances import allocate
from chalicelib.models.orders import Order, OrderRecord, Refund, Shipment, ShipmentLine, Transition
from chalicelib.models.stock import replan
from chalicelib.repository import catalog, orders
from chalicelib.retry import retried
from chalicelib.services import gift_cards, invoices, tenders

log = logging.getLogger(__name__)
# A webhook normally lands within seconds; after `reconcile_after_seconds` (default 2 minutes,
# RECONCILE_AFTER_SECONDS) the reconciliation sweep asks the provider.
# Payment states in which the money may still come: an order in one is never cancelled.
STILL_RUNNING = frozenset({"processing", "requires_capture"})


def _load(order_id: str) -> OrderRecord:
    order = orders.get(order_id)
    if order is None:
        raise not_found("order")
    return order


def _kept_changing(message: str = "The order kept changing; try again.") -> OrderKeptChanging:
    return OrderKeptChanging(message)


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


def list_recent(status: str | None, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
    """A page of orders, newest first (only those in `status` when given), and the next page's cursor."""
    records, next_cursor = orders.list_recent(status, limit, cursor)
    return [Order.from_record(record) for record in records], next_cursor


# Payment events ------------------------------------------------------------------------------

def receive_webhook(provider_name: str, raw_body: bytes, headers) -> str:
    """Verify the event's signature on the raw body (InvalidSignature: nothing is written) and
    apply it at most once. Raises ResourceMissing for an order not known yet (the provider retries)."""
    return apply_payment_event(payments.provider(provider_name).parse_webhook(raw_body, headers))


def _stock_moves(order: OrderRecord, transition: Transition) -> list[rules.StockMove]:
    if transition.release_stock:
        return rules.stock_moves(order, "release")
    if transition.reserve_stock:
        return rules.stock_moves(transition.order, "reserve")
    return []


def _where_stock_is(transition: Transition) -> Transition:
    """A late payment re-reserves a sharded SKU on shards that have the stock now, also one that was a
    single item when the order was placed (one more read, only for a late payment)."""
    after = transition.order
    if not transition.reserve_stock:
        return transition
    wanted = rules.quantities(after)
    skus = catalog.get_skus(list(wanted))
    recorded = after.stock_shards | {sku: [(0, quantity)] for sku, quantity in wanted.items()
                                     if sku not in after.stock_shards and sku in skus and skus[sku].shards > 1}
    if not recorded:
        return transition
    plans = replan(recorded, wanted, {sku: r.shard_levels for sku, r in skus.items()})
    return replace(transition, order=after.model_copy(update={"stock_shards": plans}))


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
                                               event.amount_refunded, clock.now(), stock_available,
                                               payment_id=event.payment_id)
        if transition is None:
            return "unchanged"
        transition = _where_stock_is(transition)
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
                                             "payment_status": rules.refunded_status(after.amount_paid, refunded)})
        try:
            orders.save(order, after, stock=_stock_moves(order, transition), event=(event.provider, event.id),
                        give_back_discount=transition.release_stock and order.holds_discount_use)
        except DuplicateEvent:
            return "duplicate"
        except StockShort as short:
            # The goods went to someone else (refund instead), unless the SKU still has them and only the
            # shard planned on moved meanwhile (a change of the shard count): plan again.
            variant = catalog.get_skus([short.sku]).get(short.sku)
            if variant is None or not variant.active or variant.available < rules.quantities(after).get(short.sku, 0):
                stock_available = False
            raise
        if after.status == "paid" and order.status != "paid":
            observability.metric("OrdersPaid", currency=after.currency)
            observability.metric("Revenue", after.total, currency=after.currency)
        return "applied"

    return retried(attempt, (OrderChanged, StockShort),
                   lambda: OrderChanged("The order kept changing; deliver the event again."))


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
        if rules.expire(order, now) is None:
            continue
        if order.payment and order.payment.payment_id:
            if _settle_with_provider(order, cancel=True) != "unpaid":
                continue
            order = orders.get(order.id)  # a webhook may have raced the question
            if order is None or rules.expire(order, now) is None:
                continue
        transition = rules.expire(order, now)
        try:
            orders.save(order, transition.order, stock=_stock_moves(order, transition),
                        give_back_discount=order.holds_discount_use)
            cancelled += 1
        except OrderChanged:
            log.info("order %s changed while expiring it; the next run looks again", order.id)
    return cancelled


def reconcile_payments(now: datetime | None = None) -> dict:
    """Ask the provider about every unpaid order with a payment that has waited longer than
    `reconcile_after_seconds` and apply what it says (a success as paid, a cancellation as cancelled), so an
    order whose webhooks never came is settled within one run. Orders past their deadline are the
    expiry's. Safe to repeat: applying goes through the same state machine as the webhook. Returns
    `{"checked": n, "settled": k}`."""
    now = now or clock.now()
    checked = settled = 0
    waited = timedelta(seconds=config.settings().reconcile_after_seconds)
    for order in orders.each_pending_created_before(clock.iso(now - waited)):
        if not (order.payment and order.payment.payment_id) or order.payment_deadline <= now:
            continue
        checked += 1
        settled += _settle_with_provider(order, cancel=False) in {"paid", "cancelled"}
    if settled:
        log.warning("reconciliation settled %d of %d unpaid orders whose webhooks had not come", settled, checked)
    return {"checked": checked, "settled": settled}


def _settle_with_provider(order: OrderRecord, cancel: bool) -> str:
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
    kind = rules.provider_event_kind(state["status"])
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


# Shipments -----------------------------------------------------------------------------------

def ship(order_id: str, carrier: str, tracking_number: str, lines: list[ShipmentLine] | None) -> Order:
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
                wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
                if line.sku not in {ordered.sku for ordered in order.lines}:
                    raise InvalidRequest(f"SKU {line.sku} is not in this order.", param=f"lines.{index}.sku")
        for index, (sku, quantity) in enumerate(wanted.items()):
            if quantity > left.get(sku, 0):
                raise OverShipment(f"Only {left.get(sku, 0)} of SKU {sku} are left to ship.",
                                   param=f"lines.{index}.quantity")
        if not wanted:
            raise OverShipment("Everything in this order has been shipped.")
        shipment = Shipment(id=clock.new_id("shp", 12), carrier=carrier, tracking_number=tracking_number,
                            lines=[ShipmentLine(sku=sku, quantity=q) for sku, q in wanted.items()],
                            created_at=clock.now())
        after = order.model_copy(update={"shipments": [*order.shipments, shipment]})
        after = after.model_copy(update={"fulfilment_status": "partially_shipped" if rules.unshipped(after)
                                         else "shipped"})
        return Order.from_record(orders.save(order, after, stock=rules.stock_moves(order, "ship", wanted)))

    return retried(attempt, (OrderChanged, StockShort), _kept_changing)


# Refunds and cancellations -------------------------------------------------------------------

def _settle(order_id: str, refund_id: str, status: str, provider_refund_id: str | None) -> OrderRecord:
    def attempt() -> OrderRecord:
        order = _load(order_id)
        return orders.save(order, rules.settle_refund(order, refund_id, status, provider_refund_id))

    return retried(attempt, OrderChanged,
                   lambda: _kept_changing("The order kept changing while recording the refund."))


def _refund_parts(order: OrderRecord, wanted: int, reason: str | None,
                  refund_id: str | None = None) -> tuple[dict, tuple | None, Refund | None]:
    """How refunding `wanted` changes the order: (its update, the give-back to gift cards and store credit
    for `orders.save`, the provider's refund recorded pending or None). The part going back to the
    balances (first, unless REFUND_TO=provider) is recorded succeeded, as `<refund_id>_balances` with a
    `refund_id`. Raises Conflict when the provider's part has no payment to go back to."""
    to_balances = rules.balance_share(order, wanted, tenders.refund_to_balances_first())
    if wanted > to_balances and not (order.payment and order.payment.payment_id):
        raise Conflict("Nothing has been paid for this order with the provider.")
    now = clock.now()
    refunds, update, give_back, pending = list(order.refunds), {}, None, None
    if to_balances:
        returned = Refund(id=f"{refund_id}_balances" if refund_id else clock.new_id("ref", 12),
                          amount=to_balances, status="succeeded", reason=reason, created_at=now)
        refunds.append(returned)
        parts = allocate([t.amount for t in order.tenders], order.refunded_to_balances, to_balances)
        give_back = (list(zip(order.tenders, parts, strict=True)), f"refund_{returned.id}", "refund")
        refunded = order.amount_refunded + to_balances
        update = {"amount_refunded": refunded, "refunded_to_balances": order.refunded_to_balances + to_balances,
                  "payment_status": rules.refunded_status(order.amount_paid, refunded)}
    if wanted > to_balances:
        pending = Refund(id=refund_id or clock.new_id("ref", 12), amount=wanted - to_balances, status="pending",
                         reason=reason, created_at=now)
        refunds.append(pending)
    return update | {"refunds": refunds}, give_back, pending


def _pay_back(order: OrderRecord, refund: Refund) -> OrderRecord:
    """Make the provider's refund recorded pending on `order`, and settle it: succeeded, or failed (the
    provider's error is raised: no money moved, the shop may try again)."""
    provider = payments.provider(order.payment.provider)
    try:
        provider_refund_id = provider.refund(order.payment.payment_id, refund.amount, idempotency_key=refund.id)
    except Exception:
        _settle(order.id, refund.id, "failed", None)
        raise
    return _settle(order.id, refund.id, "succeeded", provider_refund_id)


def _refund(order_id: str, amount: int | None, reason: str | None, refund_id: str | None = None,
            held=None) -> OrderRecord:
    """Refund `amount` (everything refundable when None); returns the settled order. The part going
    back to gift cards and store credit (first, unless REFUND_TO=provider) is given back in the same
    transaction that records it; the provider's part follows. With `refund_id`, once: a refund of that
    id already recorded is resumed (pending) or answered (succeeded), not made again (its part to the
    balances is recorded as `<refund_id>_balances`, in the same write). `held(order)`: what of the order may
    not be refunded (gift cards it bought that can still be spent)."""
    def record_pending() -> tuple[OrderRecord, Refund | None]:
        order = _load(order_id)
        done = next((r for r in order.refunds if refund_id and r.id == refund_id), None)
        if done is not None:
            return order, done
        if refund_id and any(r.id == f"{refund_id}_balances" for r in order.refunds):
            return order, None  # it all went back to the balances
        if not order.amount_paid:
            raise Conflict("Nothing has been paid for this order.")
        kept = held(order) if held else 0
        left = rules.refundable(order) - kept
        wanted = left if amount is None else amount
        if wanted > left or wanted <= 0:
            raise RefundExceedsPayment(f"At most {max(left, 0)} can still be refunded on this order" + (
                f": {kept} of it paid for gift cards that can still be spent; disable them first." if kept else "."),
                param="amount")
        update, give_back, pending = _refund_parts(order, wanted, reason, refund_id)
        saved = orders.save(order, order.model_copy(update=update), give_back=give_back)
        return saved, pending

    order, refund = retried(record_pending, OrderChanged, _kept_changing)
    if refund is None or refund.status == "succeeded":
        return order
    return _pay_back(order, refund)


def refund(order_id: str, amount: int, reason: str | None) -> Order:
    """Refund part or all of what was paid, never more in total, even concurrently, and never the price of
    a gift card the order bought that can still be spent (a disabled one: what was spent of it). Raises
    ResourceMissing, InvalidRequest, Conflict (nothing paid, or more than is left),
    UpstreamUnavailable (nothing was refunded)."""
    if amount <= 0:
        raise InvalidRequest("amount must be positive.", param="amount")
    # Never the price of a gift card it bought that can still be spent (disable the card first).
    return Order.from_record(_refund(order_id, amount, reason, held=gift_cards.still_spendable))


def refund_once(order_id: str, amount: int, reason: str | None, refund_id: str) -> Order:
    """Refund `amount` under the caller's `refund_id` (a return's settlement): a repeat with the same id
    moves no money again. Raises as `refund`."""
    return Order.from_record(_refund(order_id, amount, reason, refund_id))


def credit_once(order_id: str, amount: int, reason: str, credit_id: str) -> int:
    """Record on the order, once under `credit_id`, that up to `amount` of what was paid went to the customer
    another way (a return settled as store credit or as an exchange): not refunded, but no refund, return or
    exchange can give the same money back again (models/orders.refundable). Answers what was recorded: at
    most what is left to refund (0 when nothing is); a repeat answers the first answer."""
    def attempt() -> int:
        order = _load(order_id)
        done = next((c for c in order.credits if c.id == credit_id and c.status == "succeeded"), None)
        if done is not None:
            return done.amount
        recorded = min(amount, max(rules.refundable(order), 0))
        if recorded <= 0:
            return 0
        entry = Refund(id=credit_id, amount=recorded, status="succeeded", reason=reason, created_at=clock.now())
        orders.save(order, order.model_copy(update={
            "credits": [c for c in order.credits if c.id != credit_id] + [entry]}))
        return recorded

    return retried(attempt, OrderChanged, _kept_changing)


def released_id(credit_id: str, source: str) -> str:
    return f"{credit_id}:back:{source}"


def credit_left(order: OrderRecord, credit_id: str) -> int:
    """What is left of what credit_once recorded under `credit_id`, after release_credit_once gave some back."""
    return max(sum(c.amount for c in order.credits if c.status == "succeeded"
                   and (c.id == credit_id or c.id.startswith(released_id(credit_id, "")))), 0)


def release_credit_once(order_id: str, credit_id: str, amount: int, source: str, reason: str) -> int:
    """Give back to the order, once per `source`, up to `amount` of what credit_once recorded under `credit_id`
    (the goods an exchange bought with the return's worth were returned in turn): recorded as a negative credit,
    it is refundable again. Answers what was released (a repeat answers the first answer)."""
    entry_id = released_id(credit_id, source)

    def attempt() -> int:
        order = _load(order_id)
        done = next((c for c in order.credits if c.id == entry_id and c.status == "succeeded"), None)
        if done is not None:
            return -done.amount
        released = min(amount, credit_left(order, credit_id))
        if released <= 0:
            return 0
        entry = Refund(id=entry_id, amount=-released, status="succeeded", reason=reason, created_at=clock.now())
        orders.save(order, order.model_copy(update={"credits": [*order.credits, entry]}))
        return released

    return retried(attempt, OrderChanged, _kept_changing)


def uncredit(order_id: str, credit_id: str) -> None:
    """Void what credit_once recorded under `credit_id` (its settlement did not happen: an exchange that could
    not be placed, or was cancelled unpaid); the entry stays, as failed. Nothing to void is fine."""
    def attempt() -> None:
        order = _load(order_id)
        voided = {c.id for c in order.credits if c.status == "succeeded"
                  and (c.id == credit_id or c.id.startswith(released_id(credit_id, "")))}
        if voided:
            orders.save(order, order.model_copy(update={"credits": [
                c.model_copy(update={"status": "failed"}) if c.id in voided else c for c in order.credits]}))

    retried(attempt, OrderChanged, _kept_changing)


def cancel(order_id: str, reason: str | None) -> Order:
    """Cancel an order that has not shipped, in one transaction: its stock is released, the gift cards it
    bought that were issued are voided (each only while unspent), and what was paid is recorded refunded in
    full (its part to gift cards and store credit given back there); the provider's part of the refund
    follows. A card spent (even in part) or disabled refuses the cancel (GiftCardUsed, nothing changes); a
    card issued concurrently makes it read again (voided then, or never issued: gift_cards.issue_for_order).
    A provider failure leaves the order cancelled with its refund failed (UpstreamUnavailable): a repeat
    makes it. An unpaid order's payment is cancelled at the provider first (a payment that succeeded meanwhile
    is applied, then refunded by this cancel). Raises ResourceMissing, Conflict (already cancelled, shipped, gift
    cards only and delivered, or a payment still processing), GiftCardUsed, UpstreamUnavailable."""
    order = _load(order_id)
    if order.status == "cancelled":
        if order.invoice:  # a repeat finishes what an interrupted cancel left: the void
            invoices.void_for_cancelled_order(order.invoice.id)
        if order.amount_paid and rules.refundable(order) > 0:  # and the refund the provider failed to make
            return Order.from_record(_refund(order_id, None, order.cancel_reason or "order cancelled"))
        raise Conflict("The order is cancelled already.")
    if order.shipments:
        raise Conflict("Part of the order has shipped; refund instead of cancelling.")
    if order.fulfilment_status == "shipped":  # gift cards only, issued: they are delivered
        raise Conflict("The order's gift cards have been issued; disable them and refund instead of cancelling.")
    if order.status == "pending_payment" and order.payment and order.payment.payment_id:
        # Its payment is cancelled at the provider first, as the expiry does, so the customer cannot pay an
        # order that no longer stands; one that succeeded meanwhile is applied (the order is paid, and this
        # cancel refunds it).
        settled = _settle_with_provider(order, cancel=True)
        if settled == "processing":
            raise Conflict("A payment of this order is being processed at the provider; cancel once it settles.")
        if settled == "unknown":
            raise UpstreamUnavailable("The payment provider could not be reached; nothing was cancelled. Retry.")

    refund_id = clock.new_id("ref", 12)  # the same in every attempt: a write of this cancel is recognised

    def attempt() -> tuple[OrderRecord, Refund | None]:
        order = _load(order_id)
        mine = next((r for r in order.refunds if r.id in (refund_id, f"{refund_id}_balances")), None)
        if order.status == "cancelled" and mine is not None:
            # This cancel's transaction was written but its answer lost (a timeout, then a retry refused on the
            # version): the refund it recorded is made now, not forgotten.
            return order, next((r for r in order.refunds if r.id == refund_id and r.status == "pending"), None)
        if order.status == "cancelled":
            raise Conflict("The order is cancelled already.")
        if order.shipments or order.fulfilment_status == "shipped":
            raise Conflict("Part of the order has shipped meanwhile; refund what is left instead.")
        voids = gift_cards.voids_for_cancel(order)
        update, give_back, pending = {}, None, None
        left = rules.refundable(order) if order.amount_paid else 0
        if left > 0:
            update, give_back, pending = _refund_parts(order, left, reason or "order cancelled", refund_id)
        after = order.model_copy(update=update | {"status": "cancelled", "cancelled_at": clock.now(),
                                                  "cancel_reason": reason or "cancelled by the shop",
                                                  "stock_released": True})
        stock = [] if order.stock_released else rules.stock_moves(order, "release")
        saved = orders.save(order, after, stock=stock, give_back_discount=order.holds_discount_use,
                            give_back=give_back, extra=voids)
        return saved, pending

    cancelled, pending = retried(attempt, (OrderChanged, StockShort), _kept_changing)
    if pending is not None:
        cancelled = _pay_back(cancelled, pending)
    if cancelled.invoice:  # paid by invoice: the open invoice is void and the company's credit freed
        invoices.void_for_cancelled_order(cancelled.invoice.id)
    return Order.from_record(cancelled)
