"""Bought-together recommendations, learned by the stream relay from paid orders."""

from datetime import timedelta

import pytest

from bench.aws_calls import count_calls
from chalicelib import clock
from chalicelib.repository import recommendations
from tests.conftest import ADMIN, make_product, product_body
from tests.growth_support import at_fixture, buy, relay  # noqa: F401
from tests.orders_support import Stream


@pytest.fixture
def products(at):
    """products(api, *names): one product per name, SKU `<NAME>-ONE`, 10 in stock at 6000 (free
    shipping), created a minute apart in the order given (the newest last)."""
    start = clock.now()
    made = []

    def make(api, *names: str) -> dict[str, dict]:
        found = {}
        for name in names:
            at(start + timedelta(minutes=len(made)))
            found[name] = make_product(api, sku_prefix=name.upper(), title=name, sizes=("ONE",), price=6000)
            made.append(name)
        at(None)
        return found
    return make


def recommended(api, product: dict) -> list[str]:
    answer = api.get(f"/products/{product['id']}/recommendations")
    assert answer.status_code == 200, answer.data
    return [p["title"] for p in answer.data["data"]]


def test_products_bought_together_most_often_come_first(shop, products):
    stream = Stream()
    catalogue = products(shop, "a", "b", "c", "d", "e", "f")
    for basket in ({"A-ONE": 1, "B-ONE": 1}, {"A-ONE": 1, "B-ONE": 2, "C-ONE": 1}, {"A-ONE": 1, "C-ONE": 1},
                   {"A-ONE": 1, "B-ONE": 1}, {"D-ONE": 1, "E-ONE": 1}):
        buy(shop, basket)
    buy(shop, {"A-ONE": 1, "F-ONE": 1}, paid=False)  # never paid: teaches nothing
    records = relay(shop, stream)
    relay_again = {"Records": records}
    shop.raw.lambda_.invoke("on_table_change", relay_again)  # the stream delivers again: counted once

    assert recommendations.bought_with(catalogue["a"]["id"])[1] == {catalogue["b"]["id"]: 3, catalogue["c"]["id"]: 2}
    assert recommendations.bought_with(catalogue["c"]["id"])[1] == {catalogue["a"]["id"]: 2, catalogue["b"]["id"]: 1}
    # B and C from the orders, then the newest other products while the data runs short.
    assert recommended(shop, catalogue["a"]) == ["b", "c", "f", "e"]
    assert recommended(shop, catalogue["d"]) == ["e", "f", "c", "b"]
    answer = shop.get(f"/products/{catalogue['a']['id']}/recommendations").data["data"][0]
    assert answer["variants"] == [{"sku": "B-ONE", "title": "ONE", "price": 6000, "currency": "EUR",
                                   "prices": {"EUR": 6000}, "available": 6}]


def test_a_product_with_enough_data_costs_a_query_and_two_batch_reads(shop, products):
    stream = Stream()
    catalogue = products(shop, "a", "b", "c", "d", "e", "f")
    buy(shop, {"A-ONE": 1, "B-ONE": 1, "C-ONE": 1, "D-ONE": 1, "E-ONE": 1})
    buy(shop, {"A-ONE": 1, "E-ONE": 1})
    relay(shop, stream)

    with count_calls() as calls:
        found = recommended(shop, catalogue["a"])

    assert found[0] == "e" and sorted(found[1:]) == ["b", "c", "d"]  # bought with A twice, then once (ties by id)

    # The product and its counters (one Query), the candidates, their variants' stock.
    assert calls.by_operation() == {("dynamodb", "Query"): 1, ("dynamodb", "BatchGetItem"): 2}


def test_a_new_product_gets_the_newest_other_active_products(client, products):
    catalogue = products(client, "a", "b", "c", "d", "e")
    client.put(f"/admin/products/{catalogue['e']['id']}", product_body(sku_prefix="E", sizes=("ONE",), active=False,
                                                                        title="e"), headers=ADMIN)
    new = products(client, "new")["new"]

    assert recommended(client, new) == ["d", "c", "b", "a"]
    assert recommended(client, catalogue["a"]) == ["new", "d", "c", "b"]


def test_an_inactive_product_bought_with_it_is_left_out(shop, products):
    stream = Stream()
    catalogue = products(shop, "a", "b", "c")
    buy(shop, {"A-ONE": 1, "B-ONE": 1})
    buy(shop, {"A-ONE": 1, "B-ONE": 1, "C-ONE": 1})
    relay(shop, stream)
    shop.put(f"/admin/products/{catalogue['b']['id']}", product_body(sku_prefix="B", sizes=("ONE",), active=False,
                                                                      title="b"), headers=ADMIN)

    assert recommended(shop, catalogue["a"]) == ["c"]


def test_unknown_and_inactive_products_have_no_recommendations(client):
    hidden = make_product(client, sku_prefix="HID", active=False)

    for product_id in ("prod_unknown", hidden["id"]):
        answer = client.get(f"/products/{product_id}/recommendations")
        assert (answer.status_code, answer.data["error"]["code"]) == (404, "resource_missing")
