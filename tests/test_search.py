"""Search: the SQLite FTS5 index on its own (stemming, typos, prefixes, facets, filters, paging), then
GET /search against moto, fed by the stream and the one-minute rebuild schedule."""

import sqlite3

import boto3
import pytest

from chalicelib import config
from chalicelib.search import SearchQuery
from chalicelib.search.sqlite import FORMAT, IndexFormatError, SqliteIndex, build
from chalicelib.search.stemming import french_stem, within_one_edit
from tests.conftest import ADMIN, make_cart, make_product
from tests.orders_support import Stream
from tests.search_support import doc, rebuild

CATALOGUE = [
    doc(1, "Running shoes", "Light shoes for running on the road.", ["shoes"], price=8900, available=3),
    doc(2, "Chaussures de randonnée", "Des chaussures bleues très solides.", ["shoes"], price=12000, available=0),
    doc(3, "Coffee mug", "A black ceramic mug.", ["kitchen"], price=1400, tags=["gift"]),
    doc(4, "Organic T-shirt", "Cotton t-shirt, printed.", ["clothes"], price=2500),
    doc(5, "Chevaux en bois", "Jouets pour enfants.", ["toys"], price=3000, currency="GBP"),
]


@pytest.fixture(scope="module")
def index():
    return SqliteIndex(build(CATALOGUE))


def ids(index, **query) -> list[str]:
    return [p["id"] for p in index.search(SearchQuery(**query)).products]


def test_english_words_match_their_stems(index):
    assert ids(index, q="shoe run ") == ["prod_0001"]
    assert ids(index, q="mugs ") == ["prod_0003"]


def test_french_words_match_their_light_stems_accents_aside(index):
    assert french_stem("chaussures") == french_stem("chaussure")
    assert french_stem("chevaux") == "cheval"
    assert ids(index, q="chaussure ") == ["prod_0002"]
    assert ids(index, q="bleu randonnee ") == ["prod_0002"]
    assert ids(index, q="cheval ", currency="GBP") == ["prod_0005"]


def test_one_typo_is_forgiven_in_words_of_four_letters_or_more(index):
    assert within_one_edit("cofee", "coffee") and within_one_edit("mgu", "mug") and not within_one_edit("mud", "rum")
    assert ids(index, q="cofee ") == ["prod_0003"]      # a letter missing
    assert ids(index, q="ceramci ") == ["prod_0003"]    # two letters swapped
    assert ids(index, q="shirt cottn ") == ["prod_0004"]
    assert ids(index, q="zzzz ") == []


def test_the_last_word_is_a_prefix_while_typing(index):
    assert ids(index, q="cer") == ["prod_0003"]
    assert ids(index, q="organic t-sh") == ["prod_0004"]
    assert ids(index, q="cer ") == []  # a finished word is not a prefix
    assert ids(index, q="c") == []  # one letter is not a prefix (it would stand for most of the catalogue)
    assert ids(index, q="ce") == ["prod_0003"]


def test_skus_tags_and_categories_are_searchable(index):
    assert ids(index, q="SKU-4") == ["prod_0004"]
    assert ids(index, q="gift ") == ["prod_0003"]
    assert ids(index, q="kitchen ") == ["prod_0003"]


def test_filters_and_facets_each_facet_ignoring_its_own_filter(index):
    result = index.search(SearchQuery(q="", category="shoes", in_stock=True))
    assert [p["id"] for p in result.products] == ["prod_0001"]
    # Category counts what matches the other filters (in stock): every in-stock EUR category.
    assert {f["value"]: f["count"] for f in result.facets["category"]} == {"shoes": 1, "kitchen": 1, "clothes": 1}
    assert result.facets["in_stock"] == {"true": 1, "false": 1}  # the shoes, with and without stock
    assert result.facets["price"] == [{"min": 5000, "max": 10000, "count": 1}]
    priced = index.search(SearchQuery(q="", price_min=2000, price_max=9000))
    assert sorted(p["id"] for p in priced.products) == ["prod_0001", "prod_0004"]
    assert sum(band["count"] for band in priced.facets["price"]) == 4  # every EUR product, by band


def test_only_products_priced_in_the_currency_are_found(index):
    assert ids(index, q="") == ["prod_0004", "prod_0003", "prod_0002", "prod_0001"]  # newest first
    assert ids(index, q="", currency="GBP") == ["prod_0005"]
    assert ids(index, q="", currency="USD") == []


