"""Catalogue routes: the storefront's product reads and the shop's product and inventory admin."""

import base64
import hashlib
import json
import os

import boto3
import pytest

from tests.conftest import ADMIN, make_cart, make_product, product_body


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def all_pages(client, limit: int) -> list[dict]:
    """Every page of GET /products, following next_cursor to the end."""
    pages, cursor = [], None
    while True:
        answer = client.get(f"/products?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert answer.status_code == 200, answer.data
        pages.append(answer.data)
        cursor = answer.data["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not end"


# --- products ------------------------------------------------------------------------------------


def test_creating_a_product_answers_201_with_every_variant_available_as_on_hand(client):
    answer = client.post("/admin/products", product_body(sku_prefix="CAP", price=1500, on_hand=7, sizes=("S", "L")),
                         headers=ADMIN)

    assert answer.status_code == 201
    assert answer.data["id"].startswith("prod_")
    assert answer.data["title"] == "T-shirt"
    assert answer.data["active"] is True
    assert answer.data["variants"] == [
        {"sku": "CAP-S", "title": "S", "price": 1500, "currency": "EUR", "prices": {"EUR": 1500},
         "available": 7},
        {"sku": "CAP-L", "title": "L", "price": 1500, "currency": "EUR", "prices": {"EUR": 1500},
         "available": 7},
    ]


def test_a_created_product_is_readable_by_the_storefront(client):
    product = make_product(client, sku_prefix="MUG", title="Mug")

    answer = client.get(f"/products/{product['id']}")

    assert answer.status_code == 200
    assert answer.data == product


def test_a_client_cannot_choose_the_product_id(client):
    answer = client.post("/admin/products", product_body() | {"id": "prod_mine"}, headers=ADMIN)

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "id"


def test_a_sku_may_appear_only_once_in_a_product(client):
    body = product_body(sizes=("S", "S"))

    answer = client.post("/admin/products", body, headers=ADMIN)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_request"
    assert answer.data["error"]["param"] == "variants"


def test_updating_a_product_changes_its_title_and_price(client):
    product = make_product(client, sku_prefix="TEE", price=1999)

    answer = client.put(f"/admin/products/{product['id']}",
                        product_body(sku_prefix="TEE", price=2499, title="Heavy T-shirt"), headers=ADMIN)

    assert answer.status_code == 200
    assert answer.data["title"] == "Heavy T-shirt"
    assert {v["price"] for v in answer.data["variants"]} == {2499}
    assert client.get(f"/products/{product['id']}").data == answer.data


def test_updating_a_product_keeps_its_id_and_stock(client):
    product = make_product(client, sku_prefix="TEE", on_hand=4)

    answer = client.put(f"/admin/products/{product['id']}", product_body(sku_prefix="TEE", on_hand=9),
                        headers=ADMIN)

    assert answer.data["id"] == product["id"]
    assert [v["available"] for v in answer.data["variants"]] == [9, 9]


def test_a_sku_removed_from_a_product_is_no_longer_listed(client):
    product = make_product(client, sku_prefix="TEE", sizes=("S", "M"))

    answer = client.put(f"/admin/products/{product['id']}", product_body(sku_prefix="TEE", sizes=("M",)),
                        headers=ADMIN)

    assert [v["sku"] for v in answer.data["variants"]] == ["TEE-M"]


def test_a_sku_removed_from_a_product_can_no_longer_be_added_to_a_cart(client):
    product = make_product(client, sku_prefix="TEE", sizes=("S", "M"))
    client.put(f"/admin/products/{product['id']}", product_body(sku_prefix="TEE", sizes=("M",)), headers=ADMIN)
    cart = make_cart(client)

    answer = client.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-S", "quantity": 1})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "unknown_sku"
    assert answer.data["error"]["param"] == "sku"


def test_updating_an_unknown_product_is_404(client):
    answer = client.put("/admin/products/prod_0000000000000000", product_body(), headers=ADMIN)

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "resource_missing"


def test_creating_a_product_with_a_sku_of_another_product_is_a_conflict(client):
    make_product(client, sku_prefix="TEE", sizes=("S", "M"))

    answer = client.post("/admin/products", product_body(sku_prefix="TEE", sizes=("L", "M"), title="Copy"),
                         headers=ADMIN)

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "sku_conflict"
    assert answer.data["error"]["param"] == "variants.1.sku"
    assert "TEE-M" in answer.data["error"]["message"]


def test_a_conflicting_product_is_not_created_at_all(client):
    make_product(client, sku_prefix="TEE", sizes=("M",), price=1000)

    client.post("/admin/products", product_body(sku_prefix="TEE", sizes=("XL", "M"), price=5, title="Copy"),
                headers=ADMIN)

    listed = client.get("/products").data["data"]
    assert [p["title"] for p in listed] == ["T-shirt"]
    assert listed[0]["variants"][0]["price"] == 1000
    assert client.put("/admin/inventory/TEE-XL", {"on_hand": 1}, headers=ADMIN).status_code == 404


def test_updating_a_product_with_a_sku_of_another_product_is_a_conflict(client):
    make_product(client, sku_prefix="TEE", sizes=("S",))
    mug = make_product(client, sku_prefix="MUG", sizes=("S",), title="Mug")

    answer = client.put(f"/admin/products/{mug['id']}", product_body(sku_prefix="TEE", sizes=("S",), title="Mug"),
                        headers=ADMIN)

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "sku_conflict"
    assert answer.data["error"]["param"] == "variants.0.sku"


# --- inventory -----------------------------------------------------------------------------------


def test_setting_inventory_answers_the_stock_levels(client):
    make_product(client, sku_prefix="TEE", on_hand=10)

    answer = client.put("/admin/inventory/TEE-M", {"on_hand": 25, "low_stock_threshold": 3}, headers=ADMIN)

    assert answer.status_code == 200
    assert answer.data == {"sku": "TEE-M", "on_hand": 25, "reserved": 0, "available": 25, "low_stock_threshold": 3,
                           "shards": 1}


def test_setting_inventory_without_a_threshold_keeps_the_one_set_before(client):
    make_product(client, sku_prefix="TEE")
    client.put("/admin/inventory/TEE-M", {"on_hand": 5, "low_stock_threshold": 2}, headers=ADMIN)

    answer = client.put("/admin/inventory/TEE-M", {"on_hand": 6}, headers=ADMIN)

    assert answer.data["on_hand"] == 6
    assert answer.data["low_stock_threshold"] == 2


def test_new_inventory_is_what_the_storefront_sees_as_available(client):
    product = make_product(client, sku_prefix="TEE", sizes=("M",), on_hand=10)

    client.put("/admin/inventory/TEE-M", {"on_hand": 2}, headers=ADMIN)

    assert client.get(f"/products/{product['id']}").data["variants"][0]["available"] == 2


def test_inventory_below_what_orders_reserved_is_a_conflict(client, aws):
    make_product(client, sku_prefix="TEE", sizes=("M",), on_hand=10)
    boto3.client("dynamodb").update_item(
        TableName=aws["TableName"], Key={"PK": {"S": "SKU#TEE-M"}, "SK": {"S": "SKU"}},
        UpdateExpression="SET reserved = :r, available = :a", ExpressionAttributeValues={":r": {"N": "4"},
                                                                                          ":a": {"N": "6"}})

    too_low = client.put("/admin/inventory/TEE-M", {"on_hand": 3}, headers=ADMIN)
    enough = client.put("/admin/inventory/TEE-M", {"on_hand": 4}, headers=ADMIN)

    assert too_low.status_code == 409
    assert too_low.data["error"]["param"] == "on_hand"
    assert enough.data == {"sku": "TEE-M", "on_hand": 4, "reserved": 4, "available": 0, "low_stock_threshold": None,
                           "shards": 1}


def test_setting_inventory_of_an_unknown_sku_is_404(client):
    answer = client.put("/admin/inventory/NOPE-1", {"on_hand": 5}, headers=ADMIN)

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "resource_missing"


@pytest.mark.parametrize("body", [{"on_hand": -1}, {"on_hand": "5"}, {}, {"on_hand": 5, "reserved": 0}])
def test_invalid_inventory_is_400(client, body):
    make_product(client, sku_prefix="TEE")

    answer = client.put("/admin/inventory/TEE-M", body, headers=ADMIN)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_request"


# --- storefront listing --------------------------------------------------------------------------


def test_listing_pages_through_every_active_product_exactly_once(client):
    active = {make_product(client, sku_prefix=f"A{i}")["id"] for i in range(7)}
    inactive = {make_product(client, sku_prefix=f"I{i}", active=False)["id"] for i in range(2)}

    pages = all_pages(client, limit=3)

    listed = [product["id"] for page in pages for product in page["data"]]
    assert len(pages) >= 3
    assert all(len(page["data"]) <= 3 for page in pages)
    assert sorted(listed) == sorted(active)
    assert not inactive & set(listed)


def test_listing_shows_variants_with_what_is_available(client):
    make_product(client, sku_prefix="TEE", sizes=("M",), on_hand=3)

    answer = client.get("/products")

    assert answer.data["data"][0]["variants"] == [
        {"sku": "TEE-M", "title": "M", "price": 1999, "currency": "EUR", "prices": {"EUR": 1999},
         "available": 3}]
    assert answer.data["next_cursor"] is None


def test_listing_defaults_to_twenty_products_a_page(client):
    for i in range(21):
        make_product(client, sku_prefix=f"P{i}", sizes=("M",))

    first = client.get("/products")
    second = client.get(f"/products?cursor={first.data['next_cursor']}")

    assert len(first.data["data"]) == 20
    assert len(second.data["data"]) == 1
    assert second.data["next_cursor"] is None


def test_a_deactivated_product_leaves_the_listing(client):
    product = make_product(client, sku_prefix="TEE")
    make_product(client, sku_prefix="MUG", title="Mug")

    client.put(f"/admin/products/{product['id']}", product_body(sku_prefix="TEE", active=False), headers=ADMIN)

    assert [p["title"] for p in client.get("/products").data["data"]] == ["Mug"]


def test_an_empty_catalogue_lists_nothing(client):
    answer = client.get("/products")

    assert answer.status_code == 200
    assert answer.data == {"data": [], "next_cursor": None}


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "2.5", "", "²", "9" * 5000])
def test_a_limit_outside_1_to_100_is_400(client, limit):
    answer = client.get(f"/products?limit={limit}")

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_request"
    assert answer.data["error"]["param"] == "limit"


