"""Stripe webhooks through the API: signatures, de-duplication, arrival order, amounts."""

import json
import time
from itertools import permutations

from tests.conftest import make_product
from tests.orders_support import (
    charge_refunded,
    checked_out,
    intent,
    post_event,
    stripe_event,
    stripe_signature,
)
from tests.test_checkout import stock


def order_of(api, result) -> dict:
    return api.get(f"/orders/{result['order']['id']}", headers={"X-Order-Token": result["order_token"]}).data


def paid_event(result, **kw) -> dict:
    return stripe_event("payment_intent.succeeded", intent(result["order"], **kw))


def test_a_signed_success_marks_the_order_paid(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 2})
    answer = post_event(shop, paid_event(result))
    assert (answer.status_code, answer.data) == (200, {"received": True})
    order = order_of(shop, result)
    assert (order["status"], order["payment_status"], order["amount_paid"]) == ("paid", "paid", order["total"])
    assert order["paid_at"]


def test_forged_events_are_rejected_and_change_nothing(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    event = paid_event(result)
    payload = json.dumps(event).encode()
    good = stripe_signature(payload)
    cases = {
        "tampered body": (payload.replace(b'"succeeded"', b'"Succeeded"'), good),
        "reformatted JSON": (json.dumps(event, indent=2).encode(), good),
        "stale timestamp": (payload, stripe_signature(payload, timestamp=int(time.time()) - 3600)),
        "wrong secret": (payload, stripe_signature(payload, secret="whsec_other")),
        "missing header": (payload, None),
        "garbage header": (payload, "t=abc,v1=zz"),
    }
    for name, (body, signature) in cases.items():
        headers = {"Stripe-Signature": signature} if signature else {}
        answer = shop.request("POST", "/webhooks/stripe", raw=body, headers=headers)
        assert answer.status_code == 400, name
        assert answer.data["error"]["code"] == "invalid_signature", name
    assert order_of(shop, result)["status"] == "pending_payment"


def test_rotated_secrets_both_verify(shop):
    import os

    from chalicelib import config

    os.environ["STRIPE_WEBHOOK_SECRETS"] = "whsec_new,whsec_test_primary"
    config.reset()
    make_product(shop)
    first, second = checked_out(shop, {"TEE-M": 1}), checked_out(shop, {"TEE-S": 1})
    assert post_event(shop, paid_event(first), secret="whsec_new").status_code == 200
    assert post_event(shop, paid_event(second), secret="whsec_test_primary").status_code == 200
    assert order_of(shop, first)["status"] == order_of(shop, second)["status"] == "paid"


def test_the_same_event_delivered_again_is_applied_once(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    post_event(shop, paid_event(result))
    refund = stripe_event("charge.refunded", charge_refunded(result["order"], 500))
    for _ in range(3):
        assert post_event(shop, refund).status_code == 200
    order = order_of(shop, result)
    assert (order["amount_refunded"], order["payment_status"]) == (500, "partially_refunded")


def test_events_in_every_arrival_order_end_in_the_same_state(shop):
    make_product(shop, on_hand=50)
    finals = set()
    for sequence in permutations(["failed", "succeeded", "refunded"]):
        result = checked_out(shop, {"TEE-M": 1})
        events = {
            "failed": stripe_event("payment_intent.payment_failed",
                                   intent(result["order"], status="requires_payment_method")),
            "succeeded": paid_event(result),
            "refunded": stripe_event("charge.refunded", charge_refunded(result["order"], 700)),
        }
        for name in sequence:
            assert post_event(shop, events[name]).status_code == 200
        order = order_of(shop, result)
        finals.add((order["status"], order["payment_status"], order["amount_refunded"]))
    assert finals == {("paid", "partially_refunded", 700)}


def test_a_payment_that_does_not_match_needs_review(shop):
    make_product(shop)
    short = checked_out(shop, {"TEE-M": 1})
    other_currency = checked_out(shop, {"TEE-S": 1})
    post_event(shop, paid_event(short, amount=short["order"]["total"] - 1))
    post_event(shop, paid_event(other_currency, currency="usd"))
    assert order_of(shop, short)["status"] == "needs_review"
    assert order_of(shop, other_currency)["status"] == "needs_review"


def test_unknown_event_types_are_acknowledged_and_change_nothing(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    answer = post_event(shop, stripe_event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert answer.status_code == 200
    assert order_of(shop, result)["status"] == "pending_payment"


def test_an_event_for_an_order_not_known_yet_is_refused_so_stripe_retries(shop):
    ghost = {"id": "ord_" + "0" * 32, "total": 100, "currency": "EUR"}
    answer = post_event(shop, stripe_event("payment_intent.succeeded", intent(ghost)))
    assert answer.status_code == 404


def test_failure_then_cancel_releases_the_stock(shop):
    make_product(shop, on_hand=3)
    result = checked_out(shop, {"TEE-M": 2})
    assert stock("TEE-M")["available"] == 1
    post_event(shop, stripe_event("payment_intent.canceled", intent(result["order"], status="canceled")))
    assert order_of(shop, result)["status"] == "cancelled"
    assert stock("TEE-M") == {"on_hand": 3, "reserved": 0, "available": 3}


def test_a_signed_event_with_a_float_or_malformed_field_is_a_400_naming_it_and_changes_nothing(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    paid = intent(result["order"])
    cases = [
        ({**paid, "amount_received": float(paid["amount_received"])}, "data.object.amount_received"),
        ({**paid, "amount_received": str(paid["amount_received"])}, "data.object.amount_received"),
        ({**paid, "amount_received": -1}, "data.object.amount_received"),
        ({**paid, "amount_received": 10**40}, "data.object.amount_received"),
        ({**paid, "currency": 978}, "data.object.currency"),
        ({**paid, "metadata": {"order_id": 7}}, "data.object.metadata.order_id"),
    ]
    for obj, param in cases:
        answer = post_event(shop, stripe_event("payment_intent.succeeded", obj))
        assert answer.status_code == 400, (param, answer.data)
        assert answer.data["error"] | {"message": ""} == {"code": "invalid_request", "message": "", "param": param}
    refund = {**charge_refunded(result["order"], 100), "amount_refunded": 99.5}
    answer = post_event(shop, stripe_event("charge.refunded", refund))
    assert (answer.status_code, answer.data["error"]["param"]) == (400, "data.object.amount_refunded")
    assert order_of(shop, result)["status"] == "pending_payment"
    assert post_event(shop, paid_event(result)).status_code == 200  # the well-formed one still applies
    assert order_of(shop, result)["status"] == "paid"
