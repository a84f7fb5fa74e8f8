"""Domain models and their pure rules: catalogue, carts and their totals. No I/O.

Money is always an integer in the currency's minor unit. Prices are tax-exclusive: tax is added on
top of the discounted subtotal plus shipping, at the rate of the destination country.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from chalicelib.models.base import Model
from chalicelib.models.kept import KeptAnswer

MAX_QUANTITY = 999
# A DynamoDB transaction holds at most 100 actions; checkout needs one per SKU plus the order, the
# cart and up to two for a discount code.
MAX_LINES = 95
MAX_MONEY = 100_000_000_00  # one hundred million in major units: a sanity bound on any amount

Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Money = Annotated[int, Field(ge=0, le=MAX_MONEY)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")]


class Request(Model):
    """A request body: unknown fields are rejected, so a client can never set prices or statuses."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Record(Model):
    """A stored item: table keys and index attributes are ignored when reading it back.

    Empty list and dict defaults of the records read on every cart request are `Field(default_factory=...)`,
    not `[]`/`{}`: pydantic deep-copies a mutable default (copy.deepcopy, in Python) for every instance that
    lacks the field, a factory is one C call (a SkuRecord validated 5.7 -> 2.3 µs; bench/own_time.py)."""

    model_config = ConfigDict(extra="ignore")


# ISO 3166-1 alpha-2: the 249 officially assigned codes (from pycountry 26.2.16's iso3166-1.json) and XK
# (Kosovo, user-assigned, which Stripe and the carriers use). An address in another "country" is a 400.
COUNTRIES = frozenset({
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "XK", "YE", "YT",
    "ZA", "ZM", "ZW",
})


def _known_country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError(f"{code} is not an ISO 3166-1 country code")
    return code


Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_known_country)]


class Address(Request):
    name: Text
    line1: Text
    line2: OptionalText | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    region: OptionalText | None = None
    country: Country


# --- catalogue -------------------------------------------------------------------------------

MAX_SHARDS = 16


class ShardLevel(Model):
    """The stock of one shard item of a SKU (shard 0 is the SKU item itself)."""

    shard: int
    on_hand: int = 0
    reserved: int = 0
    available: int = 0


class SkuRecord(Record):
    """One sellable variant: its prices, and its stock, which checkout decrements with a condition.

    `price`/`currency` are its default price; `prices` holds one price per currency it is sold in. A
    record written before prices per currency existed has no `prices` and reads as
    `{currency: price}` (the migration path: no batch rewrite, the next admin write stores the map).

    A hot SKU's stock is split over `shards` items (models/stock.py): the SKU item holds shard 0,
    and a read fills `shard_levels` and sums them into on_hand, reserved and available."""

    sku: str
    product_id: str
    product_title: str
    title: str
    price: int
    currency: str
    prices: dict[str, int] = Field(default_factory=dict)
    active: bool
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    low_stock_threshold: int | None = None
    gift_card: bool = False  # a gift card of this value (the variant's price): one card per unit bought
    shards: int = 1
    shard_levels: list[ShardLevel] = Field(default_factory=list)
    # While a sale is on it (models/sales.py): the regular prices, each sale's terms, the lowest price of
    # the 30 days before the reduction per currency (EU Omnibus), and the shown sale's window (feeds).
    compare_at_prices: dict[str, int] = Field(default_factory=dict)
    sales: dict[str, dict] = Field(default_factory=dict)
    lowest_prices_30d: dict[str, int] = Field(default_factory=dict)
    sale_starts_at: str | None = None
    sale_ends_at: str | None = None
    price_version: int = 0  # bumped by every price write: a sale's read-modify-write is conditioned on it

    @model_validator(mode="after")
    def _default_price_is_a_price(self) -> "SkuRecord":
        if self.currency not in self.prices:
            self.prices = {self.currency: self.price, **self.prices}
        return self

    def price_in(self, currency: str) -> int | None:
        """The variant's price in `currency`, None when the shop has not priced it there."""
        return self.prices.get(currency)

    @property
    def sellable(self) -> int:
        """How many can be bought now: what is available, or MAX_QUANTITY for a gift card (issued when
        paid, never stocked: it reserves nothing and is never out of stock)."""
        return MAX_QUANTITY if self.gift_card else self.available

    @property
    def line_title(self) -> str:
        return f"{self.product_title} – {self.title}" if self.title else self.product_title


