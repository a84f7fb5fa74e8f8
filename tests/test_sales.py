"""Scheduled sales: created by the shop, started and ended by the `apply_sales` schedule at their
boundaries (on time, late, twice), best price wins when they overlap, admin edits during a sale, and
the Omnibus figure from the price history."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.repository import prices
from tests.conftest import ADMIN, make_product, product_body
from tests.growth_support import at_fixture, scheduled  # noqa: F401

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
END = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)


def sale_body(**over) -> dict:
    return {"name": "Black Friday", "starts_at": clock.iso(START), "ends_at": clock.iso(END), "kind": "percent",
            "value": 20, "skus": ["TEE-S"]} | over


def create_sale(api, **over) -> dict:
    answer = api.post("/admin/sales", sale_body(**over), headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def run(api) -> dict:
    return scheduled(api, "apply_sales")


def variant(api, product_id: str, sku: str = "TEE-S") -> dict:
    answer = api.get(f"/products/{product_id}")
    assert answer.status_code == 200, answer.data
    return next(v for v in answer.data["variants"] if v["sku"] == sku)


def sale_status(api, sale_id: str) -> str:
    listed = api.get("/admin/sales", headers=ADMIN).data["data"]
    return next(s for s in listed if s["id"] == sale_id)["status"]


@pytest.fixture
def tee(client, at):
    at(START - timedelta(days=40))
    return make_product(client, price=2000)


def test_a_sale_is_created_with_a_sale_id_and_listed_newest_first(client, tee, at):
    first = create_sale(client)
    at(START - timedelta(days=39))
    second = create_sale(client, name="Cyber Monday")
    assert first["id"].startswith("sale_") and first["status"] == "scheduled" and first["applied_skus"] == []
    listed = client.get("/admin/sales", headers=ADMIN)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.data["data"]][:2] == [second["id"], first["id"]]


@pytest.mark.parametrize(("over", "param"), [
    ({"ends_at": clock.iso(START)}, None),
    ({"skus": ["NOPE-1"]}, "skus.0"),
    ({"category": "shoes"}, None),  # skus and category both
    ({"skus": None, "category": "shoes"}, "category"),
    ({"skus": None, "collection": "summer"}, "collection"),
    ({"kind": "fixed", "value": 500}, None),  # fixed without currency
    ({"kind": "fixed", "value": 500, "currency": "JPY"}, "currency"),
    ({"kind": "percent", "value": 100}, None),
    ({"price": 1}, "price"),
    ({"starts_at": "2020-01-01T00:00:00Z", "ends_at": "2020-01-02T00:00:00Z"}, "ends_at"),
])
def test_a_bad_sale_is_a_400_and_nothing_is_scheduled(client, tee, over, param):
    body = {k: v for k, v in sale_body(**over).items() if v is not None}
    answer = client.post("/admin/sales", body, headers=ADMIN)
    assert answer.status_code == 400, answer.data
    assert answer.data["error"]["code"] == "invalid_request"
    if param:
        assert answer.data["error"]["param"] == param
    assert client.get("/admin/sales", headers=ADMIN).data["data"] == []


def test_sales_need_the_admin_key(client):
    assert client.get("/admin/sales").status_code == 401
    assert client.post("/admin/sales", sale_body()).status_code == 401


def test_prices_drop_exactly_at_the_start_and_come_back_exactly_at_the_end(client, tee, at):
    sale = create_sale(client)
    at(START - timedelta(seconds=1))
    assert run(client) == {"started": [], "ended": []}
    assert variant(client, tee["id"])["price"] == 2000
    at(START)
    assert run(client) == {"started": [sale["id"]], "ended": []}
    on = variant(client, tee["id"])
    assert (on["price"], on["compare_at_price"], on["lowest_price_30d"]) == (1600, 2000, 2000)
    assert variant(client, tee["id"], "TEE-M")["price"] == 2000  # not in the sale
    assert "compare_at_price" not in variant(client, tee["id"], "TEE-M")
    assert sale_status(client, sale["id"]) == "active"
    at(END - timedelta(seconds=1))
    assert run(client) == {"started": [], "ended": []}
    assert variant(client, tee["id"])["price"] == 1600
    at(END)
    assert run(client) == {"started": [], "ended": [sale["id"]]}
    off = variant(client, tee["id"])
    assert off["price"] == 2000 and "compare_at_price" not in off and "lowest_price_30d" not in off
    assert sale_status(client, sale["id"]) == "ended"


def test_running_the_schedule_twice_changes_nothing(client, tee, at):
    create_sale(client)
    at(START)
    run(client)
    history = prices.history("TEE-S", until=END, since=START - timedelta(days=60))
    assert run(client) == {"started": [], "ended": []}
    at(START + timedelta(minutes=1))
    assert run(client) == {"started": [], "ended": []}
    assert prices.history("TEE-S", until=END, since=START - timedelta(days=60)) == history
    assert variant(client, tee["id"])["price"] == 1600
    at(END)
    run(client)
    run(client)
    assert variant(client, tee["id"])["price"] == 2000
    reasons = [e["reason"] for e in prices.history("TEE-S", until=END, since=START - timedelta(days=60))]
    assert reasons == ["sale_end", "sale_start", "admin"]


def test_a_schedule_late_by_minutes_catches_up(client, tee, at):
    sale = create_sale(client)
    at(START + timedelta(minutes=7))
    assert run(client)["started"] == [sale["id"]]
    assert variant(client, tee["id"])["price"] == 1600
    at(END + timedelta(minutes=12))
    assert run(client)["ended"] == [sale["id"]]
    assert variant(client, tee["id"])["price"] == 2000


def test_a_sale_the_schedule_missed_entirely_ends_without_lowering_anything(client, tee, at):
    sale = create_sale(client)
    at(END + timedelta(minutes=3))
    assert run(client) == {"started": [], "ended": [sale["id"]]}
    assert sale_status(client, sale["id"]) == "ended"
    reasons = [e["reason"] for e in prices.history("TEE-S", until=END + timedelta(hours=1), since=START)]
    assert reasons == ["admin"]


def test_overlapping_sales_never_stack_the_best_price_wins(client, tee, at):
    ten = create_sale(client, name="Ten", value=10)
    twenty = create_sale(client, name="Twenty", value=20, starts_at=clock.iso(START + timedelta(days=1)),
                         ends_at=clock.iso(START + timedelta(days=2)))
    fixed = create_sale(client, name="Fixed", kind="fixed", value=300, currency="EUR",
                        starts_at=clock.iso(START + timedelta(days=1, hours=1)),
                        ends_at=clock.iso(START + timedelta(days=3)))
    at(START)
    run(client)
    assert variant(client, tee["id"])["price"] == 1800
    at(START + timedelta(days=1))
    run(client)
    assert variant(client, tee["id"])["price"] == 1600  # 20 % beats 10 %: not 1440
    at(START + timedelta(days=1, hours=1))
    run(client)
    assert variant(client, tee["id"])["price"] == 1600  # 20 % (1600) beats 300 off (1700)
    at(START + timedelta(days=2))
    assert run(client)["ended"] == [twenty["id"]]
    on = variant(client, tee["id"])
    assert (on["price"], on["compare_at_price"]) == (1700, 2000)  # 300 off beats 10 % (1800)
    at(START + timedelta(days=3))
    assert run(client)["ended"] == [fixed["id"]]
    assert variant(client, tee["id"])["price"] == 1800
    at(END)
    assert run(client)["ended"] == [ten["id"]]
    assert variant(client, tee["id"])["price"] == 2000


def test_a_fixed_sale_lowers_only_its_currency(client, at):
    at(START - timedelta(days=1))
    body = product_body(price=2000)
    for v in body["variants"]:
        v["prices"] = {"EUR": 2000, "GBP": 1800}
    product = client.post("/admin/products", body, headers=ADMIN).data
    create_sale(client, kind="fixed", value=500, currency="GBP")
    at(START)
    run(client)
    assert variant(client, product["id"])["price"] == 2000
    listed = client.get("/products?currency=GBP").data["data"]
    gbp = next(v for v in listed[0]["variants"] if v["sku"] == "TEE-S")
    assert (gbp["price"], gbp["compare_at_price"], gbp["lowest_price_30d"]) == (1300, 1800, 1800)
    assert variant(client, product["id"])["prices"] == {"EUR": 2000, "GBP": 1300}


def test_the_omnibus_figure_is_the_lowest_price_of_the_30_days_before_the_reduction(client, at):
    at(START - timedelta(days=40))
    product = make_product(client, price=1500)

    def reprice(days: int, price: int) -> None:
        at(START - timedelta(days=days))
        answer = client.put(f"/admin/products/{product['id']}", product_body(price=price), headers=ADMIN)
        assert answer.status_code == 200, answer.data

    reprice(35, 2000)  # 1500 ended before the window opened
    reprice(10, 1800)
    reprice(5, 2500)
    create_sale(client)
    at(START)
    run(client)
    on = variant(client, product["id"])
    assert (on["price"], on["compare_at_price"], on["lowest_price_30d"]) == (2000, 2500, 1800)


def test_the_price_in_force_when_the_window_opens_counts(client, at):
    at(START - timedelta(days=40))
    product = make_product(client, price=1500)
    at(START - timedelta(days=25))
    client.put(f"/admin/products/{product['id']}", product_body(price=2500), headers=ADMIN)
    create_sale(client)
    at(START)
    run(client)
    assert variant(client, product["id"])["lowest_price_30d"] == 1500  # 1500 held from day -30 to -25


def test_an_earlier_sale_within_30_days_sets_the_omnibus_figure(client, tee, at):
    create_sale(client, ends_at=clock.iso(START + timedelta(days=1)), value=50)
    create_sale(client, starts_at=clock.iso(START + timedelta(days=10)), ends_at=clock.iso(START + timedelta(days=11)))
    at(START)
    run(client)
    at(START + timedelta(days=1))
    run(client)
    at(START + timedelta(days=10))
    run(client)
    on = variant(client, tee["id"])
    assert (on["price"], on["lowest_price_30d"]) == (1600, 1000)


def test_an_admin_edit_during_a_sale_sets_the_regular_price_and_keeps_the_sale(client, tee, at):
    create_sale(client)
    at(START)
    run(client)
    at(START + timedelta(hours=1))
    answer = client.put(f"/admin/products/{tee['id']}", product_body(price=3000), headers=ADMIN)
    assert answer.status_code == 200
    on = variant(client, tee["id"])
    assert (on["price"], on["compare_at_price"]) == (2400, 3000)
    at(END)
    run(client)
    off = variant(client, tee["id"])
    assert off["price"] == 3000 and "compare_at_price" not in off
    reasons = [e["reason"] for e in prices.history("TEE-S", until=END, since=START - timedelta(days=60))]
    assert reasons == ["sale_end", "admin", "sale_start", "admin"]


def test_an_edit_of_one_currency_during_a_sale_keeps_the_other_s_regular_price_not_its_sale_price(client, at):
    at(START - timedelta(days=40))
    body = {"title": "Scarf", "variants": [{"sku": "TEE-S", "prices": {"EUR": 2500, "GBP": 2200}, "on_hand": 5}]}
    scarf = client.post("/admin/products", body, headers=ADMIN).data
    create_sale(client)
    at(START)
    run(client)
    at(START + timedelta(hours=1))
    edit = {"title": "Scarf", "variants": [{"sku": "TEE-S", "price": 3000, "currency": "EUR", "on_hand": 5}]}
    assert client.put(f"/admin/products/{scarf['id']}", edit, headers=ADMIN).status_code == 200
    assert variant(client, scarf["id"])["prices"] == {"EUR": 2400, "GBP": 1760}  # 20 % off 3000 and 2200
    at(END)
    run(client)
    assert variant(client, scarf["id"])["prices"] == {"EUR": 3000, "GBP": 2200}


def test_a_category_sale_lowers_every_sku_of_the_category(client, at):
    at(START - timedelta(days=1))
    assert client.post("/admin/categories", {"slug": "shirts", "title": "Shirts"}, headers=ADMIN).status_code == 201
    body = product_body(price=2000) | {"categories": ["shirts"]}
    shirt = client.post("/admin/products", body, headers=ADMIN).data
    other = make_product(client, sku_prefix="MUG", price=1000)
    sale = create_sale(client, skus=None, category="shirts")
    at(START)
    run(client)
    assert [variant(client, shirt["id"], sku)["price"] for sku in ("TEE-S", "TEE-M")] == [1600, 1600]
    assert variant(client, other["id"], "MUG-S")["price"] == 1000
    listed = client.get("/admin/sales", headers=ADMIN).data["data"]
    assert listed[0]["id"] == sale["id"] and sorted(listed[0]["applied_skus"]) == ["TEE-M", "TEE-S"]


def test_a_collection_sale_and_the_on_sale_rule(client, at):
    at(START - timedelta(days=1))
    tee = make_product(client, price=2000)
    mug = make_product(client, sku_prefix="MUG", price=1000, title="Mug")
    assert client.post("/admin/collections", {"slug": "picks", "title": "Picks", "product_ids": [mug["id"]]},
                       headers=ADMIN).status_code == 201
    assert client.post("/admin/collections", {"slug": "deals", "title": "Deals", "rule": {"on_sale": True}},
                       headers=ADMIN).status_code == 201
    create_sale(client, skus=None, collection="picks")
    assert client.get("/products?collection=deals").data["data"] == []
    at(START)
    run(client)
    assert variant(client, mug["id"], "MUG-S")["price"] == 800
    assert variant(client, tee["id"])["price"] == 2000
    assert [p["id"] for p in client.get("/products?collection=deals").data["data"]] == [mug["id"]]
    at(END)
    run(client)
    assert client.get("/products?collection=deals").data["data"] == []


def test_carts_are_repriced_by_the_sale(client, tee, at):
    create_sale(client)
    at(START - timedelta(hours=1))
    cart = client.post("/carts", {}).data
    assert client.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-S", "quantity": 2}).data["subtotal"] == 4000
    at(START)
    run(client)
    assert client.get(f"/carts/{cart['id']}").data["subtotal"] == 3200


def test_the_feeds_show_the_sale_price_and_its_dates_while_it_is_on(client, tee, at):
    from tests.orders_support import Stream
    from tests.search_support import rebuild
    from tests.test_feeds import google_items, meta_rows
    from tests.test_images import _body, add_image

    stream = Stream()
    add_image(client, tee["id"], alt="Front")
    create_sale(client)
    at(START)
    run(client)
    rebuild(client, stream)
    item = next(i for i in google_items(_body(client, "/feeds/google.xml")) if i["id"] == "TEE-S")
    assert (item["price"], item["sale_price"]) == ("20.00 EUR", "16.00 EUR")
    assert item["sale_price_effective_date"] == f"{clock.iso(START)}/{clock.iso(END)}"
    row = next(r for r in meta_rows(_body(client, "/feeds/meta.csv")) if r["id"] == "TEE-S")
    assert row["sale_price"] == "16.00 EUR"
    at(END)
    run(client)
    rebuild(client, stream)
    item = next(i for i in google_items(_body(client, "/feeds/google.xml")) if i["id"] == "TEE-S")
    assert item["price"] == "20.00 EUR" and "sale_price" not in item


def test_an_export_during_a_sale_has_the_regular_prices_and_importing_it_keeps_the_sale(client, tee, at):
    create_sale(client)
    at(START)
    run(client)
    at(START + timedelta(hours=1))
    exported = client.get("/admin/products/export", headers=ADMIN).data["csv"]
    assert f"{tee['id']},T-shirt,Organic cotton.,true,TEE-S,S,2000,EUR,10," in exported.splitlines()
    bumped = exported.replace("TEE-S,S,2000", "TEE-S,S,2500")
    answer = client.post("/admin/products/import", {"csv": bumped}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    on = variant(client, tee["id"])
    assert (on["price"], on["compare_at_price"]) == (2000, 2500)
    latest = prices.history("TEE-S", until=END, since=START)[0]
    assert (latest["reason"], latest["prices"]) == ("import", {"EUR": 2000})


def test_overlapping_runs_and_a_racing_admin_edit_leave_one_consistent_sale_price(moto_server):
    """Against a moto server (HTTP): four runs of the schedule at once (an overlapping Lambda, a retry)
    and an admin price edit racing them, three rounds. Whoever wins each SKU's price_version, the SKU
    ends with the sale applied once, on the admin's new regular price."""
    import threading

    from chalice.test import Client

    from app import app
    from chalicelib.repository import catalog
    from chalicelib.services import sales
    from tests.conftest import Api

    now, sizes = clock.now(), ("S", "M", "L", "XL", "XXL")
    with Client(app, stage_name="test") as raw:
        api = Api(raw)
        for prefix in ("TEE", "POLO", "VEST"):
            product = make_product(api, sku_prefix=prefix, price=2000, sizes=sizes)
            create_sale(api, skus=[f"{prefix}-{size}" for size in sizes],
                        starts_at=clock.iso(now - timedelta(minutes=1)), ends_at=clock.iso(now + timedelta(hours=1)))
            outcomes = []

            def schedule(outcomes=outcomes):
                outcomes.append(sales.run())

            def edit(product_id=product["id"], prefix=prefix, outcomes=outcomes):
                body = product_body(sku_prefix=prefix, price=3000, sizes=sizes)
                outcomes.append(api.put(f"/admin/products/{product_id}", body, headers=ADMIN).status_code)

            threads = [threading.Thread(target=schedule) for _ in range(4)] + [threading.Thread(target=edit)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert 200 in outcomes and len(outcomes) == 5, outcomes
            assert sum(len(o["started"]) for o in outcomes if isinstance(o, dict)) >= 1
            for record in catalog.get_skus([f"{prefix}-{size}" for size in sizes]).values():
                assert (record.sku, record.prices, record.compare_at_prices, len(record.sales)) == (
                    record.sku, {"EUR": 2400}, {"EUR": 3000}, 1)


def test_a_sale_starting_between_an_admin_edit_s_read_and_write_is_kept(client, tee, at, monkeypatch):
    """The race above made certain: the schedule starts the sale right after the edit read the SKUs.
    The edit's write is conditioned on the SKU's price_version, fails, and is priced again."""
    from chalicelib.repository import catalog
    from chalicelib.services import sales

    create_sale(client)
    at(START)
    real, raced = catalog.get_skus, []

    def read_then_race(skus):
        found = real(skus)
        if not raced and "TEE-S" in skus:
            raced.append(True)
            sales.run()
        return found

    monkeypatch.setattr(catalog, "get_skus", read_then_race)
    answer = client.put(f"/admin/products/{tee['id']}", product_body(price=3000), headers=ADMIN)
    assert answer.status_code == 200, answer.data
    assert raced
    on = variant(client, tee["id"])
    assert (on["price"], on["compare_at_price"]) == (2400, 3000)
    assert variant(client, tee["id"], "TEE-M")["price"] == 3000


def test_every_variant_s_price_is_recorded_even_past_one_transaction(client):
    sizes = [f"V{number:02d}" for number in range(50)]  # 50 SKUs + 50 entries + listings: over 100 actions
    make_product(client, sizes=sizes, price=1000)
    now = clock.now()
    for size in (sizes[0], sizes[-1]):
        entries = prices.history(f"TEE-{size}", until=now, since=now - timedelta(days=1))
        assert [(e["reason"], e["prices"]) for e in entries] == [("admin", {"EUR": 1000})]


def test_what_the_schedule_costs_in_aws_calls(client, tee, at):
    """Idle: one Query per edge. Starting a sale of n SKUs: two UpdateItems of the sale (its SKUs fixed,
    started), and per SKU one BatchGetItem, one history Query (Omnibus) and one transaction; ending it:
    one UpdateItem, and per SKU one BatchGetItem and one transaction."""
    from bench.aws_calls import count_calls, watch
    from chalicelib.repository import dynamo

    watch(dynamo.client())  # created before the counter was installed
    at(START - timedelta(hours=1))
    with count_calls() as idle:
        run(client)
    assert idle.by_operation() == {("dynamodb", "Query"): 2}
    create_sale(client, skus=["TEE-S", "TEE-M"])
    at(START)
    with count_calls() as started:
        run(client)
    assert started.by_operation() == {("dynamodb", "Query"): 2 + 2, ("dynamodb", "BatchGetItem"): 2,
                                      ("dynamodb", "TransactWriteItems"): 2, ("dynamodb", "UpdateItem"): 2}
    at(END)
    with count_calls() as ended:
        run(client)
    assert ended.by_operation() == {("dynamodb", "Query"): 2, ("dynamodb", "BatchGetItem"): 2,
                                    ("dynamodb", "TransactWriteItems"): 2, ("dynamodb", "UpdateItem"): 1}
