"""Bought-together recommendations, learned from paid orders by the stream relay
(chalicelib/counters.py): the products most often bought with a product."""

from chalicelib.errors import not_found
from chalicelib.models import Product
from chalicelib.repository import catalog, recommendations

LIMIT = 4
CANDIDATES = 12  # read a few more than shown: some may have been deactivated since


def recommend(product_id: str) -> list[Product]:
    """Up to LIMIT active products other than `product_id`, most often bought with it first (ties
    by id); filled up with the newest active products while there is too little data. Raises
    ResourceMissing for an unknown or inactive product. Reads: one Query of the product's
    partition, a BatchGetItem of the candidates, one of their variants' stock (and a Query of the
    newest products when filling up)."""
    product, counts = recommendations.bought_with(product_id)
    if product is None or not product.active:
        raise not_found("product")
    ranked = sorted(counts, key=lambda other: (-counts[other], other))[:CANDIDATES]
    found = recommendations.get_products(ranked)
    chosen = [found[other] for other in ranked if other in found and found[other].active][:LIMIT]
    if len(chosen) < LIMIT:
        taken = {product_id} | {p.id for p in chosen}
        newest = recommendations.newest_active(LIMIT + len(taken))
        chosen += [p for p in newest if p.id not in taken][:LIMIT - len(chosen)]
    skus = catalog.get_skus([sku for p in chosen for sku in p.skus])
    return [Product.from_records(p, skus) for p in chosen]
