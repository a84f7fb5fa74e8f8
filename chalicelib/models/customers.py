"""Customers: one id per email address, for account holders and guests alike.

A customer's id is derived from their normalised email, so the shop's customer view (orders, lifetime
value, segments) covers guests from their first order, and an account whose email Cognito has
verified owns, from its first sign-in, every order placed with that email: the guest orders are
linked by construction, with no lookup and no Scan. An account whose email is not verified gets no
customer id and sees no orders.
"""

import base64
import hashlib
from datetime import datetime
from typing import Literal

from chalicelib.models import Address, Record
from chalicelib.models.base import Model


def normalise_email(email: str) -> str:
    """The form of an email address used for identity: trimmed and lower-cased."""
    return email.strip().lower()


def customer_id_for(email: str) -> str:
    """The customer id (`cus_` + 24 base32 characters of SHA-256) of an email address."""
    digest = hashlib.sha256(normalise_email(email).encode()).digest()
    return "cus_" + base64.b32encode(digest).decode().lower()[:24]


# --- the account's own data (repository/customers.py stores it) ---------------------------------



ConsentSource = Literal["account", "checkout", "cart", "unsubscribe", "erasure"]


class MarketingConsent(Model):
    """Whether the customer agreed to marketing email, when, and where they said so."""

    granted: bool
    at: datetime | None = None
    source: str | None = None


class Customer(Record):
    """A customer's profile as they see it (GET /me); a profile never saved reads as an empty one."""

    id: str
    email: str
    name: str | None = None
    phone: str | None = None
    # model_construct: the same default, without building MarketingConsent's validator at import.
    marketing_consent: MarketingConsent = MarketingConsent.model_construct(granted=False)
    default_address_id: str | None = None
    created_at: datetime | None = None


class SavedAddress(Address):
    """An address of the customer's address book; `default` says whether it is the default shipping address."""

    id: str
    default: bool = False
