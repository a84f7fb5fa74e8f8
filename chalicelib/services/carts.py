"""Cart use cases. Every change re-reads the cart, applies the rule and writes it back on the
version it read, retrying a few times when a concurrent change wins; prices always come from the
catalogue at the time of the read."""

import time
from datetime import timedelta

from chalicelib import clock, config
from chalicelib.errors import (
    DISCOUNT_REFUSALS,
    CartChanged,
    CartCheckedOut,
    CurrencyMismatch,
    DiscountUnknown,
    InvalidRequest,
    OutOfStock,
    TooManyLines,
    UnknownShippingMethod,
    UnknownSku,
    not_found,
)
from chalicelib.models import (
    MAX_LINES,
    MAX_QUANTITY,
    Address,
    Cart,
    CartRecord,
    DiscountRecord,
    GiftCardLine,
    SkuRecord,
)
from chalicelib.models.companies import B2BTerms
from chalicelib.models.kept import KeptAnswer, Keyed, find, key_reused, remember
from chalicelib.models.pricing import price_cart
from chalicelib.repository import carts
from chalicelib.retry import retried
from chalicelib.services import price_lists, tenders

UNSET = object()


def _expiry(moment) -> int:
    return int((moment + timedelta(days=config.settings().cart_ttl_days)).timestamp())


def _priced(record: CartRecord, skus: dict[str, SkuRecord], discount: DiscountRecord | None = None,
            b2b: B2BTerms | None = None) -> Cart:
    return price_cart(record, skus, discount, _context_now(), b2b)


_context: tuple = (None, None, None)  # (the settings' pricing, the second, that pricing at that second)


def _context_now():
    """The shop's pricing context at clock.now(), made once per second (clock.now() is to the second)."""
    global _context
    pricing, now = config.settings().pricing, clock.now()
    if _context[0] is not pricing or _context[1] != now:
        _context = (pricing, now, pricing.at(now))
    return _context[2]


def shown(record: CartRecord, cart: Cart, now) -> CartRecord:
    """The cart record with the unit prices the storefront is shown now, and when (checkout's grace)."""
    return record.model_copy(update={"priced_at": now, "shown_prices": {
        line.sku: line.unit_price for line in cart.lines if not line.free}})


def _inputs(record: CartRecord, extra_skus=(), code: str | None = None):
    """The SKUs (the cart's, `extra_skus`, the promotions' free ones), the discount code and, for a company
    buyer's cart, the company's terms (price list, reverse charge), in one BatchGetItem (and one GetItem of
    the membership for an account's cart: services/price_lists.pricing_inputs)."""
    promoted = config.settings().pricing.promoted_skus
    wanted = list({line.sku for line in record.lines} | set(extra_skus) | set(promoted))
    return price_lists.pricing_inputs(record, wanted, code or record.discount_code)


def _replay(record: CartRecord, keyed: Keyed | None) -> KeptAnswer | None:
    """The answer kept on the cart for `keyed`'s key, if any. Raises IdempotencyKeyReused if the key
    was used for another request."""
    if keyed is None:
        return None
    kept = find([record.created_by, *record.answers] if record.created_by else record.answers, keyed, int(time.time()))
    if kept is not None and kept.fingerprint != keyed.fingerprint:
        raise key_reused()
    return kept


def create(currency: str | None, email: str | None, keyed: Keyed | None = None) -> Cart | KeptAnswer:
    """A new open cart with an unguessable id. With an Idempotency-Key (`keyed`) the id is derived from
    the key and the answer kept on the cart: a retry finds it with the same one write (the answer
    kept, or a 422 if the key was used for another request). Raises InvalidRequest for an unsupported
    currency."""
    settings = config.settings()
    currency = currency or settings.default_currency
    if currency not in settings.currencies:
        raise InvalidRequest(f"Currency {currency} is not sold here; use one of {', '.join(settings.currencies)}.",
                             param="currency")
    now = clock.now()
    record = CartRecord(id=keyed.derived_id("cart") if keyed else clock.new_id("cart"), currency=currency,
                        email=email, created_at=now, updated_at=now, expires_at=_expiry(now))
    cart = _priced(record, {})
    if keyed is None:
        carts.create(record)
        return cart
    kept = KeptAnswer.of(keyed, 201, cart.model_dump_json(), int(now.timestamp()))
    existing = carts.create(record.model_copy(update={"created_by": kept}))
    if existing is None:
        return kept
    # The id is the key's: the live cart holding it is the key's first answer, however old.
    if existing.created_by is None or existing.created_by.fingerprint != keyed.fingerprint:
        raise key_reused()
    return existing.created_by


