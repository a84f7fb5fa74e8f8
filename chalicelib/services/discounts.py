"""Discount codes the shop creates; carts apply them and checkout redeems them atomically."""

import re
from datetime import UTC, datetime

from chalicelib import clock
from chalicelib.errors import InvalidRequest, not_found
from chalicelib.models import DiscountRecord, DiscountTerms
from chalicelib.models.crm import WINBACK_PREFIX
from chalicelib.repository import discounts

CODE = re.compile(r"[A-Za-z0-9_-]{3,32}")  # DiscountTerms.code's pattern


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(microsecond=0) if moment else None


def create(terms: DiscountTerms) -> DiscountRecord:
    """Create a code (stored upper case; codes match case-insensitively). Raises InvalidRequest for
    inconsistent terms or a code reserved for the win-back sweep, ResourceExists if the code exists."""
    if terms.code.upper().startswith(WINBACK_PREFIX):
        # The win-back sweep's personal codes: an order using one is counted as win-back revenue.
        raise InvalidRequest(f"Codes starting with {WINBACK_PREFIX} are reserved for win-back offers.", param="code")
    if terms.kind == "percent" and not 1 <= terms.value <= 100:
        raise InvalidRequest("A percent discount's value is from 1 to 100.", param="value")
    if terms.kind == "fixed" and terms.value < 1:
        raise InvalidRequest("A fixed discount's value is a positive amount in minor units.", param="value")
    if terms.kind == "fixed" and not terms.currency:
        raise InvalidRequest("A fixed discount needs the currency of its amount.", param="currency")
    if terms.min_subtotal is not None and not terms.currency:
        raise InvalidRequest("A minimum subtotal needs its currency.", param="currency")
    if terms.starts_at and terms.ends_at and terms.ends_at <= terms.starts_at:
        raise InvalidRequest("ends_at must be after starts_at.", param="ends_at")
    record = DiscountRecord(
        **terms.model_dump(exclude={"code", "value", "starts_at", "ends_at"}), id=clock.new_id("disc", 8),
        code=terms.code.upper(), value=terms.value if terms.kind != "free_shipping" else 0,
        starts_at=_utc(terms.starts_at), ends_at=_utc(terms.ends_at), created_at=clock.now())
    discounts.create(record)
    return record


def list_discounts(limit: int, cursor: str | None) -> tuple[list[DiscountRecord], str | None]:
    return discounts.list_recent(limit, cursor)


def disable(code: str) -> DiscountRecord:
    """End a code now (an ended code stays as it is). Raises ResourceMissing."""
    if not CODE.fullmatch(code):  # no such code could exist (and no over-long key reaches DynamoDB)
        raise not_found("discount")
    record = discounts.disable(code.upper(), clock.iso(clock.now()))
    if record is None:
        raise not_found("discount")
    return record
