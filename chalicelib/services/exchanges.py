"""Exchanges: an approved or received return settled as a new order for other SKUs.

The exchange order is priced and reserved like a checkout (services/checkout.py builds it from a cart that
exists only in memory: same prices, stock conditions, shards and shipping; repository/orders.place writes
it), with the return's worth taken off its total. Its id is derived from the claim on the return's settlement, and the
transaction that places it also moves the return to `refunded` on the version read: one exchange order per
return. An exchange order cancelled unpaid (the difference never came) leaves the return to be settled again.
What the new goods cost beyond the return's worth is charged through the provider (the order is
`pending_payment` with a PaymentIntent, like a checkout); an order the return covers is paid at once; a
return worth more than the new goods gives the difference back, once (its refund id, or store credit
source, is derived from the exchange order): to the original payment, or as store credit
(RETURN_EXCHANGE_DIFFERENCE).
"""

from datetime import timedelta

from chalicelib import clock, config
from chalicelib.errors import (
    CartChanged,
    Conflict,
    InvalidRequest,
    OrderChanged,
    OutOfStock,
    StockShort,
    UnknownSku,
)
from chalicelib.models import CartLineRecord, CartRecord
from chalicelib.models import orders as order_rules
from chalicelib.models.orders import OrderRecord
from chalicelib.models.returns import Return, ReturnRecord, ReturnRefund, Settling
from chalicelib.repository import catalog, orders, returns
from chalicelib.retry import retried
from chalicelib.services import checkout, store_credit
from chalicelib.services import orders as order_service
from chalicelib.services import returns as return_service


def _difference_refund_id(record: ReturnRecord) -> str:
    return "ref_x" + (record.refund.order_id or "").removeprefix("ord_")


def _exchange_order(record: ReturnRecord, original: OrderRecord, lines: list[tuple[str, int]],
                    settling: Settling) -> tuple[OrderRecord, int]:
    """The exchange order, with `credit` (the return's worth) taken off its total, and the credit it used."""
    now = clock.now()
    # One exchange order per claim of the return's settlement (its id follows from the claim's): a repeat of
    # the claim names the same order.
    credit = settling.amount
    cart = CartRecord(id="exc_" + settling.refund_id.removeprefix("ref_"), currency=original.currency,
                      email=original.email,
                      lines=[CartLineRecord(sku=sku, quantity=quantity) for sku, quantity in lines],
                      shipping_address=original.shipping_address, shipping_method=original.shipping_method,
                      customer_id=original.customer_id, created_at=now, updated_at=now,
                      expires_at=int(now.timestamp()))
    skus = catalog.get_skus([sku for sku, _ in lines] + list(config.settings().pricing.promoted_skus))
    _check_for_sale(skus, lines, original.currency)
    try:
        order = checkout._new_order(cart, skus, None, None, original.customer_id)
    except OutOfStock as short:
        raise OutOfStock(short.message, param="exchange_" + (short.param or "lines"), **short.extra) from None
    except InvalidRequest as error:
        raise InvalidRequest(error.message, param="exchange_lines") from None
    covered = min(credit, order.total)
    order = order.model_copy(update={"discount_total": order.discount_total + covered,
                                     "total": order.total - covered, "exchange_of": record.id,
                                     "stock_shards": checkout._shard_plan(order, skus)})
    if order.total == 0:
        return order.model_copy(update={"status": "paid", "payment_status": "paid", "paid_at": now,
                                        "payment": None}), covered
    # The customer pays the difference from the settled email: the order waits longer than a checkout's.
    deadline = now + timedelta(hours=config.settings().exchange_payment_window_hours)
    return checkout._with_payment(order.model_copy(update={"payment_deadline": deadline})), covered


def _check_for_sale(skus: dict, lines: list[tuple[str, int]], currency: str) -> None:
    for index, (sku, _) in enumerate(lines):
        variant = skus.get(sku)
        if variant is None or not variant.active or variant.price_in(currency) is None:
            raise UnknownSku(f"SKU {sku} is not for sale in {currency}.", param=f"exchange_lines.{index}.sku")