def test_sorting_and_paging(index):
    assert ids(index, q="", sort="price_asc") == ["prod_0003", "prod_0004", "prod_0001", "prod_0002"]
    assert ids(index, q="", sort="price_desc")[0] == "prod_0002"
    assert ids(index, q="", sort="title")[0] == "prod_0002"  # "chaussures..."
    first = index.search(SearchQuery(q="", sort="price_asc", limit=3))
    assert first.total == 4 and first.next_offset == 3
    second = index.search(SearchQuery(q="", sort="price_asc", limit=3, offset=3))
    assert [p["id"] for p in second.products] == ["prod_0002"] and second.next_offset is None


def test_a_search_sorts_its_hits_as_browsing_sorts_the_same_products():
    """The hits sort on the listing's date and title ranks: the same order as browsing."""
    from bench.search import documents

    index = SqliteIndex(build(documents(400, seed=3)))
    for sort in ("newest", "title", "price_asc", "price_desc"):
        everything = [p["id"] for p in index.search(SearchQuery(sort=sort, limit=400)).products]
        found = [p["id"] for p in index.search(SearchQuery(q="shirt ", sort=sort, limit=400)).products]
        assert 10 < len(found) < 400
        assert found == [i for i in everything if i in set(found)], sort


def test_relevance_puts_title_hits_first(index):
    assert ids(index, q="shoes ")[0] == "prod_0001"


# --- the route, the stream and the schedule -----------------------------------------------------


@pytest.fixture
def fresh(monkeypatch, client):
    monkeypatch.setenv("SEARCH_REFRESH_SECONDS", "0")
    config.reset()
    return client


def test_search_answers_502_until_the_first_build_then_finds_products(fresh):
    stream = Stream()
    make_product(fresh, title="Waterproof jacket", sku_prefix="JKT")
    answer = fresh.get("/search?q=jacket")
    assert answer.status_code == 502 and answer.data["error"]["code"] == "upstream_unavailable"
    assert rebuild(fresh, stream)["rebuilt"] is True
    answer = fresh.get("/search?q=jackets")
    assert answer.status_code == 200, answer.data
    assert [p["title"] for p in answer.data["data"]] == ["Waterproof jacket"]
    assert answer.data["data"][0]["variants"][0]["sku"] == "JKT-S"
    assert answer.data["facets"]["in_stock"] == {"true": 1, "false": 0}
    assert answer.data["next_cursor"] is None


def test_an_edit_is_searchable_after_the_next_rebuild(fresh):
    stream = Stream()
    product = make_product(fresh, title="Blue scarf", sku_prefix="SCF")
    rebuild(fresh, stream)
    body = {"title": "Red scarf", "description": "Wool.", "active": True,
            "variants": [{"sku": "SCF-S", "title": "S", "price": 1500, "currency": "EUR", "on_hand": 0}]}
    assert fresh.put(f"/admin/products/{product['id']}", body, headers=ADMIN).status_code == 200
    assert [p["title"] for p in fresh.get("/search?q=scarf").data["data"]] == ["Blue scarf"]  # not yet
    assert rebuild(fresh, stream)["rebuilt"] is True
    found = fresh.get("/search?q=red+scarf&in_stock=false").data
    assert [p["title"] for p in found["data"]] == ["Red scarf"]
    assert fresh.get("/search?q=blue+scarf").data["data"] == []


def test_changes_that_do_not_show_cause_no_rebuild(fresh):
    stream = Stream()
    make_product(fresh, title="Plain mug", sku_prefix="MUG")
    rebuild(fresh, stream)
    make_cart(fresh)
    assert rebuild(fresh, stream) == {"rebuilt": False}
    fresh.put("/admin/inventory/MUG-S", {"on_hand": 4}, headers=ADMIN)  # still in stock
    assert rebuild(fresh, stream) == {"rebuilt": False}
    fresh.put("/admin/inventory/MUG-S", {"on_hand": 0}, headers=ADMIN)
    fresh.put("/admin/inventory/MUG-M", {"on_hand": 0}, headers=ADMIN)
    assert rebuild(fresh, stream)["rebuilt"] is True
    assert fresh.get("/search?q=mug&in_stock=true").data["data"] == []


def test_an_edit_during_a_rebuild_leaves_the_views_stale(fresh):
    from chalicelib.repository import catalogue_views

    catalogue_views.mark_stale()
    version, _, _ = catalogue_views.staleness()
    catalogue_views.mark_stale()  # the relay, while the rebuild of `version` runs
    catalogue_views.mark_built(version, {}, FORMAT)
    assert catalogue_views.staleness() == (version + 1, version, FORMAT)
    catalogue_views.mark_built(version - 1, {}, FORMAT)  # a slower, older rebuild finishing late
    assert catalogue_views.staleness() == (version + 1, version, FORMAT)


