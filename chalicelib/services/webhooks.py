"""Payment provider webhooks: verify, then apply through the order state machine."""

from chalicelib import payments
from chalicelib.services import orders


def receive(provider_name: str, raw_body: bytes, headers) -> str:
    """Verify the event's signature on the raw body (InvalidSignature: nothing is written) and
    apply it at most once. Raises ResourceMissing for an order not known yet (the provider retries)."""
    event = payments.provider(provider_name).parse_webhook(raw_body, headers)
    return orders.apply_payment_event(event)
