"""PaymentIntents left without an order are cancelled once Stripe can no longer hand them to a checkout
(services/orphan_payments.py, the hourly `sweep_orphan_payments` schedule).

Against a localstripe of each test's own (the sweep lists every PaymentIntent of the account, so the
session's, full of other tests' payments, would not do) and moto. An orphan is made as in production: a
checkout creates its PaymentIntent, then the stock is gone by the time its transaction runs (a concurrent
buyer, stood in for by a botocore hook that empties the SKU just before the checkout's TransactWriteItems),
so the checkout answers 409 `out_of_stock` and no order is ever written.

localstripe stamps `created` with the real time and Stripe lets nobody set it, so the tests move the app's
clock (chalicelib/clock.py `now`, as every schedule test does) instead of the payments: the sweep asks
Stripe for what was created before now − ORPHAN_PAYMENT_AGE_HOURS (25 h), so with the clock 24 h on the
payments just made are too young, 26 h on they are old enough.
"""

import logging
import uuid
from contextlib import contextmanager
from datetime import timedelta

import boto3
import pytest
import requests

from chalicelib import clock, config
from chalicelib.payments import stripe_provider
from chalicelib.repository import dynamo
from chalicelib.repository.catalog import sku_key
from chalicelib.services import orphan_payments
from tests.conftest import ADMIN, make_product, ready_cart
from tests.growth_support import at_fixture, scheduled  # noqa: F401
from tests.orders_support import checked_out, use_localstripe
from tests.stripe_support import SECRET_KEY, pay, running_localstripe
from tests.test_least_privilege import allowed, recorder  # noqa: F401
from tests.test_observability import emf

AUTH = (SECRET_KEY, "")


@pytest.fixture
def stripe_base():
    with running_localstripe() as base:
        yield base


@pytest.fixture
def api(client, stripe_base):
    use_localstripe(stripe_base)
    make_product(client, on_hand=5)
    client.stripe = stripe_base
    return client


@contextmanager
def sold_out_during_checkout(sku: str = "TEE-M"):
    """The SKU's last units go to someone else between the checkout's reads (and its PaymentIntent) and its
    transaction; its stock comes back afterwards."""
    table, key = config.settings().table_name, dynamo.to_item(sku_key(sku))
    raw = boto3.client("dynamodb")  # not the app's client, whose hook this is
    unique = f"sold-out-{uuid.uuid4().hex}"

    def sell_out(**_):
        raw.update_item(TableName=table, Key=key, UpdateExpression="SET available = :zero",
                        ExpressionAttributeValues={":zero": {"N": "0"}})

    events = dynamo.client().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", sell_out, unique_id=unique)
    try:
        yield
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", unique_id=unique)
        raw.update_item(TableName=table, Key=key, UpdateExpression="SET available = on_hand - reserved")


def orphan(api) -> dict:
    """A PaymentIntent made by a checkout whose order was never written."""
    before = {pi["id"] for pi in intents(api.stripe)}
    cart = ready_cart(api, {"TEE-M": 1})
    with sold_out_during_checkout():
        answer = api.post(f"/carts/{cart['id']}/checkout", {})
    assert answer.status_code == 409 and answer.data["error"]["code"] == "out_of_stock", answer.data
    [made] = [pi for pi in intents(api.stripe) if pi["id"] not in before]
    assert made["status"] == "requires_payment_method" and made["metadata"]["order_id"].startswith("ord_")
    return made


def intents(base: str) -> list[dict]:
    found, params = [], {"limit": 100}
    while True:
        page = requests.get(f"{base}/v1/payment_intents", params=params, auth=AUTH, timeout=5).json()
        found += page["data"]
        if not page["has_more"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]


def at_stripe(base: str, payment_id: str) -> dict:
    return requests.get(f"{base}/v1/payment_intents/{payment_id}", auth=AUTH, timeout=5).json()


