"""Pure tests of the order state machine: every payment event, in any order, at most once."""

from datetime import UTC, datetime, timedelta
from itertools import permutations

from chalicelib.models import Address, CartLine
from chalicelib.models.orders import OrderRecord, apply_payment_event, expire, refunded_status

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def order(**changes) -> OrderRecord:
    base = OrderRecord(
        id="ord_1", cart_id="cart_1", token="t", currency="EUR", email="a@example.com",
        lines=[CartLine(sku="TEE-M", product_id="prod_1", title="Tee", quantity=2, unit_price=1000, line_total=2000)],
        shipping_address=Address(name="A", line1="1 St", city="Berlin", postal_code="10115", country="DE"),
        shipping_method="standard", subtotal=2000, shipping_total=495, tax_total=474, total=2969,
        created_at=NOW, payment_deadline=NOW + timedelta(minutes=30))
    return base.model_copy(update=changes)


def step(record, kind, amount=None, currency="EUR", refunded=None, stock=True):
    return apply_payment_event(record, kind, amount, currency, refunded, NOW, stock)


def test_a_matching_payment_marks_the_order_paid():
    t = step(order(), "payment_succeeded", 2969, "eur")
    assert (t.order.status, t.order.payment_status, t.order.amount_paid, t.order.paid_at) == ("paid", "paid", 2969, NOW)
    assert not (t.release_stock or t.reserve_stock or t.refund_amount)


def test_a_payment_of_another_amount_or_currency_needs_review():
    assert step(order(), "payment_succeeded", 2968).order.status == "needs_review"
    assert step(order(), "payment_succeeded", 2969, "USD").order.status == "needs_review"


def test_a_second_success_changes_nothing():
    paid = step(order(), "payment_succeeded", 2969).order
    assert step(paid, "payment_succeeded", 2969) is None


def test_a_failure_after_the_payment_never_moves_the_order_back():
    paid = step(order(), "payment_succeeded", 2969).order
    assert step(paid, "payment_failed") is None
    assert step(paid, "payment_canceled") is None


def test_a_failed_attempt_can_be_followed_by_a_success():
    failed = step(order(), "payment_failed").order
    assert (failed.status, failed.payment_status) == ("pending_payment", "failed")
    assert step(failed, "payment_succeeded", 2969).order.status == "paid"


def test_a_cancelled_payment_cancels_the_unpaid_order_and_releases_stock():
    t = step(order(), "payment_canceled")
    assert t.order.status == "cancelled" and t.release_stock and t.order.stock_released


def test_refunds_are_cumulative_and_monotonic():
    paid = step(order(), "payment_succeeded", 2969).order
    partly = step(paid, "refunded", refunded=1000).order
    assert (partly.amount_refunded, partly.payment_status) == (1000, "partially_refunded")
    assert step(partly, "refunded", refunded=500) is None  # an older event arriving late
    full = step(partly, "refunded", refunded=2969).order
    assert full.payment_status == "refunded"


def test_a_late_payment_for_an_expired_order_re_reserves_when_stock_allows():
    expired = expire(order(), NOW + timedelta(minutes=31)).order
    t = step(expired, "payment_succeeded", 2969, stock=True)
    assert t.order.status == "paid" and t.reserve_stock and not t.refund_amount


def test_a_late_payment_without_stock_is_refunded_and_the_order_stays_cancelled():
    expired = expire(order(), NOW + timedelta(minutes=31)).order
    t = step(expired, "payment_succeeded", 2969, stock=False)
    assert t.order.status == "cancelled" and t.refund_amount == 2969 and not t.reserve_stock


def test_expiry_only_after_the_deadline_and_only_when_unpaid():
    assert expire(order(), NOW + timedelta(minutes=29)) is None
    assert expire(step(order(), "payment_succeeded", 2969).order, NOW + timedelta(hours=1)) is None
    assert expire(order(), NOW + timedelta(minutes=30)).release_stock


def test_every_arrival_order_of_the_four_events_ends_in_the_same_state():
    events = [("payment_failed", None, None), ("payment_succeeded", 2969, None), ("refunded", None, 1000),
              ("payment_failed", None, None)]
    finals = set()
    for sequence in permutations(events):
        record = order()
        for kind, amount, refunded in sequence:
            t = step(record, kind, amount, refunded=refunded)
            record = t.order if t else record
            again = step(record, kind, amount, refunded=refunded)  # each delivered twice
            record = again.order if again else record
        finals.add((record.status, record.payment_status, record.amount_paid, record.amount_refunded))
    assert finals == {("paid", "partially_refunded", 2969, 1000)}


def test_refunded_status():
    assert [refunded_status(100, r) for r in (0, 1, 99, 100, 150)] == [
        "paid", "partially_refunded", "partially_refunded", "refunded", "refunded"]