class Image(Model):
    id: str
    url: str
    alt: str = ""


class ProductRecord(Record):
    id: str
    title: str
    description: str
    active: bool
    skus: list[str]
    categories: list[str] = Field(default_factory=list)  # category slugs
    tags: list[str] = Field(default_factory=list)
    listing_price: int | None = None  # lowest variant price in the default currency: the price sort
    images: list[Image] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class Variant(Model):
    sku: str
    title: str
    price: int = Field(description="The price in `currency` (the default currency, or the one asked for).")
    currency: str
    prices: dict[str, int] = Field(description="The price in each currency the variant is sold in.")
    available: int = Field(description="How many can be bought now (a gift card, never stocked: 999).")
    gift_card: bool = Field(False, exclude_if=lambda value: not value,
                            description="A gift card of the price's value; its cart line needs `gift_card`. "
                                        "Present only when true.")
    # Present only during a sale (absent, not null, otherwise).
    compare_at_price: int | SkipJsonSchema[None] = Field(None, exclude_if=lambda v: v is None, description=(
        "During a sale only: the regular price in `currency`."))
    lowest_price_30d: int | SkipJsonSchema[None] = Field(None, exclude_if=lambda v: v is None, description=(
        "During a sale only: the lowest price in `currency` of the 30 days before the reduction (EU Omnibus)."))

    @classmethod
    def from_record(cls, s: SkuRecord, currency: str | None = None) -> "Variant | None":
        """The variant as shown; in `currency` when given (None when it has no price there)."""
        currency = currency or s.currency
        price = s.price_in(currency)
        if price is None:
            return None
        before = s.compare_at_prices.get(currency)
        on_sale = before is not None and before > price
        return cls(sku=s.sku, title=s.title, price=price, currency=currency, prices=dict(s.prices),
                   available=max(s.sellable, 0), compare_at_price=before if on_sale else None,
                   lowest_price_30d=s.lowest_prices_30d.get(currency, before) if on_sale else None,
                   gift_card=s.gift_card)




class Product(Model):
    id: str
    title: str
    description: str
    active: bool
    categories: list[str] = Field(default_factory=list, description="The slugs of the product's categories.")
    tags: list[str] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list, description="In the shop's order; the first is the main one.")
    variants: list[Variant]

    @classmethod
    def from_records(cls, product: ProductRecord, skus: dict[str, SkuRecord], currency: str | None = None) -> "Product":
        """The product with its variants; with `currency`, only those priced in it, at that price."""
        shown = (Variant.from_record(s, currency) for s in (skus.get(sku) for sku in product.skus) if s is not None)
        variants = [v for v in shown if v is not None]
        return cls(id=product.id, title=product.title, description=product.description, active=product.active,
                   categories=product.categories, tags=product.tags, images=product.images, variants=variants)


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class CategoryRecord(Record):
    id: str
    slug: str
    title: str
    parent_id: str | None = None
    created_at: datetime


class Category(Model):
    """A node of the category tree, with its sub-categories."""

    id: str
    slug: str
    title: str
    parent_id: str | None
    children: list["Category"] = []


