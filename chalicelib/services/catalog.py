"""Catalogue use cases: what the storefront browses and what the shop maintains."""

from chalicelib import clock, config
from chalicelib.errors import Conflict, InvalidRequest, not_found
from chalicelib.models import Product, ProductRecord, SkuRecord, StockLevel
from chalicelib.models.sales import SaleOnSku, sale_prices
from chalicelib.repository import catalog, listings, prices
from chalicelib.retry import retried
from chalicelib.services import images as _images


def list_products(limit: int, cursor: str | None, currency: str | None = None) -> tuple[list[Product], str | None]:
    """A page of active products with the stock each variant has left; with `currency`, each variant
    at its price in that currency (variants not priced there are left out)."""
    records, next_cursor = catalog.list_active(limit, cursor)
    skus = catalog.get_skus([sku for record in records for sku in record.skus])
    return [Product.from_records(record, skus, currency) for record in records], next_cursor


def priced_variants(variants: list[dict]) -> list[dict]:
    """The admin's variants with `price`, `currency` and `prices` all set and consistent: `prices`
    alone takes the shop's default currency when priced in it, else its first. Every currency must be
    one the shop sells in (CURRENCIES). Raises InvalidRequest naming the variant."""
    settings = config.settings()
    resolved = []
    for index, variant in enumerate(variants):
        prices = dict(variant.get("prices") or {})
        currency = variant.get("currency") or (settings.default_currency if settings.default_currency in prices
                                               else next(iter(prices)))
        price = variant["price"] if variant.get("price") is not None else prices[currency]
        prices[currency] = price
        for code in prices:
            if code not in settings.currencies:
                raise InvalidRequest(f"Currency {code} is not sold here; use one of {', '.join(settings.currencies)}.",
                                     param=f"variants.{index}.prices.{code}" if code != currency
                                     else f"variants.{index}.currency")
        resolved.append(variant | {"price": price, "currency": currency, "prices": prices})
    return resolved


def _with_kept_prices(variant: dict, record: SkuRecord | None) -> dict:
    """`variant` without its `keeps_other_prices` mark; when set, with the SKU's regular prices in the other
    currencies (its prices before any sale) under the one it was given."""
    variant = dict(variant)
    if variant.pop("keeps_other_prices", False) and record is not None:
        regular = record.compare_at_prices if record.sales else record.prices
        variant["prices"] = {**regular, **variant["prices"]}
    return variant


def _on_sale(variants: list[dict], existing: dict[str, SkuRecord]) -> list[dict]:
    """The variants as written: a SKU on sale keeps its sales, the admin's prices being its regular ones."""
    priced = []
    for variant in variants:
        record = existing.get(variant["sku"])
        if record is not None:
            variant = variant | {"price_version": record.price_version}
        if record is not None and record.sales:
            terms = {k: SaleOnSku.model_validate(v) for k, v in record.sales.items()}
            shown = sale_prices(variant["prices"], terms)
            variant = variant | {"prices": shown, "price": shown[variant["currency"]],
                                 "compare_at_prices": variant["prices"]}
        priced.append(variant)
    return priced


def _history(variants: list[dict], existing: dict[str, SkuRecord], reason: str) -> tuple:
    """The price history entries of the variants whose prices change (every new one's)."""
    now = clock.now()
    return tuple(prices.history_piece(v["sku"], now, v["prices"], reason) for v in variants
                 if v["sku"] not in existing or existing[v["sku"]].prices != v["prices"])


def get_product(product_id: str, include_inactive: bool = False) -> Product:
    """The product; an inactive one is missing for the storefront. Raises ResourceMissing."""
    record = catalog.get_product(product_id)
    if record is None or not (record.active or include_inactive):
        raise not_found("product")
    return Product.from_records(record, catalog.get_skus(record.skus))


