"""Returns (RMA): the customer asks to return shipped lines within the return window; the shop approves
(a return number, instructions by email, a return request to the fulfilment provider) or rejects (with a
message), records the goods received per line (restocked exactly once, in the stock ledger, or written
off), and settles the return once: a refund to the original payment, store credit, or an exchange
(services/exchanges.py). The emails and the fulfilment message follow from the stream (events.py).

Exactly once: a return is created in the transaction that raises the order's returned counts under a
condition per SKU; every later step is a write conditioned on the return's version. A settlement is first
claimed on the return (`settling`, with the refund id that is its idempotency key), then made, then
recorded: a repeat after a crash resumes the same claim, a concurrent one is a 409.
"""

from datetime import timedelta

from chalicelib import clock, config
from chalicelib.errors import (
    Conflict,
    InvalidRequest,
    OrderChanged,
    OrderKeptChanging,
    ReturnExceedsShipment,
    ReturnWindowClosed,
    UpstreamUnavailable,
    not_found,
)
from chalicelib.models import orders as order_rules
from chalicelib.models import returns as rules
from chalicelib.models.returns import Return, ReturnLine, ReturnRecord, ReturnRefund, Settling
from chalicelib.repository import catalog, orders, returns
from chalicelib.retry import retried
from chalicelib.services import orders as order_service
from chalicelib.services import store_credit

# A claimed settlement that is older than this and unfinished (its worker died) may be resumed.
RESUME_AFTER = timedelta(seconds=60)


def _kept_changing() -> OrderKeptChanging:
    return OrderKeptChanging("The return kept changing; try again.")


def _load(return_id: str) -> ReturnRecord:
    record = returns.get(return_id) if return_id.startswith("ret_") and len(return_id) <= 64 else None
    if record is None:
        raise not_found("return")
    return record


def _order(order_id: str):
    order = orders.get(order_id)
    if order is None:
        raise not_found("order")
    return order


def request(order_id: str, lines: list[tuple[str, int, str]], comment: str | None) -> Return:
    """Ask to return `lines` (sku, quantity, reason) of a shipped order within the return window. Never
    more than was shipped and not yet returned per SKU, even concurrently. Not idempotent by itself (use
    an Idempotency-Key). Raises InvalidRequest (a SKU not in the order, twice, a gift card), ReturnWindowClosed,
    ReturnExceedsShipment."""
    def attempt() -> ReturnRecord:
        order = _order(order_id)
        gift_cards = {line.sku for line in order.lines if line.gift_card}
        for index, (sku, _, _) in enumerate(lines):
            if sku in gift_cards:  # issued and emailed when paid: nothing to send back
                raise InvalidRequest(f"SKU {sku} is a gift card: gift cards cannot be returned.",
                                     param=f"lines.{index}.sku")
        closes = rules.window_closes(order, config.settings().return_window_days)
        if closes is None or clock.now() > closes:
            raise ReturnWindowClosed("Nothing of this order can be returned: " + (
                "it has not shipped yet." if closes is None else f"the return window closed on {closes.date()}."))
        left, ordered, seen = rules.returnable(order), {line.sku for line in order.lines}, set()
        for index, (sku, quantity, _) in enumerate(lines):
            if sku not in ordered or sku in seen:
                raise InvalidRequest(f"SKU {sku} is {'listed twice' if sku in seen else 'not in this order'}.",
                                     param=f"lines.{index}.sku")
            seen.add(sku)
            if quantity > left.get(sku, 0):
                raise ReturnExceedsShipment(f"Only {left.get(sku, 0)} of SKU {sku} can be returned.",
                                            param=f"lines.{index}.quantity")
        now = clock.now()
        record = ReturnRecord(
            id=clock.new_id("ret", 12), order_id=order.id, order_token=order.token, email=order.email,
            customer_id=order.customer_id, currency=order.currency, comment=comment, created_at=now, updated_at=now,
            of_exchange=bool(order.exchange_of),
            lines=[ReturnLine(sku=sku, quantity=quantity, reason=reason) for sku, quantity, reason in lines])
        return returns.create(order, record, order_rules.shipped_units(order))

    # Exceeded: a concurrent return took the units between the read and the write; the read again says which.
    return Return.from_record(retried(attempt, (OrderChanged, returns.Exceeded), _kept_changing, backoff=0.02))


