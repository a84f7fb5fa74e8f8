"""Catalogue use cases: what the storefront browses and what the shop maintains."""

from chalicelib import clock
from chalicelib.errors import not_found
from chalicelib.models import Product, ProductRecord, StockLevel
from chalicelib.repository import catalog


def list_products(limit: int, cursor: str | None) -> tuple[list[Product], str | None]:
    """A page of active products with the stock each variant has left."""
    records, next_cursor = catalog.list_active(limit, cursor)
    skus = catalog.get_skus([sku for record in records for sku in record.skus])
    return [Product.from_records(record, skus) for record in records], next_cursor


def get_product(product_id: str, include_inactive: bool = False) -> Product:
    """The product; an inactive one is missing for the storefront. Raises ResourceMissing."""
    record = catalog.get_product(product_id)
    if record is None or not (record.active or include_inactive):
        raise not_found("product")
    return Product.from_records(record, catalog.get_skus(record.skus))


def create_product(title: str, description: str, active: bool, variants: list[dict],
                   product_id: str | None = None) -> Product:
    """Create a product and its variants' stock. Not idempotent by itself (a new id each call):
    retries are made safe by the Idempotency-Key layer. A given `product_id` (the CSV import's,
    derived from the file) that exists already is a Conflict `resource_exists`."""
    now = clock.now()
    record = ProductRecord(id=product_id or clock.new_id("prod", 8), title=title, description=description,
                           active=active, skus=[v["sku"] for v in variants], created_at=now, updated_at=now)
    catalog.save_product(record, variants, retired_skus=[], create=True)
    return get_product(record.id, include_inactive=True)


def update_product(product_id: str, title: str, description: str, active: bool, variants: list[dict]) -> Product:
    """Replace a product's fields and variants; SKUs no longer listed stop being sold. Idempotent.
    Raises ResourceMissing, Conflict."""
    existing = catalog.get_product(product_id)
    if existing is None:
        raise not_found("product")
    skus = [v["sku"] for v in variants]
    record = existing.model_copy(update={"title": title, "description": description, "active": active,
                                         "skus": skus, "updated_at": clock.now()})
    retired = [sku for sku in existing.skus if sku not in skus]
    catalog.save_product(record, variants, retired_skus=retired, create=False)
    return get_product(product_id, include_inactive=True)


def set_inventory(sku: str, on_hand: int, low_stock_threshold: int | None, shards: int | None = None) -> StockLevel:
    """Set a SKU's counted stock and, with `shards`, how many items it is split over (idempotent).
    Raises ResourceMissing, Conflict."""
    return StockLevel.from_record(catalog.set_stock(sku, on_hand, low_stock_threshold, shards))
