"""Collections: hand-picked (in the shop's order) or by rule (category, tag, price range)."""

from tests.conftest import ADMIN
from tests.test_categories import category, titles


def product(client, title: str, price: int, categories=(), tags=(), active: bool = True) -> dict:
    answer = client.post("/admin/products", {"title": title, "active": active, "categories": list(categories),
                                             "tags": list(tags), "variants": [
        {"sku": title.upper(), "price": price, "currency": "EUR", "on_hand": 3}]}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def collection(client, body: dict):
    return client.post("/admin/collections", body, headers=ADMIN)


def test_a_hand_picked_collection_lists_its_active_products_in_order_across_pages(client):
    picked = [product(client, name, 100) for name in ("A", "B", "C")]
    hidden = product(client, "D", 100, active=False)
    ids = [picked[2]["id"], hidden["id"], picked[0]["id"], picked[1]["id"]]

    answer = collection(client, {"slug": "staff-picks", "title": "Staff picks", "product_ids": ids})

    assert answer.status_code == 201, answer.data
    assert client.get("/collections/staff-picks").data["product_ids"] == ids
    assert titles(client, "collection=staff-picks") == ["C", "A", "B"]


def test_a_rule_collection_holds_what_matches_now(client):
    category(client, "clothing")
    product(client, "Tee", 1000, ["clothing"], ["summer"])
    product(client, "Coat", 9000, ["clothing"], ["winter"])
    product(client, "Cap", 1500, ["clothing"], ["summer"])
    product(client, "Mug", 500, [], ["summer"])

    cheap = collection(client, {"slug": "summer-under-20", "title": "Summer under 20",
                                "rule": {"category": "clothing", "tag": "summer", "price_max": 2000}})
    summer = collection(client, {"slug": "summer", "title": "Summer", "rule": {"tag": "summer", "price_min": 1000}})

    assert (cheap.status_code, summer.status_code) == (201, 201)
    assert titles(client, "collection=summer-under-20&sort=price_asc") == ["Tee", "Cap"]
    assert titles(client, "collection=summer&sort=title") == ["Cap", "Tee"]
    product(client, "Hat", 1200, [], ["summer"])
    assert titles(client, "collection=summer&sort=title") == ["Cap", "Hat", "Tee"]


def test_bad_collections_are_refused_and_unknown_ones_are_404(client):
    assert collection(client, {"slug": "x", "title": "X"}).status_code == 400
    assert collection(client, {"slug": "x", "title": "X", "product_ids": ["p"], "rule": {}}).status_code == 400
    unknown = collection(client, {"slug": "x", "title": "X", "product_ids": ["prod_nope"]})
    assert (unknown.status_code, unknown.data["error"]["param"]) == (400, "product_ids.0")
    no_category = collection(client, {"slug": "x", "title": "X", "rule": {"category": "nope"}})
    assert (no_category.status_code, no_category.data["error"]["param"]) == (400, "rule.category")
    assert collection(client, {"slug": "x", "title": "X", "rule": {"colour": "red"}}).status_code == 400
    assert client.get("/collections/x").status_code == 404
    assert client.get("/products?collection=x").status_code == 404
    product(client, "A", 100)
    collection(client, {"slug": "taken", "title": "T", "rule": {}})
    assert collection(client, {"slug": "taken", "title": "T", "rule": {}}).status_code == 409
