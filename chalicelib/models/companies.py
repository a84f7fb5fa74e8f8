"""B2B: companies, their buyers, price lists with volume tiers, and purchase requests. Pure rules, no I/O.

A company is a customer of the shop made of several signed-in buyers (Cognito accounts, identified by the
customer id of their verified email). A buyer's role is `buyer` (builds carts, checks out within a
spending limit per currency) or `approver` (also approves the purchase requests above a buyer's limit).

VAT ids: the format of the 27 EU member states (plus XI, Northern Ireland), keyed by the id's two-letter
prefix (Greece's is EL, not GR); any other id is kept as given (a non-EU tax number) and never makes a
sale reverse-charged.
"""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.models import Address, CartLine, Currency, Money, PriceSource, Quantity, Record, Request, Sku, Text
from chalicelib.models.base import Model
from chalicelib.models.crm import Segment

# The format of the digits after the prefix, per EU VAT prefix (the European Commission's VIES rules).
EU_VAT_FORMATS: dict[str, str] = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "BG": r"\d{9,10}", "CY": r"\d{8}[A-Z]", "CZ": r"\d{8,10}",
    "DE": r"\d{9}", "DK": r"\d{8}", "EE": r"\d{9}", "EL": r"\d{9}", "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}", "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}", "HR": r"\d{11}", "HU": r"\d{8}",
    "IE": r"\d[A-Z0-9+*]\d{5}[A-Z]{1,2}", "IT": r"\d{11}", "LT": r"(\d{9}|\d{12})",
    "LU": r"\d{8}", "LV": r"\d{11}", "MT": r"\d{8}", "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}", "PT": r"\d{9}", "RO": r"\d{2,10}", "SE": r"\d{12}", "SI": r"\d{8}", "SK": r"\d{10}",
    "XI": r"(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
}
# The ISO 3166 country of a VAT prefix where they differ (XI, Northern Ireland, is in the EU's VAT area for goods).
VAT_PREFIX_COUNTRY = {"EL": "GR"}
EU_VAT_AREA = frozenset(VAT_PREFIX_COUNTRY.get(prefix, prefix) for prefix in EU_VAT_FORMATS)

Role = Literal["buyer", "approver"]
VatId = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=4, max_length=20,
                                         pattern=r"^[A-Za-z0-9 .-]+$")]


def normalise_vat_id(vat_id: str) -> str:
    """Upper case without spaces, dots or dashes: `de 123.456.789` → `DE123456789`."""
    return re.sub(r"[\s.-]", "", vat_id).upper()


def vat_problem(vat_id: str) -> str | None:
    """Why an EU VAT id is malformed (a message), or None when it is well formed or not an EU id. An id
    starting with an EU prefix must match that country's format."""
    value = normalise_vat_id(vat_id)
    prefix = value[:2]
    if prefix in EU_VAT_FORMATS:
        if not re.fullmatch(EU_VAT_FORMATS[prefix], value[2:]):
            return f"{value} is not a valid {prefix} VAT id."
        return None
    if prefix == "GR":
        return "Greek VAT ids start with EL, not GR."
    if not re.fullmatch(r"[A-Z0-9]{4,20}", value):
        return "A VAT id is letters and digits."
    return None


def eu_vat_country(vat_id: str | None) -> str | None:
    """The member state (ISO 3166; XI for Northern Ireland) of a well-formed EU VAT id, else None."""
    if not vat_id or vat_problem(vat_id) is not None:
        return None
    prefix = normalise_vat_id(vat_id)[:2]
    return VAT_PREFIX_COUNTRY.get(prefix, prefix) if prefix in EU_VAT_FORMATS else None


def reverse_charged(vat_id: str | None, shop_country: str | None) -> bool:
    """Intra-EU B2B supply of goods: the buyer has a well-formed EU VAT id of another member state than
    the shop's, itself in the EU's VAT area. Then the buyer accounts for the VAT (tax 0 on the order)."""
    country = eu_vat_country(vat_id)
    return bool(country and shop_country in EU_VAT_AREA and country != shop_country)


# --- companies and buyers ------------------------------------------------------------------------


class CompanyIn(Request):
    name: Text
    vat_id: VatId | None = None
    billing_address: Address
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] | None = None
    credit_limit: dict[Currency, Money] = Field(default_factory=dict)


class CompanyChange(Request):
    name: Text | None = None
    vat_id: VatId | None = None
    billing_address: Address | None = None
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] | None = None
    credit_limit: dict[Currency, Money] | None = None


class Company(Record):
    id: str
    name: str
    vat_id: str | None = None
    vat_country: str | None = Field(None, description="The EU member state of the VAT id (None: not an EU id).")
    billing_address: Address
    payment_terms_days: int | None = None
    credit_limit: dict[str, int] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class BuyerIn(Request):
    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254,
                                            pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")]
    role: Role = "buyer"
    spending_limit: dict[Currency, Money] | None = None


