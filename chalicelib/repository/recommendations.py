"""Bought-together counters: one item per ordered pair of products, in the first product's
partition next to its PRODUCT item, so one Query reads a product and everything learned about it.

| item                                   | key                                          |
| -------------------------------------- | -------------------------------------------- |
| times a was bought together with b     | PK=`PRODUCT#<a>`, SK=`BOUGHTWITH#<b>`, `count` |

The counters are ADDed by the stream relay (repository/reports.apply, once per paid order).
"""

from chalicelib.models import ProductRecord
from chalicelib.repository import dynamo
from chalicelib.repository.catalog import product_key

PREFIX = "BOUGHTWITH#"


def pair_key(product_id: str, other_id: str) -> dict:
    return {"PK": f"PRODUCT#{product_id}", "SK": f"{PREFIX}{other_id}"}


def bought_with(product_id: str) -> tuple[ProductRecord | None, dict[str, int]]:
    """The product (None if unknown) and how often each other product was bought with it, from one
    Query of the product's partition. Newest key first, so the PRODUCT item leads the first page;
    a product bought with more partners than fit in 1 MB (~10,000) is ranked on that page only."""
    answer = dynamo.call("query", TableName=dynamo.table(), KeyConditionExpression="PK = :pk",
                         ExpressionAttributeValues=dynamo.values(pk=product_key(product_id)["PK"]),
                         ScanIndexForward=False)
    product, counts = None, {}
    for item in map(dynamo.from_item, answer["Items"]):
        if item["SK"] == "PRODUCT":
            product = ProductRecord.model_validate(item)
        elif item["SK"].startswith(PREFIX):
            counts[item["SK"].removeprefix(PREFIX)] = item.get("count", 0)
    return product, counts


def get_products(product_ids: list[str]) -> dict[str, ProductRecord]:
    """The products that exist among `product_ids`, by id (one BatchGetItem per 100)."""
    if not product_ids:
        return {}
    items = dynamo.batch_get([product_key(p) for p in product_ids], consistent=False)
    return {item["id"]: ProductRecord.model_validate(item) for item in items}


def newest_active(limit: int) -> list[ProductRecord]:
    """The newest active products (the catalogue listing of GSI1, read backwards)."""
    items, _ = dynamo.query_page("GSI1", "GSI1PK", "PRODUCTS", limit, None, newest_first=True)
    return [ProductRecord.model_validate(item) for item in items]
