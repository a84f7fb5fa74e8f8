"""Stripe's webhook signature check, the logic of stripe-python 16.1.0's `WebhookSignature.verify_header`
(stripe/_webhook.py, MIT licence, Copyright (c) 2010-2018 Stripe), copied so that the deployment
package needs neither the SDK nor its requests stack (README, "Package size").

The scheme (https://docs.stripe.com/webhooks#verify-manually): the header `Stripe-Signature` is
`t=<unix time>,v1=<hex>[,v1=<hex>...]`; a `v1` is HMAC-SHA256 with the endpoint's secret over
`"<t>.<raw body as UTF-8 text>"`, compared in constant time; an event older than the tolerance is
refused. tests/test_stripe_signature.py checks it against the pinned SDK (a dev dependency) on
recorded and generated headers, so an SDK upgrade that changes the rule shows up there.
"""

import hashlib
import hmac
import time

SCHEME = "v1"


class SignatureMismatch(Exception):
    """The header is missing, malformed, does not match the body, or is too old."""


def _timestamp_and_signatures(header: str) -> tuple[int, list[str]]:
    items = [item.split("=", 2) for item in header.split(",")]
    timestamp = int([item[1] for item in items if item[0] == "t"][0])  # noqa: RUF015 (as the SDK)
    return timestamp, [item[1] for item in items if item[0] == SCHEME]


def sign(payload: str, secret: str) -> str:
    """The hex HMAC-SHA256 of `payload` with `secret`."""
    return hmac.new(secret.encode("utf-8"), msg=payload.encode("utf-8"), digestmod=hashlib.sha256).hexdigest()


def verify_header(payload: bytes | str, header: str | None, secret: str | None, tolerance: int | None) -> bool:
    """True when `header` signs `payload` with `secret` within `tolerance` seconds (None or 0: any
    age). Raises SignatureMismatch otherwise, and UnicodeDecodeError for a body that is not UTF-8."""
    if isinstance(payload, bytes | bytearray):
        payload = payload.decode("utf-8")
    if not header:
        raise SignatureMismatch("no Stripe-Signature header")
    if secret is None or secret.strip(" \t\r\n\f\v") == "":
        raise SignatureMismatch("no webhook secret")
    try:
        timestamp, signatures = _timestamp_and_signatures(header)
    except Exception as error:  # the SDK's rule: anything unparsable is a mismatch
        raise SignatureMismatch("unable to extract timestamp and signatures from header") from error
    if not signatures:
        raise SignatureMismatch(f"no signatures with the scheme {SCHEME}")
    expected = sign("%d.%s" % (timestamp, payload), secret)  # noqa: UP031 (the SDK's exact formatting)
    # Compared as bytes: compare_digest refuses non-ASCII text (the SDK would raise a TypeError).
    if not any(hmac.compare_digest(expected.encode(), s.encode("utf-8", "surrogatepass")) for s in signatures):
        raise SignatureMismatch("no signature matches the payload")
    if tolerance and timestamp < time.time() - tolerance:
        raise SignatureMismatch(f"timestamp outside the tolerance zone ({timestamp})")
    return True
