"""One-click unsubscribe links for marketing email (RFC 8058).

A token is `<customer id>.<signature>`, the signature being the unpadded base64url HMAC-SHA256 of
`unsubscribe.<customer id>` under UNSUBSCRIBE_SECRET (chalicelib.config.secret: an SSM parameter in a
deployed stage; several comma-separated values while rotating: signed with the first, accepted under
any). A token does not expire (an old email's link must still work) and can only ever turn consent
off. Every marketing email carries the link in its body and in the `List-Unsubscribe` header, with
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`, so mail clients offer the one-click button.
"""

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from chalicelib import clock, config
from chalicelib.errors import InvalidToken

KEY_SETTING = "UNSUBSCRIBE_SECRET"
MAX_TOKEN_LENGTH = 256


def _secrets() -> list[str]:
    secrets = config.secret_list(KEY_SETTING)
    if not secrets:
        raise RuntimeError(f"{KEY_SETTING} is not configured")  # never sign with an empty key
    return secrets


def _signature(secret: str, customer_id: str) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe.{customer_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token(customer_id: str) -> str:
    return f"{customer_id}.{_signature(_secrets()[0], customer_id)}"


def unsubscribe_link(customer_id: str) -> str:
    """The one-click link (POST) of a marketing email to `customer_id`."""
    return f"{config.settings().api_url.rstrip('/')}/unsubscribe?{urlencode({'token': token(customer_id)})}"


def page_link(customer_id: str) -> str:
    """The link in the email's body: the storefront's unsubscribe page, which POSTs the token to the API with
    one click (a GET never unsubscribes: mail scanners follow links)."""
    return f"{config.settings().storefront_url.rstrip('/')}/unsubscribe.html?{urlencode({'token': token(customer_id)})}"


def headers(customer_id: str) -> dict[str, str]:
    """The headers every marketing email carries (RFC 2369 and RFC 8058)."""
    return {"List-Unsubscribe": f"<{unsubscribe_link(customer_id)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def customer_of(value: str) -> str:
    """The customer id a token stands for. Raises InvalidToken, signatures compared in
    constant time."""
    invalid = InvalidToken("The unsubscribe link is not valid.", param="token")
    customer_id, _, signature = value.partition(".") if len(value) <= MAX_TOKEN_LENGTH else ("", "", "")
    if not customer_id.startswith("cus_") or not signature:
        raise invalid
    matched = False
    for secret in _secrets():
        matched |= hmac.compare_digest(_signature(secret, customer_id).encode(), signature.encode())
    if not matched:
        raise invalid
    return customer_id


def withdraw(value: str) -> str:
    """Turn the token's customer's marketing consent off (source "unsubscribe"). Idempotent; a customer with
    no profile had no consent to withdraw. Returns the customer id. Raises InvalidToken."""
    from chalicelib.models.customers import MarketingConsent
    from chalicelib.repository import customers

    customer_id = customer_of(value)
    customers.set_consent(customer_id, MarketingConsent(granted=False, at=clock.now(), source="unsubscribe"))
    return customer_id