class CollectionRule(Model):
    """What a rule collection holds: active products matching every condition given (prices in minor
    units of the default currency, the product's lowest variant price)."""

    model_config = ConfigDict(extra="forbid")

    category: Slug | None = None
    tag: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    price_min: Money | None = None
    price_max: Money | None = None
    on_sale: bool | None = Field(None, description="Only products with a variant on sale now (true), or none (false).")

    def on_sale_matches(self, skus: list[SkuRecord]) -> bool:
        """Whether products with these variants pass `on_sale` (a variant is on sale while a sale lowers it)."""
        return self.on_sale is None or self.on_sale == any(
            s.active and any(p > s.prices.get(c, p) for c, p in s.compare_at_prices.items()) for s in skus)

    def matches(self, product: "ProductRecord") -> bool:
        price = product.listing_price
        return (product.active and (self.category is None or self.category in product.categories)
                and (self.tag is None or self.tag in product.tags)
                and (self.price_min is None or (price is not None and price >= self.price_min))
                and (self.price_max is None or (price is not None and price <= self.price_max)))


class Collection(Model):
    """A hand-picked list of products (`product_ids`, in the shop's order) or a `rule`."""

    id: str
    slug: str
    title: str
    product_ids: list[str] | None = None
    rule: CollectionRule | None = None


class CollectionRecord(Collection, Record):
    created_at: datetime


class StockLevel(Model):
    sku: str
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int | None
    shards: int = Field(description="How many items the SKU's stock is split over (1 = one item; more for a "
                                       "flash sale: checkouts of the SKU then rarely meet on one item).")

    @classmethod
    def from_record(cls, record: SkuRecord) -> "StockLevel":
        return cls.model_validate(record.model_dump())


# --- carts -----------------------------------------------------------------------------------


class GiftCardLine(Model):
    """Who a gift-card line's cards go to: one card per unit, emailed at `send_at` (now when absent).
    Not strict like a Request: it is also read back from the stored cart (a `send_at` string)."""

    model_config = ConfigDict(extra="forbid")

    recipient_email: Email
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    send_at: AwareDatetime | None = None


class AppliedGiftCard(Model):
    """A gift card applied to a cart: which (never its code) and how much of the total it pays."""

    gift_card_id: str
    last4: str


class CartLineRecord(Record):
    sku: str
    quantity: int
    gift_card: GiftCardLine | None = None


class CartRecord(Record):
    id: str
    status: Literal["open", "checked_out"] = "open"
    currency: str
    email: str | None = None
    lines: list[CartLineRecord] = Field(default_factory=list)
    shipping_address: Address | None = None
    shipping_method: str | None = None
    discount_code: str | None = None
    order_id: str | None = None
    recovered: bool = False  # restored from an abandoned-cart reminder link
    reminded_at: datetime | None = None  # when the abandoned-cart reminder went out
    reminder: dict | None = None  # what the reminder shows: {"lines": [...], "subtotal": ...}
    customer_id: str | None = None  # the account it is attached to (POST /me/carts)
    marketing_consent: bool | None = None  # a guest's answer to the marketing question, recorded at checkout
    # Applied with POST /carts/{id}/gift-cards, in that order.
    gift_cards: list[AppliedGiftCard] = Field(default_factory=list)
    use_store_credit: bool = False  # the signed-in holder spends their store credit (PATCH /carts/{id})
    version: int = 0
    # What the storefront was last shown (unit price per SKU) and when: a checkout honours it within
    # SALE_GRACE_SECONDS when a price went up since (a sale ended), else answers price_changed.
    priced_at: datetime | None = None
    shown_prices: dict[str, int] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    expires_at: int  # epoch seconds: the table's TTL attribute
    # Answers to keyed POSTs, replayed from here (models/kept.py): the create's, and the last few changes'.
    created_by: KeptAnswer | None = None
    answers: list[KeptAnswer] = Field(default_factory=list)

    def quantity_of(self, sku: str) -> int:
        return next((line.quantity for line in self.lines if line.sku == sku), 0)

    def with_quantity(self, sku: str, quantity: int, gift_card: GiftCardLine | None = None) -> "CartRecord":
        """The cart with `sku` at `quantity` (0 removes the line); line order is kept. A gift-card
        line keeps its recipient unless `gift_card` gives a new one."""
        lines = [line for line in self.lines if line.sku != sku or quantity > 0]
        if quantity > 0:
            if any(line.sku == sku for line in lines):
                lines = [CartLineRecord(sku=sku, quantity=quantity, gift_card=gift_card or line.gift_card)
                         if line.sku == sku else line for line in lines]
            else:
                lines.append(CartLineRecord(sku=sku, quantity=quantity, gift_card=gift_card))
        return self.model_copy(update={"lines": lines})