def test_an_orphan_is_cancelled_once_past_the_window_and_nothing_else_is_touched(api, at, caplog, capfd):
    placed = checked_out(api, {"TEE-M": 1})
    with_order = placed["payment"]["client_secret"].split("_secret_")[0]
    abandoned = orphan(api)
    confirmed = orphan(api)  # its client secret leaked: someone paid it
    assert pay(api.stripe, confirmed["id"])["status"] == "succeeded"
    start = clock.now()

    at(start + timedelta(hours=24))  # all of them younger than 25 h: still within Stripe's idempotency window
    assert scheduled(api, "sweep_orphan_payments") == {
        "listed": 0, "cancelled": 0, "with_order": 0, "superseded": 0, "succeeded_without_order": 0, "left": 0,
        "done": True}
    assert at_stripe(api.stripe, abandoned["id"])["status"] == "requires_payment_method"

    at(start + timedelta(hours=26))
    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="chalicelib.services.orphan_payments"):
        assert scheduled(api, "sweep_orphan_payments") == {
            "listed": 3, "cancelled": 1, "with_order": 1, "superseded": 0, "succeeded_without_order": 1, "left": 0,
        "done": True}
    cancelled = at_stripe(api.stripe, abandoned["id"])
    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("canceled", "abandoned")
    assert at_stripe(api.stripe, with_order)["status"] == "requires_payment_method"  # its order's expiry's
    assert at_stripe(api.stripe, confirmed["id"])["status"] == "succeeded"  # money: never cancelled
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and confirmed["id"] in errors[0] and confirmed["metadata"]["order_id"] in errors[0]
    assert emf(capfd.readouterr().out, "OrphanPaymentsSucceeded")[-1]["OrphanPaymentsSucceeded"] == [1.0]
    assert any("1 cancelled" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)

    # The order is still there and still waiting for its payment.
    assert api.get(f"/admin/orders/{placed['order']['id']}", headers=ADMIN).data["status"] == "pending_payment"

    # Again at the same time, and an hour later: nothing new to look at.
    assert scheduled(api, "sweep_orphan_payments")["listed"] == 0
    at(start + timedelta(hours=27))
    assert scheduled(api, "sweep_orphan_payments") == {
        "listed": 0, "cancelled": 0, "with_order": 0, "superseded": 0, "succeeded_without_order": 0, "left": 0,
        "done": True}


def test_a_pass_done_again_cancels_nothing_twice(api, at):
    """A run that did its work but never recorded it (a timeout): the next one looks at the same payments."""
    checked_out(api, {"TEE-M": 1})
    abandoned = orphan(api)
    later = clock.now() + timedelta(hours=26)
    assert orphan_payments.sweep(now=later)["cancelled"] == 1
    boto3.client("dynamodb").delete_item(TableName=config.settings().table_name,
                                         Key=dynamo.to_item({"PK": "SWEEP#orphan_payments", "SK": "SWEEP"}))
    assert orphan_payments.sweep(now=later) == {
        "listed": 2, "cancelled": 0, "with_order": 1, "superseded": 0, "succeeded_without_order": 0, "left": 0,
        "done": True}
    assert at_stripe(api.stripe, abandoned["id"])["cancellation_reason"] == "abandoned"


def test_a_backlog_is_worked_off_page_by_page_over_several_runs(api, monkeypatch):
    monkeypatch.setattr(orphan_payments, "PAGE", 2)
    made = [orphan(api)["id"] for _ in range(5)]
    later = clock.now() + timedelta(hours=26)
    runs = [orphan_payments.sweep(now=later, max_pages=1) for _ in range(3)]
    assert [(r["listed"], r["cancelled"], r["done"]) for r in runs] == [(2, 2, False), (2, 2, False), (1, 1, True)]
    assert {at_stripe(api.stripe, pi)["status"] for pi in made} == {"canceled"}
    assert orphan_payments.sweep(now=later)["listed"] == 0


