"""Domain models and their pure rules: catalogue, carts and their totals. No I/O.

Money is always an integer in the currency's minor unit. Prices are tax-exclusive: tax is added on
top of the discounted subtotal plus shipping, at the rate of the destination country.
"""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.models.customers import customer_id_for

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


class Request(BaseModel):
    """A request body: unknown fields are rejected, so a client can never set prices or statuses."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Record(BaseModel):
    """A stored item: table keys and index attributes are ignored when reading it back."""

    model_config = ConfigDict(extra="ignore")


class Address(Request):
    name: Text
    line1: Text
    line2: OptionalText | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    region: OptionalText | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


# --- catalogue -------------------------------------------------------------------------------


class SkuRecord(Record):
    """One sellable variant: its price, and its stock, which checkout decrements with a condition."""

    sku: str
    product_id: str
    product_title: str
    title: str
    price: int
    currency: str
    active: bool
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    low_stock_threshold: int | None = None

    @property
    def line_title(self) -> str:
        return f"{self.product_title} – {self.title}" if self.title else self.product_title


class ProductRecord(Record):
    id: str
    title: str
    description: str
    active: bool
    skus: list[str]
    created_at: datetime
    updated_at: datetime


class Variant(BaseModel):
    sku: str
    title: str
    price: int
    currency: str
    available: int


class Product(BaseModel):
    id: str
    title: str
    description: str
    active: bool
    variants: list[Variant]

    @classmethod
    def from_records(cls, product: ProductRecord, skus: dict[str, SkuRecord]) -> "Product":
        variants = [
            Variant(sku=s.sku, title=s.title, price=s.price, currency=s.currency, available=max(s.available, 0))
            for s in (skus.get(sku) for sku in product.skus)
            if s is not None
        ]
        return cls(id=product.id, title=product.title, description=product.description,
                   active=product.active, variants=variants)


class StockLevel(BaseModel):
    sku: str
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int | None

    @classmethod
    def from_record(cls, record: SkuRecord) -> "StockLevel":
        return cls.model_validate(record.model_dump())


# --- carts -----------------------------------------------------------------------------------


class CartLineRecord(Record):
    sku: str
    quantity: int


class CartRecord(Record):
    id: str
    status: Literal["open", "checked_out"] = "open"
    currency: str
    email: str | None = None
    lines: list[CartLineRecord] = []
    shipping_address: Address | None = None
    shipping_method: str | None = None
    discount_code: str | None = None
    order_id: str | None = None
    recovered: bool = False  # restored from an abandoned-cart reminder link
    reminded_at: datetime | None = None  # when the abandoned-cart reminder went out
    reminder: dict | None = None  # what the reminder shows: {"lines": [...], "subtotal": ...}
    version: int = 0
    created_at: datetime
    updated_at: datetime
    expires_at: int  # epoch seconds: the table's TTL attribute

    def quantity_of(self, sku: str) -> int:
        return next((line.quantity for line in self.lines if line.sku == sku), 0)

    def with_quantity(self, sku: str, quantity: int) -> "CartRecord":
        """The cart with `sku` at `quantity` (0 removes the line); line order is kept."""
        lines = [line for line in self.lines if line.sku != sku or quantity > 0]
        if quantity > 0:
            if any(line.sku == sku for line in lines):
                lines = [CartLineRecord(sku=sku, quantity=quantity) if line.sku == sku else line for line in lines]
            else:
                lines.append(CartLineRecord(sku=sku, quantity=quantity))
        return self.model_copy(update={"lines": lines})


class ShippingMethod(BaseModel):
    id: str
    title: str
    price: int


class CartLine(BaseModel):
    sku: str
    product_id: str
    title: str
    quantity: int
    unit_price: int
    line_total: int
    free: bool = False  # added by an automatic promotion (buy X get Y)


# --- promotions ------------------------------------------------------------------------------

DiscountKind = Literal["percent", "fixed", "free_shipping"]


class DiscountRecord(Record):
    """A discount code. `value` is a percentage (1-100) for `percent`, an amount in `currency`'s
    minor unit for `fixed`, unused for `free_shipping`. `currency` is required for `fixed` and
    for a `min_subtotal`; the code then only applies to carts in that currency."""

    id: str
    code: str
    kind: DiscountKind
    value: int = 0
    currency: str | None = None
    min_subtotal: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    customer_id: str | None = None  # a personal code (win-back): only carts with that customer's email
    times_used: int = 0
    created_at: datetime


class DiscountStatus(BaseModel):
    code: str
    applied: bool
    reason: str | None = None  # why it does not apply: discount_expired, discount_minimum_not_reached...
    message: str | None = None


def discount_problem(discount: DiscountRecord, currency: str, subtotal: int, now: datetime,
                     email: str | None = None) -> tuple[str, str] | None:
    """Why `discount` does not apply to a cart (code, message), or None when it does. Usage
    limits are checked again, atomically, by the checkout transaction; a personal code's customer
    once the cart has an email (checkout needs one)."""
    if discount.customer_id and email and customer_id_for(email) != discount.customer_id:
        return "discount_not_for_customer", f"Code {discount.code} is personal: it belongs to another customer."
    if discount.starts_at and now < discount.starts_at:
        return "discount_not_yet_valid", f"Code {discount.code} is valid from {discount.starts_at:%Y-%m-%d %H:%M} UTC."
    if discount.ends_at and now >= discount.ends_at:
        return "discount_expired", f"Code {discount.code} expired."
    if discount.usage_limit is not None and discount.times_used >= discount.usage_limit:
        return "discount_used_up", f"Code {discount.code} has been used up."
    if discount.currency and discount.currency != currency:
        return "discount_currency_mismatch", f"Code {discount.code} applies to {discount.currency} carts only."
    if discount.min_subtotal is not None and subtotal < discount.min_subtotal:
        return ("discount_minimum_not_reached",
                f"Code {discount.code} needs a subtotal of at least {discount.min_subtotal} (minor units).")
    return None


def discount_amount(discount: DiscountRecord, subtotal: int) -> int:
    """The merchandise discount in minor units, never more than the subtotal."""
    if discount.kind == "percent":
        return min(subtotal, round_half_up(subtotal * discount.value, 100))
    if discount.kind == "fixed":
        return min(subtotal, discount.value)
    return 0


def free_items(lines: list["CartLine"], promotions: list[dict], skus: dict[str, "SkuRecord"],
               currency: str) -> list["CartLine"]:
    """Lines added at price 0 by buy-X-get-Y promotions: for every `buy_quantity` of `buy_sku` in
    the cart, `get_quantity` of `get_sku` free, up to `max_free` (when set) and what is in stock."""
    bought = {line.sku: line.quantity for line in lines}
    free: dict[str, int] = {}
    for promotion in promotions:
        times = bought.get(promotion["buy_sku"], 0) // max(int(promotion["buy_quantity"]), 1)
        quantity = times * int(promotion.get("get_quantity", 1))
        if promotion.get("max_free") is not None:
            quantity = min(quantity, int(promotion["max_free"]))
        variant = skus.get(promotion["get_sku"])
        if quantity <= 0 or variant is None or not variant.active or variant.currency != currency:
            continue
        in_stock = variant.available - bought.get(variant.sku, 0) - free.get(variant.sku, 0)
        quantity = min(quantity, max(in_stock, 0))
        if quantity:
            free[variant.sku] = free.get(variant.sku, 0) + quantity
    return [CartLine(sku=sku, product_id=skus[sku].product_id, title=f"{skus[sku].line_title} (free)",
                     quantity=quantity, unit_price=0, line_total=0, free=True) for sku, quantity in free.items()]


class Totals(BaseModel):
    subtotal: int
    discount_total: int
    shipping_total: int
    tax_total: int
    total: int


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
    order_id: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime

    @field_validator("created_at", "updated_at", "expires_at")
    @classmethod
    def _whole_seconds(cls, value: datetime) -> datetime:
        return value.replace(microsecond=0)


def round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounding halves away from zero, for non-negative amounts."""
    return (2 * numerator + denominator) // (2 * denominator)


