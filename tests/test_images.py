"""Product images: a presigned S3 upload (a real PUT through moto), the product's ordered `images`
with alt text set and reordered through the admin product body, and the feeds' image links."""

import boto3
import pytest
import requests

from chalicelib import config
from tests.conftest import ADMIN, make_product, product_body
from tests.orders_support import Stream
from tests.search_support import rebuild
from tests.test_feeds import google_items, meta_rows

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def images_cdn(client, monkeypatch):
    monkeypatch.setenv("IMAGES_BASE_URL", "https://images.example.com/")
    config.reset()
    return client


def add_image(api, product_id: str, **body) -> dict:
    answer = api.post(f"/admin/products/{product_id}/images", body, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def test_an_image_is_uploaded_to_its_presigned_url_and_shown_on_the_product(images_cdn):
    api = images_cdn
    product = make_product(api)
    upload = add_image(api, product["id"], content_type="image/png", alt="Front")
    assert upload["image_id"].startswith("img_")
    key = f"products/{product['id']}/{upload['image_id']}.png"
    assert upload["url"] == f"https://images.example.com/{key}"

    put = requests.put(upload["upload_url"], data=PNG, headers={"Content-Type": "image/png"}, timeout=10)
    assert put.status_code == 200, put.text

    stored = boto3.client("s3").get_object(Bucket=config.settings().images_bucket, Key=key)
    assert stored["Body"].read() == PNG and stored["ContentType"] == "image/png"
    shown = api.get(f"/products/{product['id']}").data
    assert shown["images"] == [{"id": upload["image_id"], "url": upload["url"], "alt": "Front"}]


def test_images_are_reordered_retitled_and_dropped_through_the_product_body(images_cdn):
    api = images_cdn
    product = make_product(api)
    first, second, third = (add_image(api, product["id"], alt=alt)["image_id"] for alt in ("a", "b", "c"))
    body = product_body() | {"images": [{"id": third}, {"id": first, "alt": "Back"}]}
    answer = api.put(f"/admin/products/{product['id']}", body, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    assert [(i["id"], i["alt"]) for i in answer.data["images"]] == [(third, "c"), (first, "Back")]
    kept = api.put(f"/admin/products/{product['id']}", product_body(), headers=ADMIN)  # no images: kept
    assert [i["id"] for i in kept.data["images"]] == [third, first]
    assert second not in {i["id"] for i in api.get(f"/products/{product['id']}").data["images"]}


def test_an_unknown_image_is_a_400_naming_it_and_nothing_changes(images_cdn):
    api = images_cdn
    product = make_product(api)
    image = add_image(api, product["id"])["image_id"]
    body = product_body(price=5) | {"images": [{"id": image}, {"id": "img_nope"}]}
    answer = api.put(f"/admin/products/{product['id']}", body, headers=ADMIN)
    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "images.1.id"
    shown = api.get(f"/products/{product['id']}").data
    assert shown["variants"][0]["price"] == 1999 and [i["id"] for i in shown["images"]] == [image]
    created = api.post("/admin/products", product_body(sku_prefix="NEW") | {"images": [{"id": image}]}, headers=ADMIN)
    assert created.status_code == 400 and created.data["error"]["param"] == "images.0.id"


def test_an_image_for_an_unknown_product_is_404_and_the_route_needs_the_admin_key(images_cdn):
    answer = images_cdn.post("/admin/products/prod_nope/images", {}, headers=ADMIN)
    assert answer.status_code == 404
    assert images_cdn.post("/admin/products/prod_nope/images", {}).status_code == 401
    product = make_product(images_cdn)
    bad = images_cdn.post(f"/admin/products/{product['id']}/images", {"content_type": "text/html"}, headers=ADMIN)
    assert bad.status_code == 400 and bad.data["error"]["param"] == "content_type"


def test_the_feeds_link_the_product_s_images_in_order(images_cdn):
    api = images_cdn
    stream = Stream()
    product = make_product(api, title="Rain coat", sku_prefix="COAT")
    first, second = (add_image(api, product["id"], alt=alt) for alt in ("Front", "Back"))
    rebuild(api, stream)
    items = google_items(_body(api, "/feeds/google.xml"))
    assert {i["image_link"] for i in items} == {first["url"]}
    assert {i["additional_image_link"] for i in items} == {second["url"]}
    rows = meta_rows(_body(api, "/feeds/meta.csv"))
    assert {r["image_link"] for r in rows} == {first["url"]}


def _body(api, path: str) -> str:
    answer = api.raw.http.request("GET", path)
    assert answer.status_code == 200
    return answer.body.decode()