def for_order(order_id: str) -> list[Return]:
    return [Return.from_record(record) for record in returns.list_for_order(order_id)]


def get(return_id: str) -> Return:
    return Return.from_record(_load(return_id))


def list_by_status(status: str, limit: int, cursor: str | None) -> tuple[list[Return], str | None]:
    """A page of returns in `status`, oldest first."""
    records, next_cursor = returns.list_by_status(status, limit, cursor)
    return [Return.from_record(record) for record in records], next_cursor


def _decide(return_id: str, approve: bool, message: str | None) -> Return:
    wanted = "approved" if approve else "rejected"

    def attempt() -> ReturnRecord:
        record = _load(return_id)
        if record.status == wanted and record.message == message:
            return record  # a retry of this decision
        if record.status != "requested":
            raise Conflict(f"A return in state {record.status} cannot be {wanted}.")
        update = {"status": wanted, "message": message, "updated_at": clock.now()}
        if approve:
            year = clock.now().year
            update["number"] = f"R-{year}-{returns.next_number(year):06d}"
        give_back = None if approve else rules.settled_units(record)
        return returns.save(record, record.model_copy(update=update), give_back=give_back)

    return Return.from_record(retried(attempt, OrderChanged, _kept_changing))


def approve(return_id: str, message: str | None) -> Return:
    """Approve a requested return: it gets its number (R-<year>-<nnnnnn>); the customer is emailed the
    instructions and the fulfilment provider gets a return request (from the stream). A repeat is answered
    with the approved return. Raises ResourceMissing, Conflict (not requested)."""
    return _decide(return_id, True, message)


def reject(return_id: str, message: str | None) -> Return:
    """Reject a requested return with a message (emailed); its units can be asked for again. Raises
    ResourceMissing, Conflict (not requested)."""
    return _decide(return_id, False, message)


def receive(return_id: str, lines: list[tuple[str, int, bool]]) -> Return:
    """Record what arrived of an approved return: per line (sku, quantity, restock) restocked (back to on_hand
    and available, with a stock ledger entry, in the same transaction as the return's move to `received`:
    exactly once) or written off. A SKU not listed arrived with 0 units. Raises ResourceMissing,
    InvalidRequest (a SKU not in the return, twice), ReturnExceedsShipment (more than the return asked),
    Conflict (not approved)."""
    def attempt() -> ReturnRecord:
        record = _load(return_id)
        if record.status != "approved":
            raise Conflict(f"A return in state {record.status} cannot be received.")
        asked = {line.sku: line.quantity for line in record.lines}
        got: dict[str, tuple[int, bool]] = {}
        for index, (sku, quantity, restock) in enumerate(lines):
            if sku not in asked or sku in got:
                raise InvalidRequest(f"SKU {sku} is {'listed twice' if sku in got else 'not in this return'}.",
                                     param=f"lines.{index}.sku")
            if quantity > asked[sku]:
                raise ReturnExceedsShipment(f"The return is for {asked[sku]} of SKU {sku}.",
                                            param=f"lines.{index}.quantity")
            got[sku] = (quantity, restock)
        now = clock.now()
        after = record.model_copy(update={"status": "received", "updated_at": now, "lines": [
            line.model_copy(update={"received": got.get(line.sku, (0, False))[0],
                                    "restock": got.get(line.sku, (0, False))[1]}) for line in record.lines]})
        back = {sku: quantity for sku, (quantity, restock) in got.items() if restock and quantity}
        skus = catalog.get_skus(list(back))
        restocks = []
        for sku, quantity in back.items():
            found = skus.get(sku)
            if found is None:
                raise Conflict(f"SKU {sku} no longer exists; write it off instead.", param="lines")
            restocks.append((found, quantity, {
                "id": clock.new_id("adj", 8), "at": now, "reason": f"return {record.number} ({record.id}): restocked",
                "actor": "returns",
                "before": _snapshot(found.on_hand, found.reserved, found.low_stock_threshold),
                "after": _snapshot(found.on_hand + quantity, found.reserved, found.low_stock_threshold)}))
        return returns.receive(record, after, restocks)

    return Return.from_record(retried(attempt, (OrderChanged, returns.Moved), _kept_changing, backoff=0.02))