def get(cart_id: str) -> Cart:
    """The cart priced now. Raises ResourceMissing."""
    record = carts.get(cart_id)
    if record is None:
        raise not_found("cart")
    skus, discount, b2b = _inputs(record)
    cart = tenders.for_cart(record, _priced(record, skus, discount, b2b))
    _stamp(record, cart)
    return cart


def _stamp(record: CartRecord, cart: Cart) -> None:
    """Record what this read shows when it differs from what the cart recorded, or when the record is
    older than half the grace period: a checkout within half of SALE_GRACE_SECONDS of any read is
    charged what that read showed, at the cost of at most one write per cart per half period."""
    if record.status != "open" or not record.lines:
        return
    now = clock.now()
    shown = {line.sku: line.unit_price for line in cart.lines if not line.free}
    fresh = record.priced_at is not None and (
        (now - record.priced_at).total_seconds() <= config.settings().sale_grace_seconds / 2)
    if shown != record.shown_prices or not fresh:
        carts.stamp_shown(record, shown, clock.iso(now))


def _change(cart_id: str, apply, extra_skus: tuple[str, ...] = (), code: str | None = None,
            keyed: Keyed | None = None) -> Cart | KeptAnswer:
    """Read, apply `apply(record, skus, discount, b2b) -> record`, write on the version read; retried on
    races. `code` is a discount code to load instead of the cart's own. With `keyed`, the answer is
    kept on the cart in the same write, and an answer already kept for the key is returned instead."""
    def attempt() -> Cart | KeptAnswer:
        record = carts.get(cart_id)
        if record is None:
            raise not_found("cart")
        kept = _replay(record, keyed)
        if kept is not None:
            return kept
        if record.status != "open":
            raise CartCheckedOut("This cart has been checked out; start a new cart.")
        skus, discount, b2b = _inputs(record, extra_skus, code)
        changed = apply(record, skus, discount, b2b)
        now = clock.now()
        changed = changed.model_copy(update={"updated_at": now, "expires_at": _expiry(now)})
        cart = tenders.for_cart(changed, _priced(changed, skus, discount if changed.discount_code else None, b2b))
        changed = shown(changed, cart, now)
        if keyed is None:
            carts.save(changed)
            return cart
        kept = KeptAnswer.of(keyed, 200, cart.model_dump_json(), int(now.timestamp()))
        carts.save(changed.model_copy(update={"answers": remember(changed.answers, kept)}))
        return kept

    return retried(attempt, CartChanged,
                   lambda: CartChanged("The cart is being changed by other requests; read it again and retry."))


def _sellable(record: CartRecord, skus: dict[str, SkuRecord], sku: str, quantity: int, param: str,
              b2b: B2BTerms | None = None) -> None:
    variant = skus.get(sku)
    if variant is None or not variant.active:
        raise UnknownSku(f"SKU {sku} is not for sale.", param="sku")
    if variant.price_in(record.currency) is None:
        raise CurrencyMismatch(f"SKU {sku} has no price in {record.currency}, this cart's currency; it is priced in "
                               f"{', '.join(sorted(variant.prices))}.", param="sku")
    if quantity > MAX_QUANTITY:
        raise InvalidRequest(f"At most {MAX_QUANTITY} of one SKU per cart.", param=param)
    price_lists.check_quantity(b2b, sku, quantity, _line_param(record, sku))
    if quantity > variant.sellable:
        left = max(variant.sellable, 0)
        raise OutOfStock(f"Only {left} of SKU {sku} {'is' if left == 1 else 'are'} left.", param=param,
                         available=left)


