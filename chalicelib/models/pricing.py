"""Pricing a cart: the pure rules that turn a stored cart, the catalogue's SKUs, its discount code and
the shop's configuration into the totals the storefront shows and checkout charges. No I/O.

The configuration reaches these rules typed (`ShippingRate`, `Promotion`, in a `PricingContext` built by
chalicelib/config.py from its environment variables), never as raw dicts.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from pydantic import ConfigDict, Field

from chalicelib import errors
from chalicelib.models import (
    Cart,
    CartLine,
    CartRecord,
    DiscountRecord,
    DiscountStatus,
    PriceSource,
    ShippingMethod,
    SkuRecord,
    round_half_up,
)
from chalicelib.models.base import Model
from chalicelib.models.companies import B2BTerms, tier_price
from chalicelib.models.customers import customer_id_for


class ShippingRate(Model):
    """A shipping method as configured: its price per currency, free from `free_over` (per currency)
    of merchandise when set. It ships only in the currencies it has a price in."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    price: dict[str, int] = Field(default_factory=dict)
    free_over: dict[str, int] | None = None


class Promotion(Model):
    """An automatic buy-X-get-Y promotion: for every `buy_quantity` of `buy_sku`, `get_quantity` of
    `get_sku` free, at most `max_free` when set."""

    model_config = ConfigDict(frozen=True)

    id: str
    buy_sku: str
    buy_quantity: int
    get_sku: str
    get_quantity: int = 1
    max_free: int | None = None


@dataclass(frozen=True)
class PricingContext:
    """Everything besides the cart that prices it: the shop's shipping methods, tax rates (basis points
    per destination country, 1900 = 19 %) and promotions, and the moment (a code's validity window)."""

    shipping_methods: tuple[ShippingRate, ...] = ()
    tax_rates: Mapping[str, int] = field(default_factory=dict)
    promotions: tuple[Promotion, ...] = ()
    now: datetime | None = None

    def at(self, now: datetime) -> "PricingContext":
        return replace(self, now=now)

    @property
    def promoted_skus(self) -> list[str]:
        """The SKUs promotions give away: a cart is priced with them read too."""
        return [promotion.get_sku for promotion in self.promotions]


def discount_problem(discount: DiscountRecord, currency: str, subtotal: int, now: datetime,
                     email: str | None = None) -> tuple[str, str] | None:
    """Why `discount` does not apply to a cart (a code of errors.DISCOUNT_REFUSALS, a message), or None
    when it does. Usage limits are checked again, atomically, by the checkout transaction; a personal
    code's customer once the cart has an email (checkout needs one)."""
    if discount.customer_id and email and customer_id_for(email) != discount.customer_id:
        return (errors.DiscountNotForCustomer.code,
                f"Code {discount.code} is personal: it belongs to another customer.")
    if discount.starts_at and now < discount.starts_at:
        return (errors.DiscountNotYetValid.code,
                f"Code {discount.code} is valid from {discount.starts_at:%Y-%m-%d %H:%M} UTC.")
    if discount.ends_at and now >= discount.ends_at:
        return errors.DiscountExpired.code, f"Code {discount.code} expired."
    if discount.usage_limit is not None and discount.times_used >= discount.usage_limit:
        return errors.DiscountUsedUp.code, f"Code {discount.code} has been used up."
    if discount.currency and discount.currency != currency:
        return errors.DiscountCurrencyMismatch.code, f"Code {discount.code} applies to {discount.currency} carts only."
    if discount.min_subtotal is not None and subtotal < discount.min_subtotal:
        return (errors.DiscountMinimumNotReached.code,
                f"Code {discount.code} needs a subtotal of at least {discount.min_subtotal} (minor units).")
    return None


def discount_amount(discount: DiscountRecord, subtotal: int) -> int:
    """The merchandise discount in minor units, never more than the subtotal."""
    if discount.kind == "percent":
        return min(subtotal, round_half_up(subtotal * discount.value, 100))
    if discount.kind == "fixed":
        return min(subtotal, discount.value)
    return 0


def free_items(lines: list[CartLine], promotions: tuple[Promotion, ...], skus: dict[str, SkuRecord],
               currency: str) -> list["CartLine"]:
    """Lines added at price 0 by buy-X-get-Y promotions: for every `buy_quantity` of `buy_sku` in
    the cart, `get_quantity` of `get_sku` free, up to `max_free` (when set) and what is in stock."""
    bought = {line.sku: line.quantity for line in lines}
    free: dict[str, int] = {}
    for promotion in promotions:
        times = bought.get(promotion.buy_sku, 0) // max(promotion.buy_quantity, 1)
        quantity = times * promotion.get_quantity
        if promotion.max_free is not None:
            quantity = min(quantity, promotion.max_free)
        variant = skus.get(promotion.get_sku)
        if quantity <= 0 or variant is None or not variant.active or variant.price_in(currency) is None:
            continue
        in_stock = variant.sellable - bought.get(variant.sku, 0) - free.get(variant.sku, 0)
        quantity = min(quantity, max(in_stock, 0))
        if quantity:
            free[variant.sku] = free.get(variant.sku, 0) + quantity
    return [CartLine(sku=sku, product_id=skus[sku].product_id, title=f"{skus[sku].line_title} (free)",
                     quantity=quantity, unit_price=0, line_total=0, free=True) for sku, quantity in free.items()]