def _snapshot(on_hand: int, reserved: int, threshold: int | None) -> dict:
    return {"on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved, "low_stock_threshold": threshold}


def claim(return_id: str, method: str, amount_of) -> tuple[ReturnRecord, Settling]:
    """Claim the settlement of a return once: `amount_of(record, order)` says how much. A repeat after the
    claim's worker died (RESUME_AFTER) resumes it; a concurrent one, or one of a settled return, is a 409.
    Raises Conflict."""
    def attempt() -> tuple[ReturnRecord, Settling]:
        record = _load(return_id)
        if not settleable(record):
            raise Conflict(f"A return in state {record.status} cannot be settled.")
        now = clock.now()
        if record.settling:
            if record.settling.method != method or now - record.settling.claimed_at < RESUME_AFTER:
                raise Conflict("This return is being settled already.")
            return record, record.settling
        if record.refund and record.refund.method == "exchange" and record.refund.order_id:
            # Settled again after its exchange was cancelled unpaid: what the exchange used of the order is free.
            exchange = orders.get(record.refund.order_id)
            if exchange is not None:
                order_service.uncredit(record.order_id, exchange_credit_id(exchange.cart_id))
        settling = Settling(method=method, amount=amount_of(record, _order(record.order_id)),
                            refund_id=clock.new_id("ref", 12), claimed_at=now)
        return returns.save(record, record.model_copy(update={"settling": settling}), order_status=False), settling

    return retried(attempt, OrderChanged, _kept_changing)


def settleable(record: ReturnRecord) -> bool:
    """Approved or received; or settled as an exchange whose order was cancelled unpaid (its difference never
    came): the customer's return is still owed, so it may be settled again."""
    if record.status in rules.SETTLEABLE:
        return True
    if record.status != "refunded" or not record.refund or record.refund.method != "exchange":
        return False
    exchange = orders.get(record.refund.order_id or "")
    return exchange is not None and exchange.status == "cancelled" and not exchange.amount_paid


def release(record: ReturnRecord) -> None:
    """Give up a claim whose money movement failed (nothing moved): the shop may try again at once."""
    def attempt() -> None:
        current = _load(record.id)
        if current.settling and current.settling.refund_id == record.settling.refund_id:
            returns.save(current, current.model_copy(update={"settling": None}), order_status=False)

    if record.settling.method != "original":  # what it recorded on the order as given back (credit_once)
        order_service.uncredit(record.order_id, record.settling.refund_id)
    retried(attempt, OrderChanged, _kept_changing)


def settled(record: ReturnRecord, refund: ReturnRefund) -> Return:
    """Record a claimed settlement as done: the return is `refunded` (and so is the order's return_status)."""
    def attempt() -> ReturnRecord:
        current = _load(record.id)
        if not current.settling or current.settling.refund_id != record.settling.refund_id:
            return current  # recorded already (by a repeat of this claim)
        return returns.save(current, current.model_copy(update={"status": "refunded", "refund": refund,
                                                                "settling": None, "updated_at": clock.now()}))

    return Return.from_record(retried(attempt, OrderChanged, _kept_changing))


def _exchanged_from(order) -> tuple[str, str] | None:
    """For an exchange order: the order whose return it settles, and the id under which that order recorded
    what the exchange used of the return's worth (credit_once). None for any other order."""
    settles = returns.get(order.exchange_of) if order.exchange_of else None
    return (settles.order_id, exchange_credit_id(order.cart_id)) if settles else None


def _back_refund_id(record: ReturnRecord) -> str:
    """The refund, on the order an exchange settled, of what a return of the exchange's goods gives back there."""
    return "ref_b" + record.id.removeprefix("ret_")


def refundable_worth(record: ReturnRecord, order) -> int:
    """What the return's settled units are worth, at most what the order has left to refund (for the goods of an
    exchange, what the return it settled paid for them counts: what is left of it on that order). Raises Conflict
    while the order's invoice is open: what the company owes is not paid, so nothing can be given back yet."""
    if order.payment_status == "invoiced":
        number = f" {order.invoice.number}" if order.invoice else ""
        raise Conflict(f"The order's invoice{number} is not paid yet: settle the return once it is paid.")
    left = max(order_rules.refundable(order), 0)
    exchanged = _exchanged_from(order)
    if exchanged:
        original, credit_id = _order(exchanged[0]), exchanged[1]
        entry = order_service.released_id(credit_id, record.id)
        left += order_service.credit_left(original, credit_id) - sum(
            c.amount for c in original.credits if c.id == entry and c.status == "succeeded")
    return min(rules.value(order, rules.settled_units(record)), left)


def _from_exchanged(record: ReturnRecord, settling: Settling) -> tuple[str, int]:
    """For a return of an exchange order's goods: what the exchange used of its return's worth is given back to
    the order that paid it first, once per return (the rest is the exchange order's own). Answers that order and
    how much (0 and "" for another order)."""
    exchanged = _exchanged_from(_order(record.order_id)) if record.of_exchange is not False else None
    if not exchanged:
        return "", 0
    released = order_service.release_credit_once(exchanged[0], exchanged[1], settling.amount, record.id,
                                                 f"return {record.number} of exchanged goods")
    return exchanged[0], released


def refund(return_id: str, method: str) -> Return:
    """Settle a return with money, once, even concurrently: `original` refunds what the returned units cost
    (bounded by what is left to refund) through the provider; `store_credit` credits it (plus
    RETURN_STORE_CREDIT_BONUS_PERCENT) to the customer. The goods of an exchange are paid back first to the order
    whose return paid for them. Raises ResourceMissing, Conflict (not approved or received, settled or being
    settled), UpstreamUnavailable (nothing moved; retry)."""
    if method == "store_credit":
        return _store_credit(return_id)
    record, settling = claim(return_id, "original", refundable_worth)
    if settling.amount > 0:
        try:
            original, released = _from_exchanged(record, settling)
            if released:
                order_service.refund_once(original, released, f"return {record.number} of exchanged goods",
                                          _back_refund_id(record))
            if settling.amount > released:
                order_service.refund_once(record.order_id, settling.amount - released, f"return {record.number}",
                                          settling.refund_id)
        except (UpstreamUnavailable, Conflict):
            release(record)
            raise
    return settled(record, ReturnRefund(method="original", amount=settling.amount))


def _store_credit(return_id: str) -> Return:
    bonus = config.settings().return_store_credit_bonus_percent

    record, settling = claim(return_id, "store_credit", refundable_worth)
    if record.customer_id is None:
        release(record)
        raise Conflict("The order's customer was erased; refund to the original payment instead.")
    # Recorded on the order first, as given back (a concurrent refund may have left less), then credited:
    # the credit never exceeds what the order has left to refund, and later refunds count it.
    worth = earning = 0
    if settling.amount > 0:
        original, released = _from_exchanged(record, settling)
        parts = [(original, order_service.credit_once(original, released, f"return {record.number}: store credit",
                                                      _back_refund_id(record)) if released else 0)]
        if settling.amount > released:
            parts.append((record.order_id, order_service.credit_once(
                record.order_id, settling.amount - released, f"return {record.number}: store credit",
                settling.refund_id)))
        worth = sum(part for _, part in parts)
        if bonus:  # which part earns it reads the orders again: only when there is a bonus
            earning = sum(_earns_bonus(order_id, part) for order_id, part in parts if part)
    credit = worth + earning * bonus // 100
    if credit > 0:
        # Idempotent by its source (the return): a resumed claim grants nothing twice.
        store_credit.grant(record.customer_id, record.currency, credit, f"return {record.number}", record.id)
    return settled(record, ReturnRefund(method="store_credit", amount=credit))


def _earns_bonus(order_id: str, worth: int) -> int:
    """What of `worth` given back as store credit earns the bonus: not the share the order paid with store credit
    (credit returned as credit plus a bonus would grow by buying and returning, again and again)."""
    order = _order(order_id)
    paid_by_credit = sum(t.amount for t in order.tenders if t.method == "store_credit")
    if not paid_by_credit or not order.amount_paid:
        return worth
    return max(worth - -(-worth * paid_by_credit // order.amount_paid), 0)


def exchange_credit_id(exchange_cart_id: str) -> str:
    """The id under which an exchange records on the original order what it used of the return's worth: its
    claim's refund id, which its in-memory cart's id is derived from (services/exchanges.py)."""
    return "ref_" + exchange_cart_id.removeprefix("exc_")
