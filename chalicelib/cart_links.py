"""Signed, expiring links that restore an abandoned cart (the reminder email's button).

A token is `<cart id>.<expiry, epoch seconds>.<signature>`, the signature being the unpadded
base64url HMAC-SHA256 of `cart-restore.<cart id>.<expiry>` under the secret CART_LINK_SECRET
(chalicelib.config.secret: an SSM parameter in a deployed stage). The secret may hold several
comma-separated values while it is rotated: tokens are signed with the first and accepted under
any. Nothing is stored: a token is valid until it expires, and grants no more than the cart id it
carries already does (a cart id is the storefront's key to its cart).
"""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from urllib.parse import urlencode

from chalicelib import config
from chalicelib.errors import InvalidToken

KEY_SETTING = "CART_LINK_SECRET"
MAX_TOKEN_LENGTH = 256


def _secrets() -> list[str]:
    secrets = config.secret_list(KEY_SETTING)
    if not secrets:
        # Never sign with an empty key: fail loudly (the email is retried, the request is a 500).
        raise RuntimeError(f"{KEY_SETTING} is not configured")
    return secrets


def _signature(secret: str, cart_id: str, expires: int) -> str:
    digest = hmac.new(secret.encode(), f"cart-restore.{cart_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token(cart_id: str, expires: datetime) -> str:
    expiry = int(expires.timestamp())
    return f"{cart_id}.{expiry}.{_signature(_secrets()[0], cart_id, expiry)}"


def restore_url(cart_id: str, sent_at: datetime) -> str:
    """The link for a reminder sent at `sent_at`: valid for CART_LINK_DAYS (7) from then, and the
    same link each time the same reminder is rendered."""
    expires = sent_at + timedelta(days=config.settings().cart_link_days)
    base = config.settings().storefront_url.rstrip("/")
    return f"{base}/cart.html?{urlencode({'restore': token(cart_id, expires)})}"


def cart_of(value: str, now: datetime) -> str:
    """The cart id a token stands for. Raises InvalidToken when it is
    malformed, tampered with or expired; signatures are compared in constant time."""
    invalid = InvalidToken("The link is not valid or has expired.", param="token")
    parts = value.split(".") if len(value) <= MAX_TOKEN_LENGTH else []
    if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit()) or len(parts[1]) > 12:
        raise invalid
    cart_id, expiry, signature = parts[0], int(parts[1]), parts[2]
    matched = False
    for secret in _secrets():
        matched |= hmac.compare_digest(_signature(secret, cart_id, expiry).encode(), signature.encode())
    if not matched or expiry < now.timestamp():
        raise invalid
    return cart_id
