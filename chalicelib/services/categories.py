"""Categories and the catalogue listings: the category tree, and products by category and sort."""

from chalicelib import clock
from chalicelib.errors import InvalidRequest
from chalicelib.models import Category, CategoryRecord, Product, ProductRecord
from chalicelib.repository import catalog, listings, recommendations


def create_category(slug: str, title: str, parent: str | None) -> Category:
    """A new category under `parent` (a slug), or at the root. Raises ResourceExists, InvalidRequest."""
    parent_id = None
    if parent is not None:
        found = listings.get_categories([parent]).get(parent)
        if found is None:
            raise InvalidRequest(f"No category {parent} to be the parent.", param="parent")
        parent_id = found.id
    record = CategoryRecord(id=clock.new_id("cat", 8), slug=slug, title=title, parent_id=parent_id,
                            created_at=clock.now())
    listings.create_category(record)
    return Category(id=record.id, slug=slug, title=title, parent_id=parent_id)


def tree() -> list[Category]:
    """The root categories, each with its sub-categories, by slug."""
    records = listings.all_categories()
    nodes = {r.id: Category(id=r.id, slug=r.slug, title=r.title, parent_id=r.parent_id) for r in records}
    roots = []
    for record in records:
        parent = nodes.get(record.parent_id) if record.parent_id else None
        (parent.children if parent else roots).append(nodes[record.id])
    return roots


def breadcrumbs(slug: str) -> list[Category]:
    """The path from the root to the category `slug` (empty when there is no such category)."""
    by_id = {r.id: r for r in listings.all_categories()}
    current = next((r for r in by_id.values() if r.slug == slug), None)
    path = []
    while current is not None and len(path) < 20:
        path.insert(0, Category(id=current.id, slug=current.slug, title=current.title, parent_id=current.parent_id))
        current = by_id.get(current.parent_id) if current.parent_id else None
    return path


def _page(scope: str, sort: str, limit: int, cursor: str | None, keep) -> tuple[list[ProductRecord], str | None]:
    ids, next_cursor = listings.list_product_ids(scope, sort, limit, cursor)
    found = recommendations.get_products(ids)
    # a listing item can outlive a concurrent edit of its product: the product itself decides
    return [found[i] for i in ids if i in found and keep(found[i])], next_cursor


def list_products(category: str | None, sort: str, limit: int, cursor: str | None,
                  currency: str | None = None) -> tuple[list[Product], str | None]:
    """A page of active products, of `category` when given, in the order `sort` (newest, price_asc,
    price_desc by the default currency's lowest variant price, title)."""
    scope = f"category:{category}" if category else "all"
    records, next_cursor = _page(scope, sort, limit, cursor,
                                 lambda p: p.active and (category is None or category in p.categories))
    skus = catalog.get_skus([sku for record in records for sku in record.skus])
    return [Product.from_records(record, skus, currency) for record in records], next_cursor


def list_all(active: bool | None, limit: int, cursor: str | None) -> tuple[list[Product], str | None]:
    """The admin's page of products, newest first: all of them, or only the active or inactive ones."""
    if active:
        return list_products(None, "newest", limit, cursor)
    scope = "every" if active is None else "inactive"
    records, next_cursor = _page(scope, "newest", limit, cursor, lambda p: active is None or not p.active)
    skus = catalog.get_skus([sku for record in records for sku in record.skus])
    return [Product.from_records(record, skus) for record in records], next_cursor
