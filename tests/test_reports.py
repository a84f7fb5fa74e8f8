"""The sales report: daily counters kept by the stream relay from committed changes, once per change
however often the stream delivers it, read per currency with a Query per month."""

from datetime import date, timedelta

from bench.aws_calls import count_calls
from chalicelib import clock
from chalicelib.counters import Tally
from chalicelib.repository import recommendations, reports
from tests.conftest import ADMIN, make_cart, make_product
from tests.growth_support import at_fixture, buy, refund, relay  # noqa: F401
from tests.orders_support import Stream


def report(api, start: date, end: date, **params):
    query = "&".join(f"{k}={v}" for k, v in ({"from": start, "to": end} | params).items())
    return api.get(f"/admin/reports/sales?{query}", headers=ADMIN)


def catalogue(api) -> dict:
    return {
        "tee": make_product(api, sku_prefix="TEE", price=2500, on_hand=50),
        "mug": make_product(api, sku_prefix="MUG", price=1000, on_hand=50, sizes=("ONE",), title="Mug"),
        "hat": make_product(api, sku_prefix="HAT", price=4000, on_hand=50, sizes=("ONE",), title="Hat",
                            currency="USD"),
    }


def test_the_report_sums_paid_orders_refunds_and_carts_per_currency_and_day(shop, at):
    stream = Stream()
    products = catalogue(shop)
    today = clock.now().date()
    yesterday = today - timedelta(days=1)

    at(clock.now() - timedelta(days=1))
    buy(shop, {"TEE-M": 2})                            # EUR 5000 (free shipping from 5000), 2 units
    at(None)
    second = buy(shop, {"TEE-S": 2, "MUG-ONE": 1})     # EUR 6000, 3 units
    buy(shop, {"MUG-ONE": 1}, paid=False)              # EUR 1495, never paid: not counted
    make_cart(shop)                                    # an EUR cart nobody checks out
    buy(shop, {"HAT-ONE": 2}, currency="USD")          # USD 8000, 2 units
    refund(shop, second, 1000)                         # EUR 1000 back, today
    assert second["order"]["total"] == 6000
    records = relay(shop, stream)

    eur = report(shop, yesterday, today)
    assert eur.status_code == 200, eur.data
    figures = {k: v for k, v in eur.data.items() if k not in ("top_products", "by_day")}
    assert figures == {
        "currency": "EUR", "from": yesterday.isoformat(), "to": today.isoformat(),
        "orders": 2, "revenue": 11000, "average_order_value": 5500, "units": 5, "carts_created": 4,
        "conversion_rate": 0.5, "recovered_revenue": 0, "winback_revenue": 0, "refunds": 1000,
        "amount_paid": {"provider": 11000, "gift_card": 0, "store_credit": 0},
    }
    assert eur.data["top_products"] == [
        {"product_id": products["tee"]["id"], "title": "T-shirt", "units": 4, "revenue": 10000},
        {"product_id": products["mug"]["id"], "title": "Mug", "units": 1, "revenue": 1000},
    ]
    assert eur.data["by_day"] == [
        {"date": yesterday.isoformat(), "orders": 1, "revenue": 5000, "units": 2, "carts_created": 1,
         "recovered_revenue": 0, "winback_revenue": 0, "refunds": 0, "paid_provider": 5000, "paid_gift_card": 0,
         "paid_store_credit": 0},
        {"date": today.isoformat(), "orders": 1, "revenue": 6000, "units": 3, "carts_created": 3,
         "recovered_revenue": 0, "winback_revenue": 0, "refunds": 1000, "paid_provider": 6000, "paid_gift_card": 0,
         "paid_store_credit": 0},
    ]

    usd = report(shop, yesterday, today, currency="USD").data
    assert (usd["orders"], usd["revenue"], usd["units"], usd["carts_created"], usd["conversion_rate"]) == (
        1, 8000, 2, 1, 1.0)
    assert usd["top_products"] == [{"product_id": products["hat"]["id"], "title": "Hat", "units": 2, "revenue": 8000}]

    # The stream delivers again (a retried batch): nothing is counted twice.
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})
    shop.raw.lambda_.invoke("on_table_change", {"Records": records[len(records) // 2:]})
    assert report(shop, yesterday, today).data == eur.data
    assert report(shop, yesterday, today, currency="USD").data == usd


def test_days_without_sales_are_zero_and_an_empty_report_has_no_conversion_rate(client):
    start = date(2025, 2, 27)
    answer = report(client, start, date(2025, 3, 2))
    assert answer.status_code == 200, answer.data
    assert [day["date"] for day in answer.data["by_day"]] == ["2025-02-27", "2025-02-28", "2025-03-01", "2025-03-02"]
    assert {day["orders"] for day in answer.data["by_day"]} == {0}
    assert (answer.data["orders"], answer.data["average_order_value"], answer.data["conversion_rate"],
            answer.data["top_products"]) == (0, 0, None, [])


def test_a_30_day_report_reads_one_query_per_month_and_one_batch_of_titles(client):
    make_product(client)
    cart = make_cart(client)
    client.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 1})
    product_id = client.get(f"/carts/{cart['id']}").data["lines"][0]["product_id"]
    day = date(2025, 1, 20)
    reports.apply(Tally("test.sale", days={("EUR", day): {"orders": 1, "revenue": 1999, "units": 1}},
                        products={("EUR", day, product_id): {"units": 1, "revenue": 1999}}))

    with count_calls() as calls:
        answer = report(client, date(2025, 1, 10), date(2025, 2, 8))

    assert answer.status_code == 200 and answer.data["revenue"] == 1999
    assert answer.data["top_products"][0]["title"] == "T-shirt"
    # January and February: one Query each; the titles of the top products: one BatchGetItem.
    assert calls.by_operation() == {("dynamodb", "Query"): 2, ("dynamodb", "BatchGetItem"): 1}


def test_a_tally_larger_than_one_transaction_is_applied_in_chunks_each_once(aws):
    pairs = {(f"prod_{a:02}", f"prod_{b:02}"): 1 for a in range(16) for b in range(16) if a != b}  # 240
    tally = Tally("test.big", pairs=pairs)

    assert reports.apply(tally) == 3  # 240 counters: 99 + 99 + 42, a marker with each chunk
    assert reports.apply(tally) == 0  # delivered again: every chunk was counted already

    assert recommendations.bought_with("prod_00")[1] == {f"prod_{b:02}": 1 for b in range(1, 16)}


def test_the_report_checks_its_parameters_and_its_caller(client):
    cases = [
        ({"from": "2025-02-30", "to": "2025-03-01"}, "from"),
        ({"from": "2025-03-01", "to": "tomorrow"}, "to"),
        ({"from": "2025-3-1", "to": "2025-03-01"}, "from"),
        ({"from": "2025-03-02", "to": "2025-03-01"}, "from"),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "to"),  # 367 days
        ({"from": "2025-03-01", "to": "2025-03-01", "currency": "JPY"}, "currency"),
    ]
    for params, param in cases:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        answer = client.get(f"/admin/reports/sales?{query}", headers=ADMIN)
        assert (answer.status_code, answer.data["error"]["param"]) == (400, param), params
    assert report(client, date(2024, 1, 1), date(2024, 12, 31)).status_code == 200  # 366 days
    assert client.get("/admin/reports/sales").status_code == 401
    default = client.get("/admin/reports/sales", headers=ADMIN).data
    assert (default["currency"], len(default["by_day"]), default["to"]) == ("EUR", 30, clock.now().date().isoformat())


def test_dates_out_of_the_calendar_or_malformed_are_a_400_naming_the_param(client):
    cases = [
        ("to=0001-01-01", "to"),  # its default `from` would be before the first day there is
        ("from=9999-12-31&to=9999-12-31", "to"),
        ("from=0001-01-01&to=0001-01-02", "to"),
        ("from=0001-01-01&to=2025-01-01", "from"),
        ("to=9999-99-99", "to"),
        ("from=20250101&to=2025-01-02", "from"),
        ("to=1700000000", "to"),
        ("from=2025-01-01T00:00:00&to=2025-01-02", "from"),
    ]
    for query, param in cases:
        answer = client.get(f"/admin/reports/sales?{query}", headers=ADMIN)
        assert answer.status_code == 400, (query, answer.status_code, answer.data)
        assert (answer.data["error"]["code"], answer.data["error"]["param"]) == ("invalid_request", param), query
