"""Collections: a hand-picked list of products, or a rule (category, tag, price range, on sale) evaluated over
the category's listing (or every product's) at read time, so a rule never needs a rewrite."""

import base64

from chalicelib import clock
from chalicelib.errors import InvalidRequest, not_found
from chalicelib.models import Collection, CollectionRecord, CollectionRule, Product
from chalicelib.repository import catalog, listings, recommendations


def create(slug: str, title: str, product_ids: list[str] | None, rule: CollectionRule | None) -> Collection:
    """A new collection. Raises ResourceExists, InvalidRequest (an unknown product or category)."""
    if product_ids:
        found = recommendations.get_products(product_ids)
        for index, product_id in enumerate(product_ids):
            if product_id not in found:
                raise InvalidRequest(f"No product {product_id}.", param=f"product_ids.{index}")
    if rule and rule.category and not listings.get_categories([rule.category]):
        raise InvalidRequest(f"No category {rule.category}.", param="rule.category")
    record = CollectionRecord(id=clock.new_id("col", 8), slug=slug, title=title, product_ids=product_ids, rule=rule,
                              created_at=clock.now())
    listings.create_collection(record)
    return Collection.model_validate(record.model_dump())


def get(slug: str) -> Collection:
    """Raises ResourceMissing."""
    record = listings.get_collection(slug)
    if record is None:
        raise not_found("collection")
    return Collection.model_validate(record.model_dump())


def _offset(cursor: str | None) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    except ValueError:
        raise InvalidRequest("The cursor is not one this list gave.", param="cursor") from None


def list_products(slug: str, sort: str, limit: int, cursor: str | None,
                  currency: str | None = None) -> tuple[list[Product], str | None]:
    """A page of the collection's active products: a hand-picked one in its order, a rule's in `sort`
    order (a page may hold fewer than `limit` when the rule filters some out; follow `next_cursor`).
    Raises ResourceMissing."""
    record = listings.get_collection(slug)
    if record is None:
        raise not_found("collection")
    if record.product_ids is not None:
        start = _offset(cursor)
        ids = record.product_ids[start:start + limit]
        found = recommendations.get_products(ids)
        records = [found[i] for i in ids if i in found and found[i].active]
        end = start + limit
        next_cursor = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(record.product_ids) else None
    else:
        rule = record.rule or CollectionRule()
        scope = f"category:{rule.category}" if rule.category else "all"
        ids, next_cursor = listings.list_product_ids(scope, sort, limit, cursor)
        found = recommendations.get_products(ids)
        records = [found[i] for i in ids if i in found and rule.matches(found[i])]
    skus = catalog.get_skus([sku for r in records for sku in r.skus])
    if record.rule and record.rule.on_sale is not None:
        records = [r for r in records if record.rule.on_sale_matches([skus[s] for s in r.skus if s in skus])]
    return [Product.from_records(r, skus, currency) for r in records], next_cursor