def shipping_methods_for(currency: str, methods: tuple[ShippingRate, ...], merchandise: int) -> list[ShippingMethod]:
    """The configured methods that ship in `currency`, free above their threshold when they have one."""
    offered = []
    for method in methods:
        price = method.price.get(currency)
        if price is None:
            continue
        free_over = (method.free_over or {}).get(currency)
        if free_over is not None and merchandise >= free_over:
            price = 0
        offered.append(ShippingMethod(id=method.id, title=method.title, price=price))
    return offered


def tax_on(amount: int, country: str | None, tax_rates: Mapping[str, int]) -> int:
    """Tax on a tax-exclusive amount at the destination's rate in basis points (0 when unknown)."""
    if not country:
        return 0
    return round_half_up(amount * int(tax_rates.get(country, 0)), 10_000)


def unit_price(sku: SkuRecord, quantity: int, currency: str, b2b: B2BTerms | None) -> tuple[int, PriceSource]:
    """The price resolution order: the buyer's company price list in the cart's currency, at the tier for the
    line's quantity (its first tier is `price_list`, a later one `tier`), else the catalogue's (`public`)."""
    entry = b2b.price_list.entry(sku.sku) if b2b and b2b.price_list and b2b.price_list.currency == currency else None
    if entry is not None:
        return tier_price(entry, quantity)
    return sku.price_in(currency), "public"


def price_cart(record: CartRecord, skus: dict[str, SkuRecord], discount: DiscountRecord | None,
               context: PricingContext, b2b: B2BTerms | None = None, quoted: Mapping[str, int] | None = None) -> Cart:
    """The cart as the storefront sees it, every price taken from the catalogue now (for a company's
    buyer, `b2b`: from the company's price list first, and no tax when the sale is reverse-charged).
    Lines whose variant is gone, inactive or priced in another currency are left out of the view and
    totals. `skus` must hold the promotions' free SKUs too; `discount` is the cart's code, if any (None
    also when the cart names a code that no longer exists). `quoted` are the unit prices of an accepted
    quote (models/quotes.py), which replace any other for their SKUs (`price_source: "quote"`)."""
    lines = []
    for line in record.lines:
        sku = skus.get(line.sku)
        if sku is None or not sku.active or sku.price_in(record.currency) is None:
            continue
        price, source = unit_price(sku, line.quantity, record.currency, b2b)
        if quoted and line.sku in quoted:
            price, source = quoted[line.sku], "quote"
        lines.append(CartLine(sku=sku.sku, product_id=sku.product_id, title=sku.line_title, quantity=line.quantity,
                              unit_price=price, line_total=price * line.quantity, price_source=source,
                              gift_card=line.gift_card if sku.gift_card else None))
    lines += free_items(lines, context.promotions, skus, record.currency)
    subtotal = sum(line.line_total for line in lines)
    status, discount_total, free_shipping = None, 0, False
    if record.discount_code:
        problem = ((errors.DiscountGone.code, f"Code {record.discount_code} does not exist.") if discount is None
                   else discount_problem(discount, record.currency, subtotal, context.now or datetime.now(UTC),
                                         record.email))
        status = DiscountStatus(code=record.discount_code, applied=problem is None,
                                reason=problem[0] if problem else None, message=problem[1] if problem else None)
        if problem is None:
            discount_total = discount_amount(discount, subtotal)
            free_shipping = discount.kind == "free_shipping"
    merchandise = subtotal - discount_total
    offered = shipping_methods_for(record.currency, context.shipping_methods, merchandise)
    if free_shipping:
        offered = [m.model_copy(update={"price": 0}) for m in offered]
    chosen = next((m for m in offered if m.id == record.shipping_method), None)
    shipping_total = chosen.price if chosen and lines else 0
    country = record.shipping_address.country if record.shipping_address else None
    reverse_charge = bool(b2b and b2b.reverse_charge)
    tax_total = 0 if reverse_charge else tax_on(merchandise + shipping_total, country, context.tax_rates)
    return Cart(
        id=record.id, status=record.status, currency=record.currency, email=record.email, lines=lines,
        shipping_address=record.shipping_address, shipping_method=record.shipping_method,
        available_shipping_methods=offered, discount_code=record.discount_code, discount=status,
        order_id=record.order_id, reverse_charge=reverse_charge,
        subtotal=subtotal, discount_total=discount_total, shipping_total=shipping_total, tax_total=tax_total,
        total=merchandise + shipping_total + tax_total,
        created_at=record.created_at, updated_at=record.updated_at,
        expires_at=datetime.fromtimestamp(record.expires_at, UTC),
    )
