"""Time and identifiers. One place, so tests can move the clock and sweeps can be replayed."""

import secrets
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(prefix: str, random_bytes: int = 16) -> str:
    """An id with a type prefix; the default 128 random bits make cart and order ids unguessable."""
    return f"{prefix}_{secrets.token_hex(random_bytes)}"
