"""Webhooks as Stripe really delivers them: duplicated, out of order, and mixed with forgeries.

Hypothesis draws sequences of deliveries for one order: genuine events (payment succeeded, failed,
cancelled, charge refunded with a running total), each possibly delivered again later, and forged
ones (wrong secret, tampered body, stale or missing signature). Properties, after every delivery
and at the end:

- a forgery is a 400 and writes nothing (the order item and the table are as they were);
- a delivery of an event already applied changes nothing;
- money only moves forward: amount_paid is 0 or the total, amount_refunded never decreases;
- the final order depends only on *which* genuine events arrived, not on their order or repeats;
- stock adds up, and the order holds its units unless it ended cancelled.

The fixed cases (each forgery kind, every permutation of three events) are in tests/test_webhooks.py.
"""

import itertools
import json
import os
import time

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.repository import dynamo
from chalicelib.repository.orders import order_key
from tests.conftest import make_product
from tests.orders_support import charge_refunded, checked_out, intent, stripe_event, stripe_signature

GENUINE = ("succeeded", "failed", "canceled", "refund_300", "refund_700", "refund_all")
FORGERIES = ("wrong_secret", "tampered", "stale", "unsigned")

delivery = st.one_of(
    st.tuples(st.just("genuine"), st.sampled_from(GENUINE)),
    st.tuples(st.just("forged"), st.tuples(st.sampled_from(FORGERIES), st.sampled_from(GENUINE))),
)


def _events(order: dict) -> dict[str, dict]:
    total = order["total"]
    return {
        "succeeded": stripe_event("payment_intent.succeeded", intent(order)),
        "failed": stripe_event("payment_intent.payment_failed", intent(order, status="requires_payment_method")),
        "canceled": stripe_event("payment_intent.canceled", intent(order, status="canceled")),
        "refund_300": stripe_event("charge.refunded", charge_refunded(order, 300)),
        "refund_700": stripe_event("charge.refunded", charge_refunded(order, 700)),
        "refund_all": stripe_event("charge.refunded", charge_refunded(order, total)),
    }


def _post(api, event: dict, forgery: str | None):
    payload = json.dumps(event).encode()
    headers = {"Stripe-Signature": stripe_signature(payload)}
    if forgery == "wrong_secret":
        headers = {"Stripe-Signature": stripe_signature(payload, secret="whsec_attacker")}
    elif forgery == "tampered":  # signed as Stripe sent it, amounts changed on the way
        changed = json.loads(payload)
        obj = changed["data"]["object"]
        for name in ("amount", "amount_received", "amount_refunded"):
            if name in obj:
                obj[name] = obj[name] * 2 + 1
        payload = json.dumps(changed).encode()
    elif forgery == "stale":
        headers = {"Stripe-Signature": stripe_signature(payload, timestamp=int(time.time()) - 3600)}
    elif forgery == "unsigned":
        headers = {}
    return api.request("POST", "/webhooks/stripe", raw=payload, headers=headers)


def _expected(order: dict, arrived: set[str]) -> dict:
    """The order's final money and status from the set of genuine events that arrived."""
    refunds = {"refund_300": 300, "refund_700": 700, "refund_all": order["total"]}
    refunded = max((refunds[name] for name in arrived if name in refunds), default=0)
    if "succeeded" in arrived:
        status = "paid"
    elif "canceled" in arrived:
        status = "cancelled"
    else:
        status = "pending_payment"
    return {"status": status, "amount_paid": order["total"] if "succeeded" in arrived else 0,
            "amount_refunded": refunded}


def _count() -> int:
    """How many items the table holds (a COUNT scan: moto does not serialise the items)."""
    return boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"], Select="COUNT")["Count"]


_products = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deliveries=st.lists(delivery, min_size=1, max_size=7))
def test_any_sequence_of_deliveries_applies_each_genuine_event_once_and_no_forgery(shop, deliveries):
    prefix = f"W{next(_products)}"  # a SKU of its own per example: its stock is this order's alone
    make_product(shop, sku_prefix=prefix, sizes=("M",), on_hand=10)
    order = checked_out(shop, {f"{prefix}-M": 2})["order"]
    events = _events(order)
    arrived: set[str] = set()
    paid, refunded = 0, 0
    for kind, what in deliveries:
        stored_before, count_before = dynamo.get(order_key(order["id"])), _count()
        if kind == "forged":
            forgery, name = what
            answer = _post(shop, events[name], forgery)
            assert (answer.status_code, answer.data["error"]["code"]) == (400, "invalid_signature"), (forgery, name)
            assert dynamo.get(order_key(order["id"])) == stored_before, f"a {forgery} forgery changed the order"
            assert _count() == count_before, f"a {forgery} forgery wrote an item"
            continue
        answer = _post(shop, events[what], None)
        assert answer.status_code == 200, answer.data
        stored = dynamo.get(order_key(order["id"]))
        if what in arrived:
            assert stored == stored_before and _count() == count_before, f"{what} delivered again changed something"
        arrived.add(what)
        assert stored.get("amount_paid", 0) in (0, order["total"]) and stored.get("amount_paid", 0) >= paid
        assert stored.get("amount_refunded", 0) >= refunded
        paid, refunded = stored.get("amount_paid", 0), stored.get("amount_refunded", 0)
    final = dynamo.get(order_key(order["id"]))
    assert {k: final.get(k, 0) for k in ("status", "amount_paid", "amount_refunded")} == _expected(order, arrived)
    assert bool(final.get("stock_released")) == (final["status"] == "cancelled")
    sku = dynamo.get({"PK": f"SKU#{prefix}-M", "SK": "SKU"})
    held = 0 if final["status"] == "cancelled" else 2
    assert (sku["on_hand"], sku["reserved"], sku["available"]) == (10, held, 10 - held)
