"""The Stripe provider against a real localstripe process, and its webhook parsing against signed
payloads (recorded ones from tests/events/, and localstripe's own deliveries)."""

import json
import logging
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from chalice.app import CaseInsensitiveMapping

from chalicelib.errors import (
    IdempotencyKeyReused,
    InvalidRequest,
    PaymentDeclined,
    ResourceMissing,
    UpstreamUnavailable,
)
from chalicelib.payments import InvalidSignature, provider
from chalicelib.payments import stripe_provider as stripe_payments
from tests.stripe_support import (
    DECLINED,
    PUBLISHABLE_KEY,
    ROOT,
    THREE_D_SECURE,
    THREE_D_SECURE_2,
    VISA,
    WEBHOOK_SECRET,
    WebhookReceiver,
    authenticate,
    configure_stripe,
    free_port,
    pay,
    payment_method,
    register_webhook,
    sign,
    stripe_api,
)

EVENTS = Path(__file__).resolve().parent / "events"


def new_order() -> str:
    return f"ord_{uuid.uuid4().hex}"


def create(order_id: str | None = None, amount: int = 2599, currency: str = "EUR", key: str | None = None, **kw):
    order_id = order_id or new_order()
    return stripe_payments.create_payment(order_id, amount, currency, "ada@example.com",
                                          key or f"{order_id}:create-payment", **kw)