def test_a_run_stopped_by_stripe_going_away_is_taken_up_where_it_stopped(api, monkeypatch):
    made = [orphan(api)["id"] for _ in range(2)]
    later = clock.now() + timedelta(hours=26)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    config.reset()
    assert orphan_payments.sweep(now=later)["done"] is False
    monkeypatch.setenv("STRIPE_API_BASE", api.stripe)
    config.reset()
    assert orphan_payments.sweep(now=later) == {
        "listed": 2, "cancelled": 2, "with_order": 0, "superseded": 0, "succeeded_without_order": 0, "left": 0,
        "done": True}
    assert {at_stripe(api.stripe, pi)["status"] for pi in made} == {"canceled"}


def test_payments_another_system_made_on_the_account_are_left_alone(api):
    created = stripe_provider._client().create_payment_intent(
        {"amount": 500, "currency": "eur", "payment_method_types": ["card"]}, idempotency_key=uuid.uuid4().hex).body
    result = orphan_payments.sweep(now=clock.now() + timedelta(hours=26))
    assert (result["listed"], result["cancelled"]) == (1, 0)
    assert at_stripe(api.stripe, created["id"])["status"] == "requires_payment_method"


def test_an_age_under_stripes_idempotency_window_is_refused(monkeypatch):
    monkeypatch.setenv("ORPHAN_PAYMENT_AGE_HOURS", "24")
    config.reset()
    with pytest.raises(ValueError, match="ORPHAN_PAYMENT_AGE_HOURS"):
        config.settings()
    monkeypatch.setenv("ORPHAN_PAYMENT_AGE_HOURS", "48")
    config.reset()
    assert config.settings().orphan_payment_age_hours == 48
    monkeypatch.delenv("ORPHAN_PAYMENT_AGE_HOURS")
    config.reset()


def test_every_aws_call_of_the_sweep_is_allowed_by_its_functions_policy(api, at, recorder, monkeypatch):  # noqa: F811
    """tests/test_least_privilege.py's check for this function: its calls against
    .chalice/policy-orphan-payments.json, the Stripe key read from SSM as in a deployed stage."""
    from tests.conftest import reset_clients

    checked_out(api, {"TEE-M": 1})
    orphan(api)
    boto3.client("ssm").put_parameter(Name="/commerce/test/stripe-secret-key", Value=SECRET_KEY,
                                      Type="SecureString")
    monkeypatch.setenv("STRIPE_SECRET_KEY_PARAM", "/commerce/test/stripe-secret-key")
    reset_clients()  # clients made before the recorder was installed would not be seen
    at(clock.now() + timedelta(hours=26))
    with recorder.function("sweep_orphan_payments"):
        assert scheduled(api, "sweep_orphan_payments")["cancelled"] == 1
    made = {call[:2] for call in recorder.calls}
    assert {("sweep_orphan_payments", f"dynamodb:{action}") for action in ("GetItem", "BatchGetItem", "PutItem")} \
        | {("sweep_orphan_payments", "ssm:GetParameter")} == made
    denied = sorted({call for call in recorder.calls if not allowed(*call)})
    assert not denied, "\n".join(f"{f}: {a} on {r}" for f, a, r in denied)


def test_an_unpaid_intent_its_order_does_not_refer_to_is_cancelled_as_superseded(api, at):
    """A checkout retried at another amount (a gift card spent meanwhile) creates a second PaymentIntent for the
    same order id under another key and writes the order with it: the first is nobody's."""
    placed = checked_out(api, {"TEE-M": 1})
    order = placed["order"]
    own = placed["payment"]["client_secret"].split("_secret_")[0]
    first = stripe_provider.create_payment(order["id"], order["total"] + 500, order["currency"], order["email"],
                                           idempotency_key=f"{order['id']}:{order['total'] + 500}"
                                                           f"{order['currency']}:create-payment")
    at(clock.now() + timedelta(hours=26))
    assert scheduled(api, "sweep_orphan_payments") == {
        "listed": 2, "cancelled": 1, "with_order": 1, "superseded": 1, "succeeded_without_order": 0, "left": 0,
        "done": True}
    assert at_stripe(api.stripe, first.payment_id)["status"] == "canceled"
    assert at_stripe(api.stripe, own)["status"] == "requires_payment_method"  # the order's own: untouched
