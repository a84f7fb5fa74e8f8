"""Quotes: a buyer asks for prices on a cart, the shop answers with a price per line and an expiry, the
buyer accepts (the cart is checked out at those prices, one order per quote) or the quote lapses. Pure
rules, no I/O.

`requested` → `answered` (again while not accepted: a new answer replaces the prices) → `accepted`.
`expired` is not stored: an answered quote past its `expires_at` shows as expired and cannot be accepted.
"""

from datetime import datetime
from typing import Literal

from chalicelib.models import Record
from chalicelib.models.base import Model

StoredStatus = Literal["requested", "answered", "accepted"]
QuoteStatus = Literal["requested", "answered", "accepted", "expired"]


class QuoteLine(Model):
    sku: str
    title: str
    quantity: int
    list_price: int  # the cart's unit price when the quote was asked for
    unit_price: int | None = None  # the shop's answer


class QuoteRecord(Record):
    id: str
    cart_id: str
    company_id: str
    customer_id: str
    email: str | None = None
    currency: str
    message: str | None = None
    status: StoredStatus = "requested"
    lines: list[QuoteLine]
    expires_at: datetime | None = None
    order_id: str | None = None
    created_at: datetime
    answered_at: datetime | None = None
    accepted_at: datetime | None = None
    version: int = 0

    def prices(self) -> dict[str, int]:
        return {line.sku: line.unit_price for line in self.lines if line.unit_price is not None}


class Quote(Model):
    """A quote as the buyer and the shop see it; `subtotal` is at the quoted prices once answered."""

    id: str
    cart_id: str
    company_id: str
    currency: str
    message: str | None
    status: QuoteStatus
    lines: list[QuoteLine]
    list_subtotal: int
    subtotal: int | None
    expires_at: datetime | None
    order_id: str | None
    created_at: datetime
    answered_at: datetime | None

    @classmethod
    def from_record(cls, record: QuoteRecord, now: datetime) -> "Quote":
        answered = record.status != "requested"
        return cls.model_validate(record.model_dump(include=set(cls.model_fields)) | {
            "status": status_at(record, now),
            "list_subtotal": sum(line.list_price * line.quantity for line in record.lines),
            "subtotal": sum(line.unit_price * line.quantity for line in record.lines) if answered else None})


def status_at(quote: QuoteRecord, now: datetime) -> QuoteStatus:
    if quote.status == "answered" and quote.expires_at is not None and quote.expires_at <= now:
        return "expired"
    return quote.status


def answer_problem(quote: QuoteRecord, prices: list[tuple[str, int]], expires_at: datetime,
                   now: datetime) -> tuple[str, str] | None:
    """Why the shop's answer cannot be taken, as (param, message), or None: every line of the quote needs
    exactly one price, no other SKU, and the expiry must lie ahead."""
    skus = {line.sku for line in quote.lines}
    seen: set[str] = set()
    for index, (sku, _) in enumerate(prices):
        if sku not in skus:
            return f"lines.{index}.sku", f"SKU {sku} is not in the quote."
        if sku in seen:
            return f"lines.{index}.sku", f"SKU {sku} is priced twice."
        seen.add(sku)
    if seen != skus:
        return "lines", "Price every line of the quote: " + ", ".join(sorted(skus - seen)) + " missing."
    if expires_at <= now:
        return "expires_at", "The expiry must lie in the future."
    return None


def answered(quote: QuoteRecord, prices: list[tuple[str, int]], expires_at: datetime, now: datetime) -> QuoteRecord:
    by_sku = dict(prices)
    return quote.model_copy(update={
        "status": "answered", "expires_at": expires_at, "answered_at": now,
        "lines": [line.model_copy(update={"unit_price": by_sku[line.sku]}) for line in quote.lines]})


def matches_cart(quote: QuoteRecord, quantities: dict[str, int]) -> bool:
    """Whether the cart still holds exactly the quoted lines (SKU and quantity)."""
    return quantities == {line.sku: line.quantity for line in quote.lines}