class ShippingMethod(Model):
    id: str
    title: str
    price: int


# Where a line's unit price comes from: the catalogue, the buyer's company price list (its first tier), a
# volume tier of it, or an accepted quote (models/companies.py).
PriceSource = Literal["public", "price_list", "tier", "quote"]


class CartLine(Model):
    sku: str
    product_id: str
    title: str
    quantity: int
    unit_price: int
    line_total: int
    free: bool = False  # added by an automatic promotion (buy X get Y)
    gift_card: GiftCardLine | None = Field(None, exclude_if=lambda value: value is None,
                                           description="A gift-card line's recipient (present only on those).")
    price_source: PriceSource = "public"
    # The catalogue's price when a checkout charges the shown one (SALE_GRACE_SECONDS): what the
    # reservation checks. Never shown nor stored.
    catalogue_price: int | None = Field(None, exclude=True)


# --- promotions ------------------------------------------------------------------------------

DiscountKind = Literal["percent", "fixed", "free_shipping"]


UsageLimit = Annotated[int, Field(ge=1, le=10_000_000)]


class DiscountTerms(Model):
    """What the shop sets on a discount code. `value` is a percentage (1-100) for `percent`, an amount
    in `currency`'s minor unit for `fixed`, unused for `free_shipping`. `currency` is required for
    `fixed` and for a `min_subtotal`; the code then only applies to carts in that currency."""

    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,32}$")]
    kind: DiscountKind
    value: Annotated[int, Field(ge=0, le=MAX_MONEY)] = 0
    currency: Currency | None = None
    min_subtotal: Money | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    usage_limit: UsageLimit | None = None
    per_customer_limit: UsageLimit | None = None


class DiscountRecord(DiscountTerms, Record):
    """A discount code as stored: its terms, and how often orders used it."""

    id: str
    customer_id: str | None = None  # a personal code (win-back): only carts with that customer's email
    times_used: int = 0
    created_at: datetime
    disabled_at: datetime | None = None  # disabled by the shop (its ends_at is then that moment)


class DiscountStatus(Model):
    code: str
    applied: bool
    reason: str | None = None  # why it does not apply: a code of errors.DISCOUNT_REFUSALS
    message: str | None = None


class Totals(Model):
    subtotal: int
    discount_total: int
    shipping_total: int
    tax_total: int
    total: int


class GiftCardApplied(Model):
    last4: str
    amount_applied: int


class Cart(Totals):
    id: str
    status: Literal["open", "checked_out"]
    currency: str
    email: str | None
    lines: list[CartLine]
    shipping_address: Address | None
    shipping_method: str | None
    available_shipping_methods: list[ShippingMethod]
    discount_code: str | None
    discount: DiscountStatus | None = None
    gift_cards: list[GiftCardApplied] = Field(default_factory=list, description="Applied gift cards, in order.")
    store_credit_applied: int = Field(0, description="Store credit the signed-in holder spends on it.")
    amount_due: int | None = Field(None, description="What is left for the payment provider: the total less "
                                                      "gift cards and store credit.")
    order_id: str | None
    reverse_charge: bool = Field(False, description="An intra-EU B2B sale: tax 0, the buyer accounts for the VAT.")
    created_at: datetime
    updated_at: datetime
    expires_at: datetime

    @field_validator("created_at", "updated_at", "expires_at")
    @classmethod
    def _whole_seconds(cls, value: datetime) -> datetime:
        return value.replace(microsecond=0)

    @model_validator(mode="after")
    def _due_is_the_total_by_default(self) -> "Cart":
        if self.amount_due is None:
            self.amount_due = self.total
        return self


def round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounding halves away from zero, for non-negative amounts."""
    return (2 * numerator + denominator) // (2 * denominator)
