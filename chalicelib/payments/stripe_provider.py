"""The Stripe provider: PaymentIntents, webhook verification and mapping, and refunds.

The API calls go through a small HTTP client (stripe_http.py), so a checkout never imports the
`stripe` SDK: that import was a third of the first checkout of a container (README, "Cold start").
Webhook signatures are verified by stripe_signature.py, the SDK's own rule copied and checked against
the pinned SDK in tests, so the deployment package carries no SDK (README, "Package size"). The client
is built once per container and rebuilt when the secret key or the API base changes (a key rotated in
SSM; the local stack and tests point the base at localstripe).
"""

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache

from chalicelib import config
from chalicelib.errors import (
    IdempotencyKeyReused,
    InvalidRequest,
    PaymentDeclined,
    ResourceMissing,
    UpstreamUnavailable,
)
from chalicelib.payments import InvalidSignature, Payment, PaymentEvent, stripe_http, stripe_signature

log = logging.getLogger(__name__)

NAME = "stripe"
HANDLED_EVENTS = frozenset({
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled", "charge.refunded"})
SIGNATURE_TOLERANCE_SECONDS = 300
# API Gateway gives a request 29 s: two attempts of 3 s to connect plus 10 s to answer, and the
# back-off between them, stay inside it. A retry repeats the idempotency key, so it is safe.
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 10.0
MAX_NETWORK_RETRIES = 1
# Stripe allows at most 8 digits per amount; far above that a number is no amount (DynamoDB keeps 38 digits).
MAX_MINOR_UNITS = 10**12

_KINDS = {
    "payment_intent.succeeded": "payment_succeeded",
    "payment_intent.payment_failed": "payment_failed",
    "payment_intent.canceled": "payment_canceled",
    "charge.refunded": "refunded",
}
_UNAVAILABLE = "The payment provider is not available right now; please try again."


def create_payment(order_id: str, amount: int, currency: str, email: str | None, idempotency_key: str,
                   payment_method: str | None = None) -> Payment:
    """Create the order's PaymentIntent for `amount` minor units; with `payment_method`, confirm it in
    the same call. A retry with the same idempotency key finds the same PaymentIntent and reports its
    current state. Raises PaymentDeclined, UpstreamUnavailable, and IdempotencyKeyReused when the key
    was first used with other details (another amount or payment method)."""
    params: dict = {
        "amount": amount,
        "currency": currency.lower(),
        "metadata": {"order_id": order_id},
        # Cards only: a server-side confirmation then never needs a return_url (3-D Secure comes back
        # as next_action use_stripe_sdk), and localstripe knows nothing of automatic_payment_methods.
        "payment_method_types": ["card"],
    }
    if email:
        params["receipt_email"] = email
    if payment_method:
        params.update(payment_method=payment_method, confirm=True)
    client = _client()
    with _translated_errors("create a payment"):
        intent = _current(client, client.create_payment_intent(params, idempotency_key))
    return _payment(intent, confirming=bool(payment_method))


def confirm_payment(payment_id: str, payment_method: str, idempotency_key: str) -> Payment:
    """Confirm the PaymentIntent with the customer's `payment_method` (server-side confirmation); a
    new payment method may follow a declined one. A retry with the same key repeats nothing and
    reports the current state. Raises PaymentDeclined, ResourceMissing, InvalidRequest (the payment
    cannot be confirmed in its state), UpstreamUnavailable."""
    client = _client()
    with _translated_errors("confirm a payment"):
        intent = _current(client, client.confirm_payment_intent(payment_id, {"payment_method": payment_method},
                                                                idempotency_key))
    return _payment(intent, confirming=True)


def retrieve_payment(payment_id: str) -> dict:
    """The PaymentIntent as the order needs it for reconciliation: `{id, status, amount,
    amount_received, amount_refunded, currency (upper case), order_id}`. Raises ResourceMissing,
    UpstreamUnavailable."""
    client = _client()
    with _translated_errors("read a payment"):
        intent = client.retrieve_payment_intent(payment_id, {"expand": ["latest_charge"]}).body
    charge = intent.get("latest_charge")
    return {
        "id": intent["id"],
        "status": intent["status"],
        "amount": intent["amount"],
        "amount_received": intent.get("amount_received", 0),
        "amount_refunded": charge.get("amount_refunded", 0) if isinstance(charge, dict) else 0,
        "currency": intent["currency"].upper(),
        "order_id": (intent.get("metadata") or {}).get("order_id"),
    }


def list_payments(created_from: int, created_before: int, limit: int = 100,
                  starting_after: str | None = None) -> tuple[list[dict], bool]:
    """A page of the account's PaymentIntents created from `created_from` to before `created_before`
    (epoch seconds), newest first as Stripe lists them, after `starting_after` (the last id of the
    page before): `({id, status, amount, amount_received, currency (upper case), order_id, created}...,
    has_more)`. `order_id` is None for a PaymentIntent this backend did not make. Raises
    UpstreamUnavailable."""
    client = _client()
    params = {"created": {"gte": created_from, "lt": created_before}, "limit": limit,
              "starting_after": starting_after}
    with _translated_errors("list payments"):
        page = client.list_payment_intents(params).body
    return [{
        "id": intent["id"],
        "status": intent["status"],
        "amount": intent["amount"],
        "amount_received": intent.get("amount_received", 0),
        "currency": intent["currency"].upper(),
        "order_id": (intent.get("metadata") or {}).get("order_id"),
        "created": intent["created"],
    } for intent in page["data"]], bool(page.get("has_more"))


def cancel_payment(payment_id: str, idempotency_key: str, reason: str | None = None) -> dict:
    """Cancel the PaymentIntent so that it can no longer take money, and return its state as
    `retrieve_payment` does. A payment that cannot be cancelled any more (it succeeded, or is
    processing) is left alone and its state returned: the caller applies it. `reason` is Stripe's
    `cancellation_reason` (abandoned, duplicate, requested_by_customer, fraudulent). Raises
    ResourceMissing, UpstreamUnavailable."""
    client = _client()
    try:
        with _translated_errors("cancel a payment"):
            client.cancel_payment_intent(payment_id, idempotency_key, {"cancellation_reason": reason})
    except InvalidRequest:
        pass  # its state forbids cancelling (succeeded, processing): what it is now tells the caller why
    return retrieve_payment(payment_id)


def refund(payment_id: str, amount: int, idempotency_key: str) -> str:
    """Refund `amount` minor units of the payment; returns the refund id. A retry with the same key
    returns the same refund. Raises ResourceMissing, InvalidRequest (more than is left to refund),
    UpstreamUnavailable."""
    client = _client()
    with _translated_errors("refund a payment"):
        created = client.create_refund({"payment_intent": payment_id, "amount": amount}, idempotency_key)
    return created.body["id"]


def parse_webhook(raw_body: bytes, headers: Mapping[str, str]) -> PaymentEvent:
    """Verify the `Stripe-Signature` header on the raw body against each configured signing secret
    (several during a rotation) and map the event. Raises InvalidSignature for a missing, malformed,
    stale or non-matching signature; touches nothing else."""
    header = _header(headers, "Stripe-Signature")
    if not header:
        raise InvalidSignature("The Stripe-Signature header is missing.")
    secrets = config.secret_list("STRIPE_WEBHOOK_SECRETS")
    if not secrets:
        log.error("STRIPE_WEBHOOK_SECRETS is not configured: every Stripe webhook is refused")
    if not any(_verifies(raw_body, header, secret) for secret in secrets):
        raise InvalidSignature("The Stripe-Signature header does not match the body, or is too old.")
    try:
        event = json.loads(raw_body)
        kind = _KINDS.get(event["type"], "ignored")
        obj = event["data"]["object"] if kind != "ignored" else {}
        if not isinstance(obj, dict):
            raise TypeError("data.object is not an object")
        metadata = obj.get("metadata") or {}
        common = {"id": _typed(event, "id", str, required=True, within=""), "kind": kind, "provider": NAME,
                  "provider_type": event["type"], "created": _typed(event, "created", int, within=""),
                  "order_id": _typed(metadata if isinstance(metadata, dict) else {}, "order_id", str,
                                     within="data.object.metadata."),
                  "currency": (_typed(obj, "currency", str) or "").upper() or None}
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidRequest("The webhook body is not a Stripe event.") from error
    if kind == "ignored":
        return PaymentEvent(**common, payment_id=None)
    if kind == "refunded":  # a Charge: amount_refunded is the total so far
        refunded = _minor_units(obj, "amount_refunded")
        return PaymentEvent(**common, payment_id=_typed(obj, "payment_intent", str), amount=refunded,
                            amount_refunded=refunded, extra={"charge_id": _typed(obj, "id", str),
                                                             "charge_amount": _minor_units(obj, "amount")})
    if kind == "payment_succeeded":
        return PaymentEvent(**common, payment_id=_typed(obj, "id", str),
                            amount=_minor_units(obj, "amount_received"))
    if kind == "payment_failed":
        failure = obj.get("last_payment_error") or {}
        return PaymentEvent(**common, payment_id=obj.get("id"), extra={
            "failure_code": failure.get("decline_code") or failure.get("code"),
            "failure_message": failure.get("message")})
    return PaymentEvent(**common, payment_id=obj.get("id"),
                        extra={"cancellation_reason": obj.get("cancellation_reason")})


def _typed(obj: dict, name: str, kind: type, required: bool = False, within: str = "data.object."):
    """`obj[name]` if it is a `kind` (None when absent and not required); else a 400 naming the field
    (`within` the event: its object's fields by default)."""
    value = obj.get(name)
    if (value is None and not required) or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    what = {int: "an integer", str: "a string"}.get(kind, kind.__name__)
    raise InvalidRequest(f"The Stripe event's {within}{name} must be {what}.", param=within + name)


def _minor_units(obj: dict, name: str) -> int | None:
    """A money field of the event's object: absent, or an integer of minor units from 0 to
    MAX_MINOR_UNITS (a float, a string or a negative amount is a 400)."""
    value = _typed(obj, name, int)
    if value is not None and not 0 <= value <= MAX_MINOR_UNITS:
        raise InvalidRequest(f"The Stripe event's data.object.{name} must be from 0 to {MAX_MINOR_UNITS}.",
                             param=f"data.object.{name}")
    return value


# --- the API client --------------------------------------------------------------------------------


def _client() -> stripe_http.Client:
    api_key = config.secret("STRIPE_SECRET_KEY")
    if not api_key:
        log.error("STRIPE_SECRET_KEY is not configured")
        raise UpstreamUnavailable(_UNAVAILABLE)
    return _build_client(api_key, config.settings().stripe_api_base, CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS,
                         MAX_NETWORK_RETRIES)


@lru_cache(maxsize=1)
def _build_client(api_key: str, api_base: str, connect_timeout: float, read_timeout: float,
                  retries: int) -> stripe_http.Client:
    return stripe_http.Client(api_key, api_base, connect_timeout, read_timeout, retries)


@contextmanager
def _translated_errors(action: str) -> Iterator[None]:
    try:
        yield
    except stripe_http.StripeError as error:
        failure = error.error
        if error.kind == "card":
            raise _declined(failure or {"message": error.message, "code": error.code}) from error
        if error.kind == "idempotency":
            raise IdempotencyKeyReused("This payment was already started with other details (amount, currency "
                                       "or payment method).") from error
        if error.kind == "invalid_request":
            if error.status == 404 or error.code == "resource_missing":
                raise ResourceMissing("No such payment at Stripe.") from error
            log.warning("Stripe refused to %s: %s (%s)", action, error.message, error.code)
            raise InvalidRequest(f"Stripe refused to {action}: {error.message}"
                                 + (f" ({error.code})" if error.code else "")) from error
        if error.kind in ("authentication", "permission"):
            log.error("Stripe refused our API key when asked to %s: %s", action, error.message)
            raise UpstreamUnavailable(_UNAVAILABLE) from error
        log.warning("Stripe unavailable when asked to %s: %r", action, error)  # 5xx, rate limits
        raise UpstreamUnavailable(_UNAVAILABLE) from error
    except stripe_http.StripeUnreachable as error:
        log.warning("Stripe unavailable when asked to %s: %r", action, error)
        raise UpstreamUnavailable(_UNAVAILABLE) from error


def _declined(failure: Mapping) -> PaymentDeclined:
    code = failure.get("decline_code") or failure.get("code") or "card_declined"
    message = failure.get("message") or "The card was declined."
    return PaymentDeclined(f"{message} ({code})", decline_code=code)


def _current(client: stripe_http.Client, answer: stripe_http.Answer) -> dict:
    """The PaymentIntent as a plain dict; fetched again when Stripe replayed an idempotent answer,
    which shows the state of the first request (the customer may have paid since)."""
    if answer.replayed:
        return client.retrieve_payment_intent(answer.body["id"]).body
    return answer.body


def _payment(intent: dict, confirming: bool) -> Payment:
    if confirming and intent["status"] == "requires_payment_method":
        raise _declined(intent.get("last_payment_error") or {})
    return Payment(provider=NAME, payment_id=intent["id"], status=intent["status"],
                   client_secret=intent.get("client_secret"),
                   publishable_key=config.settings().stripe_publishable_key,
                   next_action=intent.get("next_action") if intent["status"] == "requires_action" else None)


# --- webhooks ---------------------------------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # a plain dict, as a test or another framework may pass
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def _verifies(raw_body: bytes, header: str, secret: str) -> bool:
    try:
        return stripe_signature.verify_header(raw_body, header, secret, SIGNATURE_TOLERANCE_SECONDS)
    except stripe_signature.SignatureMismatch:
        return False
    except UnicodeDecodeError:  # the SDK signs the body's text form; Stripe only ever sends UTF-8
        return False
