"""Scheduled sales and the prices they make: pure rules, no I/O.

A SKU's `compare_at_prices` are its regular prices while at least one sale is on it, and `sales`
holds the terms of each sale on it. Its shown `prices` are, per currency, the lowest of the regular
price and every sale's price there: overlapping sales never stack, the best price wins.
"""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from chalicelib.models import MAX_MONEY, Currency, Record, Sku, Slug, Text, round_half_up
from chalicelib.models.base import Model

SaleKind = Literal["percent", "fixed"]
SaleStatus = Literal["scheduled", "active", "ended"]


class SaleTerms(Model):
    """What the shop sets on a sale. `value` is a percentage (1-99) for `percent`, an amount in
    `currency`'s minor unit for `fixed` (required then: the sale lowers prices in that currency only).
    It covers `skus`, a `category` or a `collection` (exactly one)."""

    name: Text
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    kind: SaleKind
    value: Annotated[int, Field(ge=1, le=MAX_MONEY)]
    currency: Currency | None = None
    skus: Annotated[list[Sku], Field(min_length=1, max_length=500)] | None = None
    category: Slug | None = None
    collection: Slug | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "SaleTerms":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if sum(x is not None for x in (self.skus, self.category, self.collection)) != 1:
            raise ValueError("give exactly one of skus, category or collection")
        if self.kind == "percent" and self.value > 99:
            raise ValueError("a percent sale takes a value from 1 to 99")
        if self.kind == "fixed" and self.currency is None:
            raise ValueError("a fixed sale needs the currency of its value")
        return self


class SaleRecord(SaleTerms, Record):
    id: str
    status: SaleStatus = "scheduled"
    applied_skus: list[str] = []  # the SKUs it lowered (fixed when it starts), given back when it ends
    started_at: datetime | None = None
    ended_at: datetime | None = None
    created_at: datetime


class Sale(SaleTerms):
    id: str
    status: SaleStatus = Field(description="scheduled, active (prices lowered) or ended (prices back).")
    applied_skus: list[str] = Field(description="The SKUs whose prices it lowered (set when it starts).")
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SaleOnSku(Model):
    """A sale's terms as kept on each SKU it lowers."""

    kind: SaleKind
    value: int
    currency: str | None = None
    starts_at: str
    ends_at: str

    @classmethod
    def of(cls, sale: SaleTerms) -> "SaleOnSku":
        return cls(kind=sale.kind, value=sale.value, currency=sale.currency, starts_at=_iso(sale.starts_at),
                   ends_at=_iso(sale.ends_at))


def reduced(regular: int, sale: SaleOnSku, currency: str) -> int | None:
    """The price `sale` makes of a `regular` price in `currency`; None when it does not lower it."""
    if sale.kind == "percent":
        return regular - round_half_up(regular * sale.value, 100)
    if sale.currency != currency:
        return None
    return max(regular - sale.value, 0)


def sale_prices(regular: dict[str, int], sales: dict[str, SaleOnSku]) -> dict[str, int]:
    """Per currency, the best (lowest) of the regular price and every sale's: overlapping sales never stack."""
    shown = {}
    for currency, price in regular.items():
        offers = [p for p in (reduced(price, sale, currency) for sale in sales.values()) if p is not None]
        shown[currency] = min([price, *offers])
    return shown


def winning(regular: dict[str, int], sales: dict[str, SaleOnSku], currency: str) -> SaleOnSku | None:
    """The sale whose price is shown in `currency` (the first by start on a tie), None when none lowers it."""
    price = regular.get(currency)
    best = None
    for sale in sorted(sales.values(), key=lambda s: s.starts_at):
        offer = reduced(price, sale, currency) if price is not None else None
        if offer is not None and offer < price and (best is None or offer < best[0]):
            best = (offer, sale)
    return best[1] if best else None


def lowest_before(now_price: int, history: list[tuple[str, int | None]]) -> int:
    """The lowest price of a window (Omnibus): `history` are the (time, price) entries from the one in
    force at the window's start (or the window's first) to the last; `now_price` is the price just before
    the reduction."""
    return min([now_price, *(p for _, p in history if p is not None)])
