"""Payments reconcile with the provider: webhooks are the fast path, never the only one.

Against localstripe, with no webhook endpoint registered: a payment confirmed there reaches the order only
when the backend asks (the reconciliation schedule, or the expiry sweep before it cancels anything). Also
the provider events that must never be recorded as they are: a second payment for a paid order (refunded
whole), a refund larger than the payment or in another currency (the order goes to `needs_review`).
"""

from datetime import timedelta

import pytest
import requests

from chalicelib import clock, config
from chalicelib.services import emails, orders
from tests.conftest import make_product
from tests.orders_support import Stream, charge_refunded, checked_out, post_event, queue_messages, stripe_event
from tests.stripe_support import pay
from tests.test_checkout import stock
from tests.test_expiry_and_relay import refunds_of
from tests.test_webhooks import order_of

AUTH = ("sk_test_commerce", "")


@pytest.fixture
def later(monkeypatch):
    """Move the clock forward by the given minutes."""
    def move(minutes: int):
        moment = clock.now() + timedelta(minutes=minutes)
        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment
    return move


def payment_id_of(result: dict) -> str:
    return result["payment"]["client_secret"].split("_secret_")[0]


def at_provider(localstripe: str, payment_id: str) -> dict:
    return requests.get(f"{localstripe}/v1/payment_intents/{payment_id}", auth=AUTH, timeout=5).json()


def tick(api, function: str):
    event = api.raw.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                             resources=[])
    return api.raw.lambda_.invoke(function, event).payload


def test_an_order_paid_at_the_provider_whose_webhook_never_came_is_paid_by_the_next_reconciliation(
        shop, later, localstripe):
    make_product(shop, on_hand=3)
    result = checked_out(shop, {"TEE-M": 2})
    assert pay(localstripe, payment_id_of(result))["status"] == "succeeded"
    assert tick(shop, "reconcile_payments") == {"checked": 0, "settled": 0}  # too young to ask about

    later(3)
    assert tick(shop, "reconcile_payments") == {"checked": 1, "settled": 1}
    order = order_of(shop, result)
    assert (order["status"], order["payment_status"], order["amount_paid"]) == ("paid", "paid", order["total"])
    assert stock("TEE-M") == {"on_hand": 3, "reserved": 2, "available": 1}
    assert tick(shop, "reconcile_payments") == {"checked": 0, "settled": 0}  # paid orders are not asked about


def test_the_expiry_applies_a_payment_that_succeeded_instead_of_cancelling_the_order(shop, later, localstripe):
    make_product(shop, on_hand=2)
    result = checked_out(shop, {"TEE-M": 2})
    assert pay(localstripe, payment_id_of(result))["status"] == "succeeded"
    later(31)
    assert orders.expire_unpaid() == 0
    order = order_of(shop, result)
    assert (order["status"], order["amount_paid"], order["amount_refunded"]) == ("paid", order["total"], 0)
    assert stock("TEE-M") == {"on_hand": 2, "reserved": 2, "available": 0}


def test_the_expiry_cancels_an_unpaid_payment_at_the_provider_so_it_can_never_take_money(shop, later, localstripe):
    make_product(shop, on_hand=2)
    result = checked_out(shop, {"TEE-M": 1})
    later(31)
    assert orders.expire_unpaid() == 1
    assert order_of(shop, result)["status"] == "cancelled"
    assert at_provider(localstripe, payment_id_of(result))["status"] == "canceled"
    refused = requests.post(f"{localstripe}/v1/payment_intents/{payment_id_of(result)}/confirm",
                            data={"payment_method": "pm_card_visa"}, auth=AUTH, timeout=5)
    assert refused.status_code >= 400


def test_the_expiry_cancels_nothing_while_the_provider_cannot_be_asked(shop, later, monkeypatch):
    from chalicelib import config
    from tests.conftest import free_port

    make_product(shop, on_hand=2)
    result = checked_out(shop, {"TEE-M": 1})
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    config.reset()
    later(31)
    assert orders.expire_unpaid() == 0
    assert order_of(shop, result)["status"] == "pending_payment"
    assert stock("TEE-M")["reserved"] == 1
    monkeypatch.undo()
    config.reset()