def test_an_index_of_the_previous_format_is_not_loaded_and_is_rebuilt_by_the_next_run(fresh):
    """A release that changes the index's tables: the object in S3 is the old format until the schedule
    rebuilds it, even though the catalogue has not changed."""
    from chalicelib.repository import catalogue_views
    from chalicelib.services import search

    stream = Stream()
    make_product(fresh, title="Teapot", sku_prefix="TEA")
    rebuild(fresh, stream)
    version, built, index_format = catalogue_views.staleness()
    assert built == version and index_format == FORMAT
    old = sqlite3.connect(":memory:")
    old.deserialize(build([doc(9, "Teapot")]))
    old.execute(f"PRAGMA user_version = {FORMAT - 1}")
    boto3.client("s3").put_object(Bucket=config.settings().views_bucket, Key="search/catalogue.sqlite",
                                  Body=old.serialize())
    with pytest.raises(IndexFormatError):
        SqliteIndex(old.serialize())
    search.forget()
    assert fresh.get("/search?q=teapot").status_code == 502  # not read as if it were the new format
    boto3.client("dynamodb").update_item(
        TableName=config.settings().table_name,
        Key={k: {"S": v} for k, v in catalogue_views.views_key().items()},
        UpdateExpression="REMOVE index_format")  # as the previous release left it: no format recorded
    assert catalogue_views.staleness() == (version, version, 0)
    assert rebuild(fresh, stream)["rebuilt"] is True
    assert catalogue_views.staleness() == (version, version, FORMAT)
    assert [p["title"] for p in fresh.get("/search?q=teapot").data["data"]] == ["Teapot"]
    assert rebuild(fresh, stream) == {"rebuilt": False}


def test_paging_through_the_route(fresh):
    stream = Stream()
    for number in range(3):
        make_product(fresh, title=f"Poster {number}", sku_prefix=f"PST{number}", sizes=("A",))
    rebuild(fresh, stream)
    first = fresh.get("/search?q=poster&limit=2&sort=title").data
    assert [p["title"] for p in first["data"]] == ["Poster 0", "Poster 1"]
    second = fresh.get(f"/search?q=poster&limit=2&sort=title&cursor={first['next_cursor']}").data
    assert [p["title"] for p in second["data"]] == ["Poster 2"] and second["next_cursor"] is None


@pytest.mark.parametrize(("query", "param"), [
    ("limit=0", "limit"), ("limit=101", "limit"), ("cursor=bm90LW91cnM", "cursor"), ("price_min=-1", "price_min"),
    ("price_min=500&price_max=100", "price_min"), ("in_stock=maybe", "in_stock"), ("sort=random", "sort"),
    ("currency=eur", "currency"), ("q=" + "x" * 201, "q"),
])
def test_bad_parameters_are_a_400_naming_them(fresh, query, param):
    answer = fresh.get(f"/search?{query}")
    assert answer.status_code == 400, answer.data
    assert answer.data["error"]["param"] == param


def test_the_index_is_reloaded_when_its_object_changes(fresh):
    from chalicelib.services import search

    stream = Stream()
    make_product(fresh, title="Lamp", sku_prefix="LMP")
    rebuild(fresh, stream)
    assert len(fresh.get("/search?q=lamp").data["data"]) == 1
    loaded = search.current_index()
    assert search.current_index() is loaded  # same ETag: kept
    boto3.client("s3").put_object(Bucket=config.settings().views_bucket, Key="search/catalogue.sqlite",
                                  Body=build([doc(9, "Desk")]))
    assert fresh.get("/search?q=lamp").data["data"] == []
    assert len(fresh.get("/search?q=desk").data["data"]) == 1


def test_a_hot_skus_stock_is_summed_over_its_shards(fresh):
    stream = Stream()
    make_product(fresh, title="Limited sneakers", sku_prefix="SNK", on_hand=0)
    assert fresh.put("/admin/inventory/SNK-M", {"on_hand": 10, "shards": 4}, headers=ADMIN).status_code == 200
    rebuild(fresh, stream)
    [found] = fresh.get("/search?q=sneakers&in_stock=true").data["data"]
    assert {v["sku"]: v["available"] for v in found["variants"]} == {"SNK-S": 0, "SNK-M": 10}
    assert fresh.put("/admin/inventory/SNK-M", {"on_hand": 0}, headers=ADMIN).status_code == 200
    assert rebuild(fresh, stream)["rebuilt"] is True
    assert fresh.get("/search?q=sneakers&in_stock=true").data["data"] == []
