"""The one-off backfill of product listings (`python -m tools.backfill_listings`).

Products stored before categories and listings landed have no listing items (`LIST#...`, see
repository/listings.py) and no `listing_price`, so `GET /products?sort=...` and the admin's list of
every product leave them out until their next admin write. This writes them: for each product, its
`listing_price` (lowest variant price in DEFAULT_CURRENCY, when the item has none) and the listing
items its next write would put. Idempotent (puts of the same items; run it again, or resume from a
printed cursor, and nothing changes), and safe while the shop edits products: each product is
written only if its `updated_at` is the one read, and a product edited meanwhile was listed by
that edit.
"""

from collections.abc import Callable

from chalicelib import config
from chalicelib.models import ProductRecord, SkuRecord
from chalicelib.repository import catalog, listings


def backfill(include_inactive: bool = False, cursor: str | None = None, page_size: int = 100,
             on_page: Callable[[dict, str | None], None] | None = None) -> dict:
    """List every active product (a paged Query of GSI1 `PRODUCTS`), or every product with
    `include_inactive` (a paged Scan: maintenance only). `on_page(counts, next_cursor)` after each
    page (progress, and the cursor to resume from). Answers the counts."""
    counts = {"products": 0, "relisted": 0, "changed_meanwhile": 0}
    default = config.settings().default_currency
    while True:
        items, cursor = catalog.product_items_page(cursor, include_inactive, page_size)
        records = [ProductRecord.model_validate(item) for item in items]
        skus = catalog.get_skus([sku for record in records for sku in record.skus])
        for item, record in zip(items, records, strict=True):
            if record.listing_price is None:
                record = record.model_copy(update={"listing_price": lowest_price(record, skus, default)})
            counts["products"] += 1
            counts["relisted" if listings.relist(record, item["updated_at"]) else "changed_meanwhile"] += 1
        if on_page:
            on_page(dict(counts), cursor)
        if cursor is None:
            return counts


def lowest_price(product: ProductRecord, skus: dict[str, SkuRecord], currency: str) -> int | None:
    """What product writes store as `listing_price`: the lowest price in `currency` of its variants."""
    prices = [skus[sku].prices[currency] for sku in product.skus if sku in skus and currency in skus[sku].prices]
    return min(prices) if prices else None