class Buyer(Record):
    customer_id: str
    company_id: str
    email: str
    role: Role
    spending_limit: dict[str, int] | None = Field(
        None, description="Per currency; a checkout above it becomes a purchase request. None: no limit.")
    created_at: datetime

    def within_limit(self, total: int, currency: str) -> bool:
        """Whether a checkout of `total` needs nobody's approval (no limit set, or none in this currency:
        unlimited)."""
        if self.spending_limit is None or currency not in self.spending_limit:
            return True
        return total <= self.spending_limit[currency]


class CompanyView(Company):
    """A company as its buyers see it (GET /company): with its buyers and the caller's own membership."""

    buyers: list[Buyer] = []
    me: Buyer | None = None


# --- price lists ---------------------------------------------------------------------------------

MAX_PRICE_LIST_SKUS = 1000  # a company keeps a copy of its list in one item (400 KB at most)
MAX_TIERS = 8


class Tier(Request):
    min_quantity: Quantity
    price: Money


class SkuPrice(Request):
    """A SKU's negotiated prices: tiers by quantity (the first from 1: the list price), and the quantity
    rules of the SKU for companies on the list."""

    sku: Sku
    tiers: Annotated[list[Tier], Field(min_length=1, max_length=MAX_TIERS)]
    min_quantity: Quantity | None = None
    step: Quantity | None = None


class PriceListIn(Request):
    name: Text
    currency: Currency
    companies: Annotated[list[Annotated[str, StringConstraints(pattern=r"^co_[A-Za-z0-9]{1,40}$")]],
                         Field(max_length=100)] = []
    customer_groups: list[Segment] = Field(
        default_factory=list, description="Customer groups (the CRM's segments) priced by this list when they are "
                                          "not buying for a company.")
    prices: Annotated[list[SkuPrice], Field(max_length=MAX_PRICE_LIST_SKUS)] = []


class PriceList(Record):
    id: str
    name: str
    currency: str
    companies: list[str] = []
    customer_groups: list[str] = []
    prices: list[SkuPrice] = []
    version: int = 0
    created_at: datetime
    updated_at: datetime

    def entry(self, sku: str) -> SkuPrice | None:
        return next((p for p in self.prices if p.sku == sku), None)


def price_list_problem(body: PriceListIn) -> tuple[str, str] | None:
    """(param, message) of the first inconsistency: a SKU twice, tiers not starting at 1 or not rising, a
    minimum below the step."""
    seen: set[str] = set()
    for index, entry in enumerate(body.prices):
        if entry.sku in seen:
            return f"prices.{index}.sku", f"SKU {entry.sku} is listed twice."
        seen.add(entry.sku)
        starts = [tier.min_quantity for tier in entry.tiers]
        if starts[0] != 1:
            return f"prices.{index}.tiers.0.min_quantity", "The first tier starts at quantity 1."
        for position in range(1, len(starts)):
            if starts[position] <= starts[position - 1]:
                return (f"prices.{index}.tiers.{position}.min_quantity",
                        "Tiers are listed by rising min_quantity.")
    if len(set(body.companies)) != len(body.companies):
        return "companies", "A company is listed twice."
    if len(set(body.customer_groups)) != len(body.customer_groups):
        return "customer_groups", "A customer group is listed twice."
    return None


def tier_price(entry: SkuPrice, quantity: int) -> tuple[int, PriceSource]:
    """The unit price for `quantity` on a price list entry: the tier with the highest min_quantity not
    above the quantity; the first tier is the list price (`price_list`), a later one a volume `tier`."""
    chosen = 0
    for index, tier in enumerate(entry.tiers):
        if tier.min_quantity <= quantity:
            chosen = index
    return entry.tiers[chosen].price, "price_list" if chosen == 0 else "tier"


def quantity_problem(entry: SkuPrice | None, quantity: int) -> str | None:
    """Why `quantity` breaks the SKU's minimum order quantity or step on the company's price list."""
    if entry is None:
        return None
    minimum = entry.min_quantity or 1
    if quantity < minimum:
        return f"SKU {entry.sku} is sold from {minimum} units."
    if entry.step and (quantity - minimum) % entry.step:
        return f"SKU {entry.sku} is sold in steps of {entry.step} from {minimum}."
    return None


# --- purchase requests ---------------------------------------------------------------------------

RequestStatus = Literal["pending", "approved", "rejected"]


class Decision(Request):
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class PurchaseRequest(Record):
    id: str
    company_id: str
    cart_id: str
    cart_version: int
    customer_id: str
    email: str
    status: RequestStatus = "pending"
    currency: str
    lines: list[CartLine] = []
    total: int
    spending_limit: int | None = None
    approvers: list[str] = Field(default_factory=list, description="The approvers' emails when it was made.")
    payment_method: str | None = None
    message: str | None = None
    decided_by: str | None = None
    order_id: str | None = None
    version: int = 0
    created_at: datetime
    decided_at: datetime | None = None


class B2BTerms(Model):
    """What a buyer's company changes in pricing a cart: its price list for the cart's currency and
    whether the sale is reverse-charged (tax 0)."""

    company_id: str | None = None  # None: priced for the customer's group, not for a company
    buyer: Buyer | None = None
    price_list: PriceList | None = None
    reverse_charge: bool = False
    company: Company | None = None  # as read for pricing: its terms and credit limit serve paying by invoice
