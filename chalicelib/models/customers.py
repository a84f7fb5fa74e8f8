"""Customers: one id per email address, for account holders and guests alike.

A customer's id is derived from their normalised email, so the shop's customer view (orders, lifetime
value, segments) covers guests from their first order, and an account whose email Cognito has
verified owns, from its first sign-in, every order placed with that email: the guest orders are
linked by construction, with no lookup and no Scan. An account whose email is not verified gets no
customer id and sees no orders.
"""

import base64
import hashlib


def normalise_email(email: str) -> str:
    """The form of an email address used for identity: trimmed and lower-cased."""
    return email.strip().lower()


def customer_id_for(email: str) -> str:
    """The customer id (`cus_` + 24 base32 characters of SHA-256) of an email address."""
    digest = hashlib.sha256(normalise_email(email).encode()).digest()
    return "cus_" + base64.b32encode(digest).decode().lower()[:24]