@pytest.mark.parametrize("limit", ["1", "100"])
def test_limits_at_the_bounds_are_accepted(client, limit):
    assert client.get(f"/products?limit={limit}").status_code == 200


def _cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "garbage",
    "!!!",
    _cursor(["PRODUCTS"]),
    _cursor({"GSI1PK": "ORDERS", "GSI1SK": "x", "PK": "x", "SK": "x"}),
    _cursor({"GSI1PK": "PRODUCTS"}),
    _cursor({"GSI1PK": "PRODUCTS", "GSI1SK": "x", "PK": "x", "SK": "x", "GSI2PK": "x"}),
    _cursor({"GSI1PK": "PRODUCTS", "GSI1SK": 1, "PK": "x", "SK": "x"}),
    "x" * 2000,
])
def test_a_cursor_that_is_not_from_this_listing_is_400(client, cursor):
    make_product(client, sku_prefix="TEE")

    answer = client.get(f"/products?limit=1&cursor={cursor}")

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_request"
    assert answer.data["error"]["param"] == "cursor"


def test_an_inactive_product_is_missing_for_the_storefront(client):
    product = make_product(client, sku_prefix="TEE", active=False)

    answer = client.get(f"/products/{product['id']}")

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "resource_missing"


def test_an_unknown_product_is_404(client):
    answer = client.get("/products/prod_0000000000000000")

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "resource_missing"