def _classified(variants: list[dict], categories: list[str], tags: list[str]) -> dict:
    """The fields a product's listings derive from; raises InvalidRequest for an unknown category."""
    if categories:
        known = listings.get_categories(categories)
        for index, slug in enumerate(categories):
            if slug not in known:
                raise InvalidRequest(f"No category {slug}; create it first.", param=f"categories.{index}")
    default = config.settings().default_currency
    prices = [v["prices"][default] for v in variants if default in v["prices"]]
    return {"categories": categories, "tags": tags, "listing_price": min(prices) if prices else None}


def create_product(title: str, description: str, active: bool, variants: list[dict],
                   categories: list[str] | None = (), tags: list[str] | None = (), product_id: str | None = None,
                   images: list[dict] | None = None, reason: str = "admin") -> Product:
    """Create a product, its variants' stock and its listings, and record its prices (history, for
    `reason`). Not idempotent by itself (a new id each call): retries are made safe by the
    Idempotency-Key layer. A given `product_id` (the CSV import's, derived from the file) that exists
    already is a Conflict `resource_exists`; any `images` is a 400 (none is uploaded yet)."""
    if images:
        raise InvalidRequest("A new product has no image yet; add them with POST /admin/products/{id}/images.",
                             param="images.0.id")
    variants = priced_variants(variants)
    now = clock.now()
    record = ProductRecord(id=product_id or clock.new_id("prod", 8), title=title, description=description,
                           active=active, skus=[v["sku"] for v in variants], created_at=now, updated_at=now,
                           **_classified(variants, list(categories or ()), list(tags or ())))
    catalog.save_product(record, variants, retired_skus=[], create=True,
                         listing=listings.product_pieces(None, record), history=_history(variants, {}, reason))
    return get_product(record.id, include_inactive=True)


def update_product(product_id: str, title: str, description: str, active: bool, variants: list[dict],
                   categories: list[str] | None = None, tags: list[str] | None = None,
                   images: list[dict] | None = None, reason: str = "admin") -> Product:
    """Replace a product's fields and variants (categories, tags and images too unless None: kept, as
    the CSV import does); SKUs no longer listed stop being sold; a SKU on sale stays on sale, the new
    prices being its regular ones; each price change is recorded (history, for `reason`). Idempotent.
    Raises ResourceMissing, Conflict, InvalidRequest (an image the product does not have)."""
    # A variant given as `price` + `currency` only sets that currency's price: its others are kept (`prices`
    # replaces them all). The back office's editor edits the default currency alone.
    asked = [v | {"keeps_other_prices": not given.get("prices")}
             for v, given in zip(priced_variants(variants), variants, strict=True)]
    return retried(lambda: _update(product_id, title, description, active, asked, categories, tags, images, reason),
                   catalog.PricesMoved, lambda: Conflict("A sale kept changing the product's prices; try again."))


def _update(product_id: str, title: str, description: str, active: bool, variants: list[dict],
            categories: list[str] | None, tags: list[str] | None, images: list[dict] | None, reason: str) -> Product:
    existing = catalog.get_product(product_id)
    if existing is None:
        raise not_found("product")
    skus = [v["sku"] for v in variants]
    before = {sku: r for sku, r in catalog.get_skus(skus).items() if r.product_id == product_id}
    variants = _on_sale([_with_kept_prices(v, before.get(v["sku"])) for v in variants], before)
    record = existing.model_copy(update={"title": title, "description": description, "active": active,
                                         "skus": skus, "updated_at": clock.now(),
                                         "images": _images.ordered(existing.images, images),
                                         **_classified(variants, existing.categories if categories is None
                                                       else list(categories), existing.tags if tags is None
                                                       else list(tags))})
    retired = [sku for sku in existing.skus if sku not in skus]
    catalog.save_product(record, variants, retired_skus=retired, create=False,
                         listing=listings.product_pieces(existing, record), history=_history(variants, before, reason))
    return get_product(product_id, include_inactive=True)


def set_inventory(sku: str, on_hand: int, low_stock_threshold: int | None, shards: int | None = None) -> StockLevel:
    """Set a SKU's counted stock and, with `shards`, how many items it is split over (idempotent).
    Raises ResourceMissing, Conflict."""
    return StockLevel.from_record(catalog.set_stock(sku, on_hand, low_stock_threshold, shards))