def exchange(return_id: str, lines: list[tuple[str, int]]) -> Return:
    """Settle the return as an exchange order for `lines` (sku, quantity), once: a repeat answers the
    settled return (and finishes giving back a difference owed). Raises ResourceMissing, InvalidRequest
    (a SKU not for sale, listed twice), OutOfStock (nothing reserved), Conflict (not approved or received,
    settled otherwise or being settled), UpstreamUnavailable."""
    if len({sku for sku, _ in lines}) != len(lines):
        raise InvalidRequest("A SKU is listed twice.", param="exchange_lines")
    current = return_service._load(return_id)
    if current.status == "refunded" and current.refund and current.refund.method == "exchange" \
            and not return_service.settleable(current):
        return _give_back(current)
    # A SKU not for sale is refused before the settlement is claimed: a bad request writes nothing (checked
    # again when the order is built, for one taken off sale meanwhile).
    _check_for_sale(catalog.get_skus([sku for sku, _ in lines]), lines, current.currency)
    # A return knows whether its order is an exchange's (of_exchange); one written before that reads its order.
    returned_from = orders.get(current.order_id) if current.of_exchange is not False else None
    if returned_from is not None and returned_from.exchange_of:
        # Its goods were paid (partly) by the return it settled, on another order: they go back there as money
        # or store credit (services/returns.py), not into a third order.
        raise Conflict("The goods of an exchange cannot be exchanged again; refund them or settle them as "
                       "store credit.")
    # The return's worth, at most what the order has left to refund (a goodwill refund may have paid it).
    record, settling = return_service.claim(return_id, "exchange", return_service.refundable_worth)

    def attempt() -> ReturnRecord:
        fresh = return_service._load(return_id)
        if not fresh.settling or fresh.settling.refund_id != settling.refund_id:
            return fresh  # this claim was recorded already (a repeat)
        original = orders.get(record.order_id)
        order, covered = _exchange_order(fresh, original, lines, settling)
        # What the exchange uses of the return's worth counts as given back on the original order, first.
        if covered and order_service.credit_once(record.order_id, covered, f"return {record.number}: exchange",
                                                 settling.refund_id) != covered:
            raise Conflict("The order was refunded meanwhile; settle the return again.")
        owed = settling.amount - covered
        refund = ReturnRefund(method="exchange", amount=covered, order_id=order.id)
        after = fresh.model_copy(update={"status": "refunded", "refund": refund, "settling": None,
                                         "owed_back": owed, "exchange_due": order.total,
                                         "exchange_token": order.token, "updated_at": clock.now()})
        returns.settle_as_order(fresh, after, order)
        return after

    try:
        done = retried(attempt, (OrderChanged, CartChanged, StockShort),
                       lambda: Conflict("The exchange kept changing; try again."), backoff=0.02)
    except (InvalidRequest, Conflict):
        return_service.release(record)
        raise
    return _give_back(return_service._load(done.id))


def _give_back(record: ReturnRecord) -> Return:
    """The difference a cheaper exchange owes, given back once: as store credit with
    RETURN_EXCHANGE_DIFFERENCE=store_credit (and a customer), else refunded to the original payment (at most
    what is left to refund there)."""
    if record.owed_back <= 0:
        return Return.from_record(record)
    reason = f"return {record.number}: exchange difference"
    if config.settings().return_exchange_difference == "store_credit" and record.customer_id:
        # Counted as given back on the original order first (at most what it has left), then credited.
        owed = order_service.credit_once(record.order_id, record.owed_back, reason, _difference_refund_id(record))
        if owed > 0:
            store_credit.grant(record.customer_id, record.currency, owed, reason, _difference_refund_id(record))
    else:
        original = orders.get(record.order_id)
        refund_id = _difference_refund_id(record)
        owed = record.owed_back if any(r.id == refund_id for r in original.refunds) \
            else min(record.owed_back, order_rules.refundable(original))
        if owed > 0:
            order_service.refund_once(record.order_id, owed, reason, refund_id)
    return Return.from_record(record)
