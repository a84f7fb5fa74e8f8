"""The listing backfill (tools/backfill_listings.py): products stored before categories and listings
existed (no LIST# items, no listing_price) become visible in the sorted and admin listings;
running it again changes nothing; a product edited meanwhile is left to its edit."""

import json

import boto3

from chalicelib import config
from chalicelib.models import ProductRecord
from chalicelib.repository import dynamo, listings
from chalicelib.services import listing_backfill
from tests.conftest import ADMIN, make_product
from tools import backfill_listings


def legacy_product(product_id: str, title: str, price: int, created: str, active: bool = True) -> None:
    """A product and its SKU as the code before listings wrote them (GSI1 when active, nothing else)."""
    product = {"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT", "id": product_id, "title": title,
               "description": "", "active": active, "skus": [f"{product_id}-ONE"], "created_at": created,
               "updated_at": created}
    if active:
        product |= {"GSI1PK": "PRODUCTS", "GSI1SK": f"{created}#{product_id}"}
    sku = {"PK": f"SKU#{product_id}-ONE", "SK": "SKU", "sku": f"{product_id}-ONE", "product_id": product_id,
           "product_title": title, "title": "One size", "price": price, "currency": "EUR", "active": active,
           "on_hand": 4, "reserved": 0, "available": 4}
    for item in (product, sku):
        dynamo.client().put_item(TableName=config.settings().table_name, Item=dynamo.to_item(item))


def titles(client, path: str) -> list[str]:
    answer = client.get(path, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    return [p["title"] for p in answer.data["data"]]


def listing_items() -> list[dict]:
    """Every LIST# item of the table (a test may Scan)."""
    items = boto3.client("dynamodb").scan(TableName=config.settings().table_name)["Items"]
    return sorted((dynamo.from_item(i) for i in items if i["PK"]["S"].startswith("LIST#")),
                  key=lambda i: (i["PK"], i["SK"]))


def test_products_stored_before_listings_are_listed_once_and_a_second_run_changes_nothing(client, capsys):
    legacy_product("prod_oldlamp", "Old lamp", 3000, "2025-01-01T10:00:00Z")
    legacy_product("prod_oldmug", "Old mug", 1200, "2025-02-01T10:00:00Z")
    legacy_product("prod_oldchair", "Old chair", 5000, "2025-03-01T10:00:00Z", active=False)
    make_product(client, title="New hat", sku_prefix="HAT")
    assert titles(client, "/products?sort=price_asc") == ["New hat"]  # the old products are missing
    assert titles(client, "/admin/products") == ["New hat"]

    assert listing_backfill.backfill(page_size=2) == {"products": 3, "relisted": 3, "changed_meanwhile": 0}
    assert titles(client, "/products?sort=price_asc") == ["Old mug", "New hat", "Old lamp"]  # 12.00, 19.99, 30.00
    assert titles(client, "/products?sort=newest")[-2:] == ["Old mug", "Old lamp"]
    assert titles(client, "/products?sort=title") == ["New hat", "Old lamp", "Old mug"]
    assert "Old chair" not in titles(client, "/admin/products")  # inactive: not in GSI1, needs the Scan
    stored = dynamo.get({"PK": "PRODUCT#prod_oldlamp", "SK": "PRODUCT"})
    assert stored["listing_price"] == 3000

    before = listing_items()
    assert listing_backfill.backfill() == {"products": 3, "relisted": 3, "changed_meanwhile": 0}
    assert listing_items() == before  # idempotent: the same items

    assert backfill_listings.main(["--include-inactive"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed[-1] == {"done": True, "products": 4, "relisted": 4, "changed_meanwhile": 0}
    assert titles(client, "/admin/products?active=false") == ["Old chair"]
    assert "Old chair" in titles(client, "/admin/products")
    assert "Old chair" not in titles(client, "/products?sort=newest")
    new = {(i["PK"], i["SK"]) for i in listing_items()} - {(i["PK"], i["SK"]) for i in before}
    assert new == {("LIST#every#newest", "2025-03-01T10:00:00.000000Z#prod_oldchair"),
                   ("LIST#inactive#newest", "2025-03-01T10:00:00.000000Z#prod_oldchair")}


def test_a_product_edited_meanwhile_is_left_to_its_edit(client):
    legacy_product("prod_oldlamp", "Old lamp", 3000, "2025-01-01T10:00:00Z")
    item = dynamo.get({"PK": "PRODUCT#prod_oldlamp", "SK": "PRODUCT"})
    record = ProductRecord.model_validate(item).model_copy(update={"listing_price": 3000})
    assert listings.relist(record, "2024-12-31T00:00:00Z") is False  # the product's updated_at moved on
    assert listing_items() == []
    assert "listing_price" not in dynamo.get({"PK": "PRODUCT#prod_oldlamp", "SK": "PRODUCT"})
    assert listings.relist(record, item["updated_at"]) is True
    assert {i["PK"] for i in listing_items()} == {"LIST#every#newest", "LIST#all#newest", "LIST#all#price",
                                                  "LIST#all#title"}
