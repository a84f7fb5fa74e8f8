"""Channel feeds: each feed is checked against its format's required attributes (parsed, not
string-matched), then served from S3 after the rebuild, with availability following stock."""

import csv
import io
import re
import xml.etree.ElementTree as ET

import boto3
import pytest

from chalicelib import config, feeds
from tests.conftest import ADMIN, make_product
from tests.orders_support import Stream
from tests.search_support import doc, rebuild

G = "{http://base.google.com/ns/1.0}"
PRICE = re.compile(r"^\d+(\.\d{2})? [A-Z]{3}$")
DATE_RANGE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(Z|[+-]\d\d:?\d\d)/\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?"
                        r"(Z|[+-]\d\d:?\d\d)$")
URL = re.compile(r"^https?://\S+$")
# Google Merchant Center: required for every product (support.google.com/merchants/answer/7052112).
GOOGLE_REQUIRED = ("id", "title", "description", "link", "image_link", "availability", "price", "condition", "brand")
GOOGLE_AVAILABILITY = {"in_stock", "out_of_stock", "preorder", "backorder"}
# Meta commerce catalogue, CSV data feed: required columns.
META_REQUIRED = ("id", "title", "description", "availability", "condition", "price", "link", "image_link", "brand")
META_AVAILABILITY = {"in stock", "out of stock", "preorder", "available for order", "discontinued"}
CONDITIONS = {"new", "refurbished", "used"}


def google_items(text: str) -> list[dict]:
    """Parse and validate a Google feed; the items as {attribute: value}."""
    root = ET.fromstring(text.encode())  # noqa: S314 (our own feed, in a test)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None and channel.findtext("title") and channel.findtext("link")
    found = []
    for element in channel.findall("item"):
        item = {child.tag.removeprefix(G): child.text for child in element}
        for name in GOOGLE_REQUIRED:
            assert item.get(name), (name, item)
        assert len(item["id"]) <= 50 and len(item["title"]) <= 150 and len(item["description"]) <= 5000
        assert URL.match(item["link"]) and URL.match(item["image_link"])
        assert item["availability"] in GOOGLE_AVAILABILITY and item["condition"] in CONDITIONS
        assert PRICE.match(item["price"]), item["price"]
        if "sale_price" in item:
            assert PRICE.match(item["sale_price"])
            assert _amount(item["sale_price"]) < _amount(item["price"])
        if "sale_price_effective_date" in item:
            assert DATE_RANGE.match(item["sale_price_effective_date"]) and "sale_price" in item
        assert item.get("gtin") or item.get("mpn") or item.get("identifier_exists") == "no"
        found.append(item)
    assert len({i["id"] for i in found}) == len(found)
    return found


def meta_rows(text: str) -> list[dict]:
    """Parse and validate a Meta CSV feed; its rows."""
    reader = csv.DictReader(io.StringIO(text))
    assert set(META_REQUIRED) <= set(reader.fieldnames)
    rows = list(reader)
    for row in rows:
        for name in META_REQUIRED:
            assert row[name], (name, row)
        assert row["availability"] in META_AVAILABILITY and row["condition"] in CONDITIONS
        assert PRICE.match(row["price"]) and URL.match(row["link"]) and URL.match(row["image_link"])
        if row["sale_price"]:
            assert PRICE.match(row["sale_price"]) and _amount(row["sale_price"]) < _amount(row["price"])
    assert len({r["id"] for r in rows}) == len(rows)
    return rows


def _amount(price: str) -> float:
    return float(price.split()[0])


DOCUMENTS = [
    doc(1, "Running shoes", "Light & <fast> shoes.", ["shoes"], price=8900, available=3, gtin="4006381333931"),
    doc(2, "Mug", "", price=1405, available=0, mpn="MUG-1"),
    doc(3, "Scarf", "Wool.", price=1500, compare_at_prices={"EUR": 2000},
        sale_starts_at="2026-12-01T00:00:00Z", sale_ends_at="2026-12-08T00:00:00Z"),
    doc(4, "No picture", "Left out.", images=()),
    doc(5, "Pounds only", "Not in EUR.", currency="GBP"),
]


def test_money_is_written_with_the_currency_s_decimals():
    assert feeds.money(2500, "EUR") == "25.00 EUR"
    assert feeds.money(5, "USD") == "0.05 USD"
    assert feeds.money(1500, "JPY") == "1500 JPY"
    assert feeds.money(123456, "KWD") == "123.456 KWD" and feeds.money(123456, "EUR") == "1234.56 EUR"