# --- admin authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {},
    auth("wrong-key"),
    {"Authorization": "Basic dGVzdC1hZG1pbi1rZXk="},
    {"Authorization": "Token test-admin-key"},
    {"Authorization": "Bearer "},
    {"Authorization": "test-admin-key"},
], ids=["missing", "wrong-key", "basic", "token-scheme", "empty-bearer", "no-scheme"])
@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/admin/products", product_body()),
    ("PUT", "/admin/products/prod_0000000000000000", product_body()),
    ("PUT", "/admin/inventory/TEE-M", {"on_hand": 1}),
], ids=["create", "update", "inventory"])
def test_admin_routes_without_a_valid_key_are_401(client, headers, method, path, body):
    answer = client.request(method, path, body, headers=headers)

    assert answer.status_code == 401
    assert set(answer.data) == {"error"}
    assert answer.data["error"]["code"] == "unauthenticated"
    assert answer.data["error"]["message"]


def test_an_unauthenticated_admin_request_changes_nothing(client):
    client.post("/admin/products", product_body(), headers=auth("wrong-key"))

    assert client.get("/products").data["data"] == []


def test_the_bearer_scheme_is_case_insensitive(client):
    answer = client.post("/admin/products", product_body(), headers={"Authorization": "bearer test-admin-key"})

    assert answer.status_code == 201


def test_both_keys_work_during_a_key_rotation(client, monkeypatch):
    monkeypatch.setenv("ADMIN_KEY_HASHES", f"{sha256('old-key')}, {sha256('new-key').upper()}")

    old = client.post("/admin/products", product_body(sku_prefix="OLD"), headers=auth("old-key"))
    new = client.post("/admin/products", product_body(sku_prefix="NEW"), headers=auth("new-key"))
    other = client.post("/admin/products", product_body(sku_prefix="OTHER"), headers=auth(os.urandom(8).hex()))

    assert (old.status_code, new.status_code, other.status_code) == (201, 201, 401)


def test_a_retired_key_stops_working(client, monkeypatch):
    monkeypatch.setenv("ADMIN_KEY_HASHES", sha256("new-key"))

    answer = client.post("/admin/products", product_body(), headers=ADMIN)

    assert answer.status_code == 401
