"""What a product becomes in the derived views (search index, channel feeds): one plain dict per
active product, built from its stored items. Fields other branches add to the catalogue (`prices`,
`categories`, `tags`, `images`, `compare_at_price`, `brand`, `gtin`, `mpn`) are used when present and
tolerated when absent, so the views follow the catalogue's schema without a migration."""

from chalicelib.models import MAX_QUANTITY, Product, ProductRecord, SkuRecord


def document(product: dict, skus: dict[str, dict]) -> dict:
    """The view document of a stored product item and its SKU items (plain dicts, by SKU)."""
    record = ProductRecord.model_validate(product)
    variants = [skus[sku] for sku in record.skus if sku in skus and skus[sku].get("active", True)]
    return {
        "id": record.id,
        "title": record.title,
        "description": record.description,
        "created_at": product.get("created_at", ""),
        "updated_at": product.get("updated_at", ""),
        "categories": [str(c) for c in product.get("categories") or []],
        "tags": [str(t) for t in product.get("tags") or []],
        "brand": product.get("brand"),
        "images": [_image(i) for i in product.get("images") or [] if _image(i)["url"]],
        "variants": [_variant(v) for v in variants],
        "product": Product.from_records(
            record, {sku: SkuRecord.model_validate(item) for sku, item in skus.items()}).model_dump(mode="json"),
    }


def _image(image) -> dict:
    if isinstance(image, str):
        return {"url": image, "alt": ""}
    return {"url": image.get("url") or "", "alt": image.get("alt") or ""}


def _variant(item: dict) -> dict:
    prices = {str(c): int(p) for c, p in (item.get("prices") or {}).items()}
    prices.setdefault(item["currency"], int(item["price"]))
    compare_at = item.get("compare_at_prices") or (
        {item["currency"]: item["compare_at_price"]} if item.get("compare_at_price") is not None else {})
    return {
        "sku": item["sku"],
        "title": item.get("title") or "",
        "prices": prices,
        "compare_at_prices": {str(c): int(p) for c, p in compare_at.items()},
        "sale_starts_at": item.get("sale_starts_at"),
        "sale_ends_at": item.get("sale_ends_at"),
        # A gift card is never stocked and never out of stock (SkuRecord.sellable).
        "available": MAX_QUANTITY if item.get("gift_card") else max(int(item.get("available", 0)), 0),
        "gtin": item.get("gtin"),
        "mpn": item.get("mpn"),
    }


def in_stock(document: dict) -> bool:
    return any(v["available"] > 0 for v in document["variants"])


def lowest_price(document: dict, currency: str) -> int | None:
    prices = [v["prices"][currency] for v in document["variants"] if currency in v["prices"]]
    return min(prices) if prices else None
