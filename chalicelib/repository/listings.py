"""Categories, collections and the product listings by category and sort, without a Scan.

A category is `PK=CATEGORY#<slug>, SK=CATEGORY`, listed through GSI1 (`CATEGORIES`, `<slug>`); a
collection is `PK=COLLECTION#<slug>, SK=COLLECTION`. Each active product has one listing item per
(scope, sort), scope being `all` or `category:<slug>` and sort `newest`, `price` or `title` (and for
the admin `every#newest`, `inactive#newest` whatever the product's state):
`PK=LIST#<scope>#<sort>`, `SK=<sort value>#<product id>`. Product writes put and delete these items in
their own transaction (`product_pieces`), so a listing page is one Query (read backwards for newest
and price_desc) and the products' BatchGetItem. A product in at most 5 categories costs at most 19
listing items.
"""

from datetime import UTC

from chalicelib.errors import ResourceExists
from chalicelib.models import CategoryRecord, CollectionRecord, ProductRecord
from chalicelib.repository import dynamo

SORTS = {"newest": ("newest", True), "price_asc": ("price", False), "price_desc": ("price", True),
         "title": ("title", False)}


def collection_key(slug: str) -> dict:
    return {"PK": f"COLLECTION#{slug}", "SK": "COLLECTION"}


def category_key(slug: str) -> dict:
    return {"PK": f"CATEGORY#{slug}", "SK": "CATEGORY"}


def listing_key(scope: str, sort: str, value: str, product_id: str) -> dict:
    return {"PK": f"LIST#{scope}#{sort}", "SK": f"{value}#{product_id}"}


def _keys(product: ProductRecord | None) -> dict[tuple[str, str], dict]:
    """The listing items of `product` by (PK, SK): the admin's (`every`, and `inactive` when it is),
    and when it is active the storefront's."""
    if product is None:
        return {}
    values = {"newest": product.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
              "price": f"{product.listing_price or 0:012d}",
              "title": product.title.casefold()[:100]}
    keys = {}
    for scope in ["every"] + ([] if product.active else ["inactive"]):
        key = listing_key(scope, "newest", values["newest"], product.id)
        keys[(key["PK"], key["SK"])] = key
    if not product.active:
        return keys
    for scope in ["all"] + [f"category:{slug}" for slug in product.categories]:
        for sort, value in values.items():
            key = listing_key(scope, sort, value, product.id)
            keys[(key["PK"], key["SK"])] = key
    return keys


def product_pieces(before: ProductRecord | None, after: ProductRecord) -> tuple[dynamo.Piece, ...]:
    """Transaction pieces moving a product's listing items from `before` to `after`."""
    old, new = _keys(before), _keys(after)
    gone = [dynamo.delete(f"unlist:{i}", key) for i, (pair, key) in enumerate(old.items()) if pair not in new]
    added = [dynamo.put(f"list:{i}", key | {"product_id": after.id}) for i, (pair, key) in enumerate(new.items())
             if pair not in old]
    return tuple(gone + added)


def relist(product: ProductRecord, seen_updated_at: str) -> bool:
    """Write `product`'s listing items and its `listing_price` (the backfill of products stored before
    listings existed): puts of the items `product_pieces` would have written, so running it again
    writes the same items. Only while the product item still has `seen_updated_at`: False when it
    changed meanwhile (an admin write, which writes its listings itself)."""
    price = ("SET listing_price = :price", {"price": product.listing_price}) if product.listing_price is not None \
        else ("REMOVE listing_price", {})
    pieces = [dynamo.update("product", {"PK": f"PRODUCT#{product.id}", "SK": "PRODUCT"}, price[0],
                            "updated_at = :seen", seen=seen_updated_at, **price[1])]
    pieces += [dynamo.put(f"list:{i}", key | {"product_id": product.id})
               for i, key in enumerate(_keys(product).values())]
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("product"):
            return False
        raise
    return True


def list_product_ids(scope: str, sort: str, limit: int, cursor: str | None) -> tuple[list[str], str | None]:
    """A page of product ids of `scope` (`all`, `category:<slug>`; `every`, `inactive` with `newest`)
    in the order `sort` (of SORTS)."""
    name, backwards = SORTS[sort]
    items, next_cursor = dynamo.query_page(None, "PK", f"LIST#{scope}#{name}", limit, cursor, newest_first=backwards)
    return [item["product_id"] for item in items], next_cursor


def create_category(category: CategoryRecord) -> None:
    """Raises ResourceExists when the slug is taken."""
    try:
        dynamo.transact([dynamo.put("category", category_key(category.slug) | category.model_dump(mode="json")
                                    | {"GSI1PK": "CATEGORIES", "GSI1SK": category.slug}, "attribute_not_exists(PK)")])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("category"):
            raise ResourceExists(f"A category with slug {category.slug} exists already.", param="slug") from None
        raise


def get_categories(slugs: list[str]) -> dict[str, CategoryRecord]:
    """The categories that exist among `slugs`, by slug."""
    if not slugs:
        return {}
    return {item["slug"]: CategoryRecord.model_validate(item) for item in dynamo.batch_get(
        [category_key(slug) for slug in slugs])}


def all_categories() -> list[CategoryRecord]:
    """Every category by slug (GSI1 `CATEGORIES`, read to its end: a shop has hundreds at most)."""
    return [CategoryRecord.model_validate(item) for item in dynamo.query_all("GSI1", "GSI1PK", "CATEGORIES")]


def create_collection(collection: CollectionRecord) -> None:
    """Raises ResourceExists when the slug is taken."""
    try:
        item = collection_key(collection.slug) | collection.model_dump(mode="json", exclude_none=True)
        dynamo.transact([dynamo.put("collection", item, "attribute_not_exists(PK)")])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("collection"):
            raise ResourceExists(f"A collection with slug {collection.slug} exists already.", param="slug") from None
        raise


def get_collection(slug: str) -> CollectionRecord | None:
    item = dynamo.get(collection_key(slug), consistent=False)
    return CollectionRecord.model_validate(item) if item else None
