"""The payment provider interface, and the provider registry.

A provider is a module with these duties:

- `create_payment(order_id, amount, currency, email, idempotency_key, payment_method=None) -> Payment`:
  create (or, with the same idempotency key, find again) a payment for an order. With a
  `payment_method` it confirms at once (server-side confirmation). Raises PaymentDeclined (402) for
  a declined card and UpstreamUnavailable (502) when the provider cannot be reached.
- `parse_webhook(raw_body: bytes, headers: dict) -> PaymentEvent`: verify the signature on the raw
  body against every configured signing secret (several during a rotation) and turn the event into
  a provider-neutral PaymentEvent. Raises InvalidSignature for a missing, bad, stale or tampered
  signature.
- `refund(payment_id, amount, idempotency_key) -> str`: refund part or all of a payment; returns
  the provider's refund id. Raises UpstreamUnavailable.
- `retrieve_payment(payment_id) -> dict` and `cancel_payment(payment_id, idempotency_key, reason=None) -> dict`:
  the payment's state at the provider (`{id, status, amount, amount_received, amount_refunded, currency,
  order_id}`), asked instead of told, for reconciliation; cancelling leaves a payment that already
  succeeded (or is processing) alone and reports it. `reason` is the provider's cancellation reason
  (Stripe: abandoned, duplicate, requested_by_customer, fraudulent).
- `list_payments(created_from, created_before, limit=100, starting_after=None) -> (list[dict], has_more)`:
  the account's payments created in `[created_from, created_before)` (epoch seconds), newest first, a
  page after the id `starting_after`; each `{id, status, amount, amount_received, currency, order_id,
  created}` (`order_id` from the metadata, None for a payment this backend did not make). For the
  sweep of payments left without an order (services/orphan_payments.py).
- `HANDLED_EVENTS`: the provider event types it turns into something other than "ignored".

Heavy SDKs are imported inside the provider module's functions, so the API function starts fast.
"""

from dataclasses import dataclass, field
from importlib import import_module
from typing import Literal

from chalicelib.errors import InvalidRequest
from chalicelib.errors import InvalidSignature as InvalidSignature  # a provider raises it (re-exported)

EventKind = Literal["payment_succeeded", "payment_failed", "payment_canceled", "refunded", "ignored"]


@dataclass(frozen=True)
class Payment:
    provider: str
    payment_id: str
    status: str  # requires_payment_method | requires_confirmation | requires_action | processing | succeeded
    client_secret: str | None
    publishable_key: str | None
    next_action: dict | None = None


@dataclass(frozen=True)
class PaymentEvent:
    id: str                 # the provider's event id: the de-duplication key
    kind: EventKind
    provider: str
    provider_type: str      # e.g. "payment_intent.succeeded"
    payment_id: str | None  # e.g. "pi_..."
    order_id: str | None    # from the payment's metadata
    amount: int | None = None          # minor units: received (succeeded) or total refunded so far (refunded)
    currency: str | None = None        # upper case ISO 4217
    amount_refunded: int | None = None
    created: int | None = None         # epoch seconds
    extra: dict = field(default_factory=dict)


def provider(name: str = "stripe"):
    """The provider module by name."""
    if name not in {"stripe"}:
        raise InvalidRequest(f"Unknown payment provider {name!r}.", param="provider")
    return import_module(f"chalicelib.payments.{name}_provider")
