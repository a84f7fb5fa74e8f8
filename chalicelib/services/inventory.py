"""Stock levels as the back office reads them."""

from chalicelib.models import StockLevel
from chalicelib.repository import catalog


def stock_levels(skus: list[str]) -> list[StockLevel]:
    """The stock of each SKU that exists among `skus`, in their order (one BatchGetItem per 100)."""
    found = catalog.get_skus(skus)
    return [StockLevel.from_record(found[sku]) for sku in skus if sku in found]