def test_the_google_feed_has_every_required_attribute_in_its_format():
    items = feeds.items(DOCUMENTS, "EUR", "Demo Shop", "https://shop.example.com")
    parsed = {i["id"]: i for i in google_items(feeds.google_xml(items, "Demo Shop", "https://shop.example.com"))}
    assert set(parsed) == {"SKU-1", "SKU-2", "SKU-3"}  # no image, or no EUR price: left out
    assert parsed["SKU-1"]["availability"] == "in_stock"
    assert parsed["SKU-1"]["description"] == "Light & <fast> shoes." and parsed["SKU-1"]["gtin"] == "4006381333931"
    assert parsed["SKU-2"]["availability"] == "out_of_stock" and parsed["SKU-2"]["price"] == "14.05 EUR"
    assert parsed["SKU-2"]["description"] == "Mug"  # an empty description is the title
    assert (parsed["SKU-3"]["price"], parsed["SKU-3"]["sale_price"]) == ("20.00 EUR", "15.00 EUR")
    assert parsed["SKU-3"]["sale_price_effective_date"] == "2026-12-01T00:00:00Z/2026-12-08T00:00:00Z"
    assert parsed["SKU-3"]["item_group_id"] == "prod_0003" and parsed["SKU-3"]["brand"] == "Demo Shop"


def test_the_meta_feed_has_every_required_column_in_its_format():
    items = feeds.items(DOCUMENTS, "EUR", "Demo Shop", "https://shop.example.com")
    rows = {r["id"]: r for r in meta_rows(feeds.meta_csv(items))}
    assert set(rows) == {"SKU-1", "SKU-2", "SKU-3"}
    assert rows["SKU-1"]["availability"] == "in stock" and rows["SKU-2"]["availability"] == "out of stock"
    assert (rows["SKU-3"]["price"], rows["SKU-3"]["sale_price"]) == ("20.00 EUR", "15.00 EUR")


def test_a_validator_can_fail():
    items = feeds.items(DOCUMENTS[:1], "EUR", "Demo Shop", "https://shop.example.com")
    broken = feeds.google_xml(items, "Demo Shop", "https://shop.example.com").replace("89.00 EUR", "89 euros")
    with pytest.raises(AssertionError):
        google_items(broken)
    with pytest.raises(AssertionError):
        meta_rows(feeds.meta_csv(items).replace("in stock", "yes"))


# --- served from S3 ----------------------------------------------------------------------------


def with_images(product_id: str) -> None:
    """What the catalogue's image upload (another branch) stores on the product item."""
    boto3.client("dynamodb").update_item(
        TableName=config.settings().table_name, Key={"PK": {"S": f"PRODUCT#{product_id}"}, "SK": {"S": "PRODUCT"}},
        UpdateExpression="SET images = :images",
        ExpressionAttributeValues={":images": {"L": [{"M": {
            "id": {"S": "img_1"}, "url": {"S": "https://cdn.example.com/1.jpg"}, "alt": {"S": "front"}}}]}})


def test_feeds_are_served_after_the_rebuild_and_availability_follows_stock(client):
    assert client.get("/feeds/google.xml").status_code == 404
    stream = Stream()
    product = make_product(client, title="Rain coat", sku_prefix="COAT", price=4990)
    with_images(product["id"])
    rebuild(client, stream)
    answer = client.raw.http.get("/feeds/google.xml")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/xml")
    items = google_items(answer.body.decode())
    assert {(i["id"], i["availability"], i["price"]) for i in items} == {
        ("COAT-S", "in_stock", "49.90 EUR"), ("COAT-M", "in_stock", "49.90 EUR")}
    assert client.put("/admin/inventory/COAT-M", {"on_hand": 0}, headers=ADMIN).status_code == 200
    rebuild(client, stream)
    items = google_items(client.raw.http.get("/feeds/google.xml").body.decode())
    assert {i["id"]: i["availability"] for i in items} == {"COAT-S": "in_stock", "COAT-M": "out_of_stock"}
    answer = client.raw.http.get("/feeds/meta.csv")
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert {r["id"]: r["availability"] for r in meta_rows(answer.body.decode())} == {
        "COAT-S": "in stock", "COAT-M": "out of stock"}


def test_a_large_feed_is_a_redirect_to_a_presigned_url(client, monkeypatch):
    stream = Stream()
    with_images(make_product(client, title="Rain coat", sku_prefix="COAT")["id"])
    rebuild(client, stream)
    monkeypatch.setenv("FEED_INLINE_BYTES", "10")
    config.reset()
    answer = client.raw.http.get("/feeds/meta.csv")
    assert answer.status_code == 302
    assert "feeds/meta.csv" in answer.headers["Location"] and "Signature" in answer.headers["Location"]
