"""Discount codes the shop creates; carts apply them and checkout redeems them atomically."""

from chalicelib import clock
from chalicelib.errors import InvalidRequest
from chalicelib.models import DiscountRecord
from chalicelib.repository import discounts


def create(code: str, kind: str, value: int, currency: str | None, min_subtotal: int | None, starts_at, ends_at,
           usage_limit: int | None, per_customer_limit: int | None) -> DiscountRecord:
    """Create a code (stored upper case; codes match case-insensitively). Raises InvalidRequest for
    inconsistent terms, Conflict if the code exists."""
    if kind == "percent" and not 1 <= value <= 100:
        raise InvalidRequest("A percent discount's value is from 1 to 100.", param="value")
    if kind == "fixed" and value < 1:
        raise InvalidRequest("A fixed discount's value is a positive amount in minor units.", param="value")
    if kind == "fixed" and not currency:
        raise InvalidRequest("A fixed discount needs the currency of its amount.", param="currency")
    if min_subtotal is not None and not currency:
        raise InvalidRequest("A minimum subtotal needs its currency.", param="currency")
    if starts_at and ends_at and ends_at <= starts_at:
        raise InvalidRequest("ends_at must be after starts_at.", param="ends_at")
    record = DiscountRecord(
        id=clock.new_id("disc", 8), code=code.upper(), kind=kind, value=value if kind != "free_shipping" else 0,
        currency=currency, min_subtotal=min_subtotal,
        starts_at=starts_at.replace(microsecond=0) if starts_at else None,
        ends_at=ends_at.replace(microsecond=0) if ends_at else None,
        usage_limit=usage_limit, per_customer_limit=per_customer_limit, created_at=clock.now())
    discounts.create(record)
    return record


def list_discounts(limit: int, cursor: str | None) -> tuple[list[DiscountRecord], str | None]:
    return discounts.list_recent(limit, cursor)