def shipping_methods_for(currency: str, methods: list[dict], merchandise: int) -> list[ShippingMethod]:
    """The configured methods that ship in `currency`, free above their threshold when they have one."""
    offered = []
    for method in methods:
        price = method.get("price", {}).get(currency)
        if price is None:
            continue
        free_over = (method.get("free_over") or {}).get(currency)
        if free_over is not None and merchandise >= free_over:
            price = 0
        offered.append(ShippingMethod(id=method["id"], title=method["title"], price=price))
    return offered


def tax_on(amount: int, country: str | None, tax_rates: dict[str, int]) -> int:
    """Tax on a tax-exclusive amount at the destination's rate in basis points (0 when unknown)."""
    if not country:
        return 0
    return round_half_up(amount * int(tax_rates.get(country, 0)), 10_000)


def price_cart(record: CartRecord, skus: dict[str, SkuRecord], shipping_methods: list[dict],
               tax_rates: dict[str, int], discount: DiscountRecord | None = None,
               promotions: list[dict] = (), now: datetime | None = None) -> Cart:
    """The cart as the storefront sees it, every price taken from the catalogue now. Lines whose
    variant is gone, inactive or priced in another currency are left out of the view and totals.
    `skus` must hold the promotions' free SKUs too; `discount` is the cart's code, if any."""
    lines = []
    for line in record.lines:
        sku = skus.get(line.sku)
        if sku is None or not sku.active or sku.currency != record.currency:
            continue
        lines.append(CartLine(sku=sku.sku, product_id=sku.product_id, title=sku.line_title, quantity=line.quantity,
                              unit_price=sku.price, line_total=sku.price * line.quantity))
    lines += free_items(lines, list(promotions), skus, record.currency)
    subtotal = sum(line.line_total for line in lines)
    status, discount_total, free_shipping = None, 0, False
    if record.discount_code:
        problem = (("discount_unknown", f"Code {record.discount_code} does not exist.") if discount is None
                   else discount_problem(discount, record.currency, subtotal, now or datetime.now(UTC), record.email))
        status = DiscountStatus(code=record.discount_code, applied=problem is None,
                                reason=problem[0] if problem else None, message=problem[1] if problem else None)
        if problem is None:
            discount_total = discount_amount(discount, subtotal)
            free_shipping = discount.kind == "free_shipping"
    merchandise = subtotal - discount_total
    offered = shipping_methods_for(record.currency, shipping_methods, merchandise)
    if free_shipping:
        offered = [m.model_copy(update={"price": 0}) for m in offered]
    chosen = next((m for m in offered if m.id == record.shipping_method), None)
    shipping_total = chosen.price if chosen and lines else 0
    country = record.shipping_address.country if record.shipping_address else None
    tax_total = tax_on(merchandise + shipping_total, country, tax_rates)
    return Cart(
        id=record.id, status=record.status, currency=record.currency, email=record.email, lines=lines,
        shipping_address=record.shipping_address, shipping_method=record.shipping_method,
        available_shipping_methods=offered, discount_code=record.discount_code, discount=status,
        order_id=record.order_id,
        subtotal=subtotal, discount_total=discount_total, shipping_total=shipping_total, tax_total=tax_total,
        total=merchandise + shipping_total + tax_total,
        created_at=record.created_at, updated_at=record.updated_at,
        expires_at=datetime.fromtimestamp(record.expires_at, UTC),
    )
