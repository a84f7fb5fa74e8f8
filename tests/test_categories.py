"""Categories: the tree and breadcrumbs, products listed by category and sorted by index items kept
on product writes (no Scan), and the admin's list of every product."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ADMIN


def category(client, slug: str, parent: str | None = None) -> dict:
    answer = client.post("/admin/categories", {"slug": slug, "title": slug.title()}
                         | ({"parent": parent} if parent else {}), headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def product(client, title: str, price: int, categories=(), active: bool = True, sku: str | None = None) -> dict:
    answer = client.post("/admin/products", {"title": title, "active": active, "categories": list(categories),
                                             "tags": ["summer"], "variants": [
        {"sku": sku or title.upper(), "price": price, "currency": "EUR", "on_hand": 3}]}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def titles(client, query: str, limit: int = 2) -> list[str]:
    """Every page of GET /products?<query>, following next_cursor."""
    found, cursor = [], None
    for _ in range(20):
        answer = client.get(f"/products?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert answer.status_code == 200, answer.data
        found += [p["title"] for p in answer.data["data"]]
        cursor = answer.data["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("paging does not end")


def test_the_tree_nests_children_under_their_parent_and_breadcrumbs_go_root_first(client):
    clothing = category(client, "clothing")
    shirts = category(client, "shirts", parent="clothing")
    category(client, "mugs")

    tree = client.get("/categories").data["data"]
    crumbs = client.get("/categories/shirts/breadcrumbs").data["data"]

    assert [(node["slug"], [c["slug"] for c in node["children"]]) for node in tree] == [
        ("clothing", ["shirts"]), ("mugs", [])]
    assert shirts["parent_id"] == clothing["id"]
    assert [c["slug"] for c in crumbs] == ["clothing", "shirts"]
    assert client.get("/categories/nope/breadcrumbs").status_code == 404


def test_a_taken_slug_or_an_unknown_parent_is_refused(client):
    category(client, "clothing")

    assert client.post("/admin/categories", {"slug": "clothing", "title": "Again"}, headers=ADMIN).status_code == 409
    unknown = client.post("/admin/categories", {"slug": "x", "title": "X", "parent": "nope"}, headers=ADMIN)
    assert (unknown.status_code, unknown.data["error"]["param"]) == (400, "parent")


def test_a_product_in_an_unknown_category_is_a_400_naming_it(client):
    answer = client.post("/admin/products", {"title": "Hat", "categories": ["nope"], "variants": [
        {"sku": "HAT", "price": 100, "currency": "EUR", "on_hand": 1}]}, headers=ADMIN)

    assert (answer.status_code, answer.data["error"]["param"]) == (400, "categories.0")


def one_a_minute(monkeypatch) -> None:
    """created_at is kept to the second: newest-first tests create one product a minute."""
    from chalicelib import clock

    moments = iter(datetime(2026, 12, 1, 10, tzinfo=UTC) + timedelta(minutes=m) for m in range(1000))
    monkeypatch.setattr(clock, "now", lambda: next(moments))


@pytest.mark.parametrize(("sort", "expected"), [
    ("newest", ["Cap", "Tee", "Bag"]),
    ("price_asc", ["Tee", "Bag", "Cap"]),
    ("price_desc", ["Cap", "Bag", "Tee"]),
    ("title", ["Bag", "Cap", "Tee"]),
])
def test_a_category_lists_its_products_in_each_order_across_pages(client, monkeypatch, sort, expected):
    one_a_minute(monkeypatch)
    category(client, "clothing")
    product(client, "Bag", 3000, ["clothing"])
    product(client, "Mug", 500)
    product(client, "Tee", 1000, ["clothing"])
    product(client, "Cap", 4000, ["clothing"])

    assert titles(client, f"category=clothing&sort={sort}") == expected


def test_every_product_sorts_without_a_category(client):
    product(client, "Bag", 3000)
    product(client, "Mug", 500)

    assert titles(client, "sort=price_asc") == ["Mug", "Bag"]


def test_editing_a_product_moves_it_between_categories_and_out_when_inactive(client):
    category(client, "clothing")
    category(client, "sale")
    tee = product(client, "Tee", 1000, ["clothing"])
    body = {"title": "Tee", "categories": ["sale"], "variants": [
        {"sku": "TEE", "price": 800, "currency": "EUR", "on_hand": 3}]}

    assert client.put(f"/admin/products/{tee['id']}", body, headers=ADMIN).status_code == 200
    assert titles(client, "category=clothing") == []
    assert titles(client, "category=sale&sort=price_asc") == ["Tee"]

    client.put(f"/admin/products/{tee['id']}", body | {"active": False}, headers=ADMIN)
    assert titles(client, "category=sale") == []
    assert titles(client, "sort=title") == []


def test_a_replace_without_categories_or_tags_keeps_them_and_an_empty_list_clears_them(client):
    """The back office's editor sends no categories: saving a product there must not drop it from its listings."""
    category(client, "clothing")
    tee = product(client, "Tee", 1000, ["clothing"])
    body = {"title": "Tee", "variants": [{"sku": "TEE", "price": 900, "currency": "EUR", "on_hand": 3}]}

    kept = client.put(f"/admin/products/{tee['id']}", body, headers=ADMIN)
    assert kept.status_code == 200, kept.data
    assert (kept.data["categories"], kept.data["tags"]) == (["clothing"], ["summer"])
    assert titles(client, "category=clothing") == ["Tee"]

    cleared = client.put(f"/admin/products/{tee['id']}", body | {"categories": [], "tags": []}, headers=ADMIN)
    assert (cleared.data["categories"], cleared.data["tags"]) == ([], [])
    assert titles(client, "category=clothing") == []


def test_the_admin_lists_every_product_or_by_state(client, monkeypatch):
    one_a_minute(monkeypatch)
    product(client, "On", 100)
    product(client, "Off", 100, active=False)

    def admin(query: str) -> list[str]:
        answer = client.get(f"/admin/products?{query}", headers=ADMIN)
        assert answer.status_code == 200, answer.data
        return [p["title"] for p in answer.data["data"]]

    assert admin("") == ["Off", "On"]
    assert admin("active=true") == ["On"]
    assert admin("active=false") == ["Off"]
    assert client.get("/admin/products").status_code == 401
    assert client.get("/admin/products?active=maybe", headers=ADMIN).status_code == 400


def test_products_show_their_categories_and_tags(client):
    category(client, "clothing")

    shown = product(client, "Tee", 1000, ["clothing"])

    assert (shown["categories"], shown["tags"]) == (["clothing"], ["summer"])