def signed(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict:
    return {"Stripe-Signature": sign(body, secret, timestamp)}


def event_body(kind: str = "payment_intent.succeeded", order_id: str = "ord_1", amount: int = 1999) -> bytes:
    intent = {"id": "pi_123", "object": "payment_intent", "amount": amount, "amount_received": amount,
              "currency": "eur", "metadata": {"order_id": order_id}, "status": "succeeded"}
    return json.dumps({"id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "api_version": "2024-06-20",
                       "created": int(time.time()), "data": {"object": intent}, "livemode": False,
                       "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}, "type": kind},
                      indent=2).encode()


# --- import cost -------------------------------------------------------------------------------------


def test_importing_the_provider_does_not_import_stripe():
    script = ("import sys\nfrom chalicelib.payments import provider\nmodule = provider('stripe')\n"
              "assert module.NAME == 'stripe'\nassert 'stripe' not in sys.modules, 'stripe was imported'\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --- creating and confirming -------------------------------------------------------------------------


def test_create_payment_returns_a_client_secret_and_records_amount_currency_order_and_email(stripe_env):
    order_id = new_order()
    payment = create(order_id, amount=2599, currency="EUR")
    assert (payment.provider, payment.status, payment.publishable_key, payment.next_action) == (
        "stripe", "requires_payment_method", PUBLISHABLE_KEY, None)
    assert payment.payment_id.startswith("pi_") and payment.client_secret.startswith(f"{payment.payment_id}_secret_")
    stored = stripe_api(stripe_env).v1.payment_intents.retrieve(payment.payment_id).to_dict()
    assert (stored["amount"], stored["currency"], stored["metadata"], stored["receipt_email"]) == (
        2599, "eur", {"order_id": order_id}, "ada@example.com")
    assert stripe_payments.retrieve_payment(payment.payment_id) == {
        "id": payment.payment_id, "status": "requires_payment_method", "amount": 2599, "amount_received": 0,
        "amount_refunded": 0, "currency": "EUR", "order_id": order_id}


def test_the_same_idempotency_key_gives_the_same_payment_intent(stripe_env):
    order_id = new_order()
    first = create(order_id)
    again = create(order_id)
    other = create(order_id, key=f"{order_id}:another-key")
    assert again == first
    assert other.payment_id != first.payment_id


def test_a_retried_creation_reports_the_payment_as_it_is_now(stripe_env):
    order_id = new_order()
    first = create(order_id)
    assert pay(stripe_env, first.payment_id)["status"] == "succeeded"
    again = create(order_id)
    assert (again.payment_id, again.status) == (first.payment_id, "succeeded")


def test_reusing_a_key_for_another_amount_is_refused(stripe_env):
    order_id = new_order()
    create(order_id, amount=1000)
    with pytest.raises(IdempotencyKeyReused):
        create(order_id, amount=1200)


def test_confirming_at_creation_with_a_good_card_succeeds(stripe_env):
    payment = create(amount=1500, payment_method=payment_method(stripe_env, VISA))
    assert (payment.status, payment.next_action) == ("succeeded", None)
    read = stripe_payments.retrieve_payment(payment.payment_id)
    assert (read["status"], read["amount_received"]) == ("succeeded", 1500)


def test_confirm_payment_with_a_test_payment_method_id_succeeds_and_a_retry_repeats_nothing(stripe_env):
    created = create(amount=1500)
    key = f"{created.payment_id}:confirm"
    confirmed = stripe_payments.confirm_payment(created.payment_id, "pm_card_visa", key)
    assert (confirmed.payment_id, confirmed.status, confirmed.client_secret) == (
        created.payment_id, "succeeded", created.client_secret)
    assert stripe_payments.confirm_payment(created.payment_id, "pm_card_visa", key) == confirmed


def test_a_declined_card_raises_payment_declined_with_the_reason(stripe_env):
    with pytest.raises(PaymentDeclined) as declined:
        create(payment_method=payment_method(stripe_env, DECLINED))
    assert declined.value.status_code == 402 and declined.value.code == "payment_declined"
    assert "declined" in declined.value.message and "(card_declined)" in declined.value.message


def test_after_a_decline_another_card_pays_the_same_payment_intent(stripe_env):
    created = create(amount=3100)
    with pytest.raises(PaymentDeclined):
        stripe_payments.confirm_payment(created.payment_id, payment_method(stripe_env, DECLINED), "attempt-1")
    paid = stripe_payments.confirm_payment(created.payment_id, payment_method(stripe_env, VISA), "attempt-2")
    assert (paid.payment_id, paid.status) == (created.payment_id, "succeeded")
    assert stripe_payments.retrieve_payment(created.payment_id)["amount_received"] == 3100


@pytest.mark.parametrize("card", [THREE_D_SECURE, THREE_D_SECURE_2])
def test_a_3d_secure_card_requires_action_until_the_customer_authenticates(stripe_env, card):
    payment = create(payment_method=payment_method(stripe_env, card))
    assert payment.status == "requires_action"
    assert payment.next_action["type"] == "use_stripe_sdk"
    authenticate(stripe_env, payment.payment_id, payment.client_secret)
    assert stripe_payments.retrieve_payment(payment.payment_id)["status"] == "succeeded"


# --- upstream failures -------------------------------------------------------------------------------


def test_an_unreachable_stripe_is_upstream_unavailable_quickly(stripe_env, monkeypatch):
    configure_stripe(monkeypatch, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    for call in (lambda: create(), lambda: stripe_payments.retrieve_payment("pi_123"),
                 lambda: stripe_payments.refund("pi_123", 100, "refund-1")):
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable) as unavailable:
            call()
        assert unavailable.value.status_code == 502
        assert time.monotonic() - started < 3  # one retry after a short back-off, no long timeout


def test_a_refused_api_key_is_upstream_unavailable_and_logged(stripe_env, monkeypatch, caplog):
    configure_stripe(monkeypatch, stripe_env, secret_key="rk_not_a_secret_key")
    with caplog.at_level(logging.ERROR, logger="chalicelib.payments.stripe_provider"), \
            pytest.raises(UpstreamUnavailable):
        create()
    assert any("API key" in record.getMessage() for record in caplog.records)


def test_a_missing_api_key_is_upstream_unavailable(stripe_env, monkeypatch):
    configure_stripe(monkeypatch, stripe_env, secret_key="")
    with pytest.raises(UpstreamUnavailable):
        create()


# --- refunds -----------------------------------------------------------------------------------------


def test_refunding_part_then_the_rest(stripe_env):
    payment = create(amount=1000, payment_method="pm_card_visa")
    first = stripe_payments.refund(payment.payment_id, 300, f"{payment.payment_id}:refund-1")
    assert stripe_payments.refund(payment.payment_id, 300, f"{payment.payment_id}:refund-1") == first
    assert stripe_payments.retrieve_payment(payment.payment_id)["amount_refunded"] == 300
    rest = stripe_payments.refund(payment.payment_id, 700, f"{payment.payment_id}:refund-2")
    assert rest != first and first.startswith("re_")
    assert stripe_payments.retrieve_payment(payment.payment_id)["amount_refunded"] == 1000


def test_refunding_an_unknown_payment_is_resource_missing(stripe_env):
    with pytest.raises(ResourceMissing):
        stripe_payments.refund("pi_doesnotexist0000", 100, "refund-unknown")


# --- webhook signatures ------------------------------------------------------------------------------


def test_a_validly_signed_event_is_parsed(stripe_env):
    body = event_body(order_id="ord_42", amount=1999)
    event = stripe_payments.parse_webhook(body, CaseInsensitiveMapping(signed(body)))
    assert (event.kind, event.provider, event.provider_type, event.payment_id, event.order_id, event.amount,
            event.currency) == ("payment_succeeded", "stripe", "payment_intent.succeeded", "pi_123", "ord_42", 1999,
                                "EUR")
    assert event.id == json.loads(body)["id"] and event.created == json.loads(body)["created"]


def test_the_signature_header_is_found_in_any_case(stripe_env):
    body = event_body()
    assert stripe_payments.parse_webhook(body, {"stripe-signature": sign(body)}).kind == "payment_succeeded"


def test_a_tampered_body_is_refused(stripe_env):
    body = event_body(amount=1999)
    header = signed(body)
    with pytest.raises(InvalidSignature):
        stripe_payments.parse_webhook(body.replace(b'"amount": 1999', b'"amount": 1'), header)


def test_the_same_event_reformatted_is_refused(stripe_env):
    body = event_body()
    header = signed(body)
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert json.loads(compact) == json.loads(body)
    with pytest.raises(InvalidSignature):
        stripe_payments.parse_webhook(compact, header)


def test_a_stale_timestamp_is_refused_and_a_recent_one_accepted(stripe_env):
    body = event_body()
    now = int(time.time())
    with pytest.raises(InvalidSignature):
        stripe_payments.parse_webhook(body, signed(body, timestamp=now - 301))
    assert stripe_payments.parse_webhook(body, signed(body, timestamp=now - 290)).kind == "payment_succeeded"


def test_a_signature_with_another_secret_is_refused(stripe_env):
    body = event_body()
    with pytest.raises(InvalidSignature):
        stripe_payments.parse_webhook(body, signed(body, secret="whsec_someone_else"))


@pytest.mark.parametrize("headers", [{}, {"Stripe-Signature": ""}, {"Stripe-Signature": "garbage"},
                                     {"Stripe-Signature": "t=notanumber,v1=abc"}, {"Stripe-Signature": "t=1"}])
def test_a_missing_or_malformed_header_is_refused(stripe_env, headers):
    with pytest.raises(InvalidSignature) as refused:
        stripe_payments.parse_webhook(event_body(), headers)
    assert (refused.value.status_code, refused.value.code) == (400, "invalid_signature")


def test_a_body_that_is_not_utf8_is_refused(stripe_env):
    body = b"\xff\xfe" + event_body()
    with pytest.raises(InvalidSignature):
        stripe_payments.parse_webhook(body, signed(body))


def test_without_configured_secrets_every_event_is_refused(stripe_env, monkeypatch):
    configure_stripe(monkeypatch, stripe_env, webhook_secrets=())
    body = event_body()
    with pytest.raises(InvalidSignature):
        stripe_payments.parse_webhook(body, signed(body))


def test_a_signed_body_that_is_not_an_event_is_a_bad_request(stripe_env):
    for body in (b"not json", b"[1, 2]", b'{"id": "evt_1"}', b'{"id": "evt_1", "type": "charge.refunded"}'):
        with pytest.raises(InvalidRequest) as refused:
            stripe_payments.parse_webhook(body, signed(body))
        assert type(refused.value) is InvalidRequest


def test_secrets_rotate_without_dropping_events(stripe_env, monkeypatch):
    body = event_body()
    configure_stripe(monkeypatch, stripe_env, webhook_secrets=("whsec_old", "whsec_new"))
    for secret in ("whsec_old", "whsec_new"):
        assert stripe_payments.parse_webhook(body, signed(body, secret)).kind == "payment_succeeded"
    configure_stripe(monkeypatch, stripe_env, webhook_secrets=("whsec_old",))
    with pytest.raises(InvalidSignature):
        stripe_payments.parse_webhook(body, signed(body, "whsec_new"))


def test_unknown_event_types_are_ignored(stripe_env):
    body = event_body(kind="customer.created")
    event = stripe_payments.parse_webhook(body, signed(body))
    assert (event.kind, event.provider_type, event.payment_id, event.order_id) == (
        "ignored", "customer.created", None, None)
    assert "customer.created" not in stripe_payments.HANDLED_EVENTS


# --- recorded Stripe payloads ------------------------------------------------------------------------


RECORDED = {
    "payment_intent.succeeded": dict(kind="payment_succeeded", payment_id="pi_3PgWb2LkdIwHu7ix1d6Sx0Vh",
                                     amount=4990, currency="EUR", amount_refunded=None, created=1721990412),
    "payment_intent.payment_failed": dict(kind="payment_failed", payment_id="pi_3PgWc4LkdIwHu7ix0Yb7Rk2W",
                                          amount=None, currency="EUR", amount_refunded=None, created=1721990477,
                                          extra={"failure_code": "insufficient_funds",
                                                 "failure_message": "Your card has insufficient funds."}),
    "payment_intent.canceled": dict(kind="payment_canceled", payment_id="pi_3PgWd7LkdIwHu7ix2Qe1Jm6S",
                                    amount=None, currency="EUR", amount_refunded=None, created=1721992290,
                                    extra={"cancellation_reason": "abandoned"}),
    "charge.refunded": dict(kind="refunded", payment_id="pi_3PgWb2LkdIwHu7ix1d6Sx0Vh", amount=1500,
                            currency="EUR", amount_refunded=1500, created=1722076813,
                            extra={"charge_id": "ch_3PgWb2LkdIwHu7ix1Hm4pZ3K", "charge_amount": 4990}),
}


@pytest.mark.parametrize("event_type", sorted(RECORDED))
def test_recorded_stripe_events_are_mapped(stripe_env, event_type):
    order_id = new_order()
    body = (EVENTS / f"{event_type}.json").read_bytes().replace(b"{{ORDER_ID}}", order_id.encode())
    event = stripe_payments.parse_webhook(body, signed(body))
    expected = {"extra": {}, **RECORDED[event_type]}
    assert {name: getattr(event, name) for name in expected} == expected
    assert (event.id, event.provider, event.provider_type, event.order_id) == (
        json.loads(body)["id"], "stripe", event_type, order_id)


def test_every_handled_event_type_has_a_recorded_payload():
    assert set(RECORDED) == stripe_payments.HANDLED_EVENTS == {path.stem for path in EVENTS.glob("*.json")}


# --- localstripe's own webhooks ----------------------------------------------------------------------


def test_localstripe_delivers_signed_events_that_verify(stripe_env, monkeypatch):
    secret = "whsec_localstripe_delivery"
    endpoint = f"test-{uuid.uuid4().hex[:8]}"
    with WebhookReceiver() as receiver:
        register_webhook(stripe_env, endpoint, receiver.url, secret,
                         events=["payment_intent.succeeded", "payment_intent.payment_failed"])
        try:
            paid_order, declined_order = new_order(), new_order()
            paid = create(paid_order, amount=4200, payment_method="pm_card_visa")
            with pytest.raises(PaymentDeclined):
                create(declined_order, payment_method="pm_card_chargeCustomerFail")

            def ours(received):  # events of earlier tests still on their way arrive too
                return [(headers, body) for headers, body in received
                        if paid_order.encode() in body or declined_order.encode() in body]

            deliveries = ours(receiver.wait_for(lambda received: len(ours(received)) >= 2))
        finally:  # localstripe cannot forget an endpoint: leave this one listening to nothing
            register_webhook(stripe_env, endpoint, receiver.url, secret, events=["none"])
    assert len(deliveries) == 2
    configure_stripe(monkeypatch, stripe_env, webhook_secrets=(secret,))
    events = {}
    for headers, body in deliveries:
        event = provider("stripe").parse_webhook(body, CaseInsensitiveMapping(headers))
        events[event.kind] = event
    configure_stripe(monkeypatch, stripe_env)
    for headers, body in deliveries:
        with pytest.raises(InvalidSignature):
            stripe_payments.parse_webhook(body, CaseInsensitiveMapping(headers))
    succeeded, failed = events["payment_succeeded"], events["payment_failed"]
    assert (succeeded.order_id, succeeded.payment_id, succeeded.amount, succeeded.currency) == (
        paid_order, paid.payment_id, 4200, "EUR")
    assert failed.order_id == declined_order and failed.extra["failure_code"] == "card_declined"
