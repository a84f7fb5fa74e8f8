"""The CRM's pure rules (chalicelib/models/crm.py): one segment per customer by whole UTC days, and
which order changes count for a customer."""

from datetime import timedelta

import pytest

from chalicelib import clock

ADA = "ada@example.com"



def stats(**kw):
    from datetime import UTC, datetime

    from chalicelib.models.crm import CustomerStats

    base = {"id": "cus_x", "email": ADA, "orders_count": 1, "lifetime_value": {"EUR": 1000},
            "last_order_at": datetime(2026, 1, 1, 23, 59, tzinfo=UTC), "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
    return CustomerStats(**(base | kw))


@pytest.mark.parametrize(("days", "fields", "segment"), [
    (0, {}, "new"), (59, {}, "new"), (60, {}, "at_risk"), (119, {}, "at_risk"), (120, {}, "lapsed"),
    (0, {"orders_count": 2}, "repeat"), (0, {"orders_count": 2, "lifetime_value": {"USD": 50000}}, "vip"),
    (0, {"lifetime_value": {"EUR": 49999}}, "new"), (60, {"lifetime_value": {"EUR": 90000}}, "at_risk"),
    (0, {"orders_count": 0}, None),
])
def test_one_segment_per_customer_by_whole_utc_days(days, fields, segment):
    from datetime import UTC, datetime

    from chalicelib.models.crm import segment_of

    now = datetime(2026, 1, 1, 0, 1, tzinfo=UTC) + timedelta(days=days)
    assert segment_of(stats(**fields), now, 50000) == segment


def test_only_refunds_of_orders_that_counted_come_off_the_lifetime_value():
    from chalicelib.models.crm import order_facts
    from chalicelib.models.orders import OrderRecord

    now = clock.now()
    order = OrderRecord.model_validate({
        "id": "ord_1", "cart_id": "cart_1", "token": "t", "currency": "EUR", "email": ADA, "lines": [],
        "shipping_address": {"name": "A", "line1": "1", "city": "B", "postal_code": "1", "country": "DE"},
        "shipping_method": "standard", "subtotal": 1000, "shipping_total": 0, "tax_total": 0, "total": 1000,
        "created_at": clock.iso(now), "payment_deadline": clock.iso(now)})
    paid = order.model_copy(update={"status": "paid", "paid_at": now, "amount_paid": 1000})
    refunded = paid.model_copy(update={"amount_refunded": 400})
    late = order.model_copy(update={"status": "cancelled", "paid_at": now, "amount_paid": 1000,
                                    "amount_refunded": 1000})  # paid after it was cancelled: refunded whole
    assert [f.amount for f in order_facts(order, paid, now)] == [1000]
    assert [f.amount for f in order_facts(paid, refunded, now)] == [-400]
    assert order_facts(order.model_copy(update={"status": "cancelled"}), late, now) == []
    assert order_facts(paid, paid, now) == []