def test_a_second_payment_for_a_paid_order_is_refunded_whole_once_and_the_shop_is_told(
        shop, aws, localstripe, monkeypatch):
    make_product(shop, on_hand=2)
    result = checked_out(shop, {"TEE-M": 1})
    first = pay(localstripe, payment_id_of(result))
    assert post_event(shop, stripe_event("payment_intent.succeeded", first)).status_code == 200
    second = requests.post(f"{localstripe}/v1/payment_intents", auth=AUTH, timeout=5,
                           data={"amount": first["amount"], "currency": "eur", "payment_method_types[]": "card",
                                 "metadata[order_id]": result["order"]["id"], "payment_method": "pm_card_visa",
                                 "confirm": "true"}).json()
    assert second["status"] == "succeeded"
    event = stripe_event("payment_intent.succeeded", second)

    assert post_event(shop, event).status_code == 200
    assert post_event(shop, stripe_event("payment_intent.succeeded", second)).status_code == 200  # again, new id

    order = order_of(shop, result)
    assert (order["status"], order["payment_status"], order["amount_paid"], order["amount_refunded"]) == (
        "paid", "paid", order["total"], 0)
    assert [(d["payment_id"], d["amount"]) for d in order["duplicate_payments"]] == [(second["id"], first["amount"])]
    assert order["duplicate_payments"][0]["refund_id"]
    assert refunds_of(localstripe, second["id"]) == [first["amount"]]
    assert refunds_of(localstripe, first["id"]) == []
    # Stripe then reports the duplicate's refund: it is not the order's money.
    refund = charge_refunded(result["order"], first["amount"], payment_id=second["id"])
    assert post_event(shop, stripe_event("charge.refunded", refund)).status_code == 200
    assert order_of(shop, result)["amount_refunded"] == 0

    records = Stream().read()
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})  # the stream delivers again
    told = [m for m in queue_messages(aws["EmailQueueUrl"]) if m["type"] == "PaymentDuplicateRefunded"]
    assert len({m["id"] for m in told}) == 1 and told[0]["data"]["duplicate"]["payment_id"] == second["id"]
    monkeypatch.setenv("SHOP_EMAIL", "owner@example.com")
    config.reset()
    email = emails.render(told[0])
    assert email.to == "owner@example.com" and "paid twice" in email.subject
    assert second["id"] in email.text and "refunded in full" in email.text


def test_a_refund_larger_than_the_payment_puts_the_order_in_review_and_records_nothing(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    total = result["order"]["total"]
    assert post_event(shop, stripe_event("payment_intent.succeeded", {
        "id": "pi_test", "object": "payment_intent", "amount": total, "amount_received": total, "currency": "eur",
        "metadata": {"order_id": result["order"]["id"]}, "status": "succeeded"})).status_code == 200

    answer = post_event(shop, stripe_event("charge.refunded", charge_refunded(result["order"], total * 10)))

    assert answer.status_code == 200
    order = order_of(shop, result)
    assert (order["status"], order["amount_refunded"], order["payment_status"]) == ("needs_review", 0, "paid")
    assert str(total * 10) in order["review_reason"]


def test_a_refund_in_another_currency_puts_the_order_in_review(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    refund = charge_refunded(result["order"], 100) | {"currency": "usd"}
    assert post_event(shop, stripe_event("charge.refunded", refund)).status_code == 200
    order = order_of(shop, result)
    assert (order["status"], order["amount_refunded"]) == ("needs_review", 0)


def test_how_long_reconciliation_waits_for_a_webhook_is_configurable(shop, later, localstripe, monkeypatch):
    """RECONCILE_AFTER_SECONDS (default 120): the local stack's soak run waits one short period."""
    monkeypatch.setenv("RECONCILE_AFTER_SECONDS", "30")
    config.reset()
    make_product(shop, on_hand=1)
    result = checked_out(shop, {"TEE-M": 1})
    assert pay(localstripe, payment_id_of(result))["status"] == "succeeded"
    later(1)
    assert tick(shop, "reconcile_payments") == {"checked": 1, "settled": 1}
    monkeypatch.delenv("RECONCILE_AFTER_SECONDS")
    config.reset()