def add_line(cart_id: str, sku: str, quantity: int, keyed: Keyed | None = None,
             gift_card: GiftCardLine | None = None) -> Cart | KeptAnswer:
    """Add `quantity` of `sku` (to the quantity already in the cart). Not idempotent: a retry adds
    again unless it carries an Idempotency-Key (`keyed`: then the answer kept on the cart comes back).
    Raises ResourceMissing, CartCheckedOut, InvalidRequest, OutOfStock, IdempotencyKeyReused."""
    def apply(record: CartRecord, skus, discount, b2b):
        total = record.quantity_of(sku) + quantity
        if not record.quantity_of(sku) and len(record.lines) >= MAX_LINES:
            raise TooManyLines(f"A cart holds at most {MAX_LINES} lines.", param="sku")
        _sellable(record, skus, sku, total, "quantity", b2b)
        if skus[sku].gift_card and gift_card is None and not any(line.gift_card for line in record.lines
                                                                  if line.sku == sku):
            raise InvalidRequest(f"SKU {sku} is a gift card: say who it is for.", param="gift_card")
        if gift_card is not None and not skus[sku].gift_card:
            raise InvalidRequest(f"SKU {sku} is not a gift card.", param="gift_card")
        return record.with_quantity(sku, total, gift_card)

    return _change(cart_id, apply, (sku,), keyed=keyed)


def set_quantity(cart_id: str, sku: str, quantity: int) -> Cart:
    """Set a line's quantity; 0 removes it. Idempotent. Raises ResourceMissing (also for a SKU not
    in the cart), CartCheckedOut, OutOfStock."""
    def apply(record: CartRecord, skus, discount, b2b):
        if not record.quantity_of(sku):
            raise not_found("line")
        if quantity:
            _sellable(record, skus, sku, quantity, "quantity", b2b)
        return record.with_quantity(sku, quantity)

    return _change(cart_id, apply)


def remove_line(cart_id: str, sku: str) -> Cart:
    """Remove a line. Idempotent in effect; raises ResourceMissing if the SKU is not in the cart."""
    return set_quantity(cart_id, sku, 0)


def update(cart_id: str, email=UNSET, shipping_address=UNSET, shipping_method=UNSET, discount_code=UNSET) -> Cart:
    """Set (or, with None, clear) the email, address, shipping method or discount code. Idempotent.
    Raises ResourceMissing, CartCheckedOut, InvalidRequest."""
    def apply(record: CartRecord, skus, discount, b2b):
        changes = {}
        if email is not UNSET:
            changes["email"] = email
        if shipping_address is not UNSET:
            changes["shipping_address"] = Address.model_validate(shipping_address) if shipping_address else None
        if discount_code is not UNSET:
            changes["discount_code"] = None
            if discount_code is not None:
                _check_discount(record, skus, discount, discount_code, b2b)
                changes["discount_code"] = discount.code
        if shipping_method is not UNSET:
            if shipping_method is not None:
                offered = _priced(record.model_copy(update=changes), skus, discount, b2b).available_shipping_methods
                if shipping_method not in {m.id for m in offered}:
                    raise UnknownShippingMethod(f"Shipping method {shipping_method!r} is not offered for this cart; "
                                                f"choose one of {', '.join(m.id for m in offered)}.",
                                                param="shipping_method")
            changes["shipping_method"] = shipping_method
        return record.model_copy(update=changes)

    return _change(cart_id, apply, code=discount_code if isinstance(discount_code, str) else None)


def _check_discount(record: CartRecord, skus, discount: DiscountRecord | None, code: str,
                    b2b: B2BTerms | None = None) -> None:
    """Raise the precise reason a code cannot be applied to this cart now."""
    if discount is None:
        raise DiscountUnknown(f"Discount code {code} does not exist.", param="discount_code")
    status = _priced(record.model_copy(update={"discount_code": discount.code}), skus, discount, b2b).discount
    if status and not status.applied:
        raise DISCOUNT_REFUSALS[status.reason](status.message or "The code does not apply.", param="discount_code")


def _line_param(record: CartRecord, sku: str) -> str:
    """`lines.<n>.quantity` of the SKU's line (a new line's n is the next index)."""
    index = next((i for i, line in enumerate(record.lines) if line.sku == sku), len(record.lines))
    return f"lines.{index}.quantity"
