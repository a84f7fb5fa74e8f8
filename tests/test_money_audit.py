"""Where two money features meet, the shop never gives back more than it took: a free promotional unit of a
SKU that is also bought, a refund the provider reports that we did not make, a support user's refund limit
split over many refunds."""

import json

import pytest

from chalicelib.repository import orders
from tests.conftest import make_product
from tests.test_returns import admin, ask, line, shipped_order


@pytest.fixture
def bogo(shop, monkeypatch):
    """Buy one shirt, get a second of the same size free."""
    from chalicelib import config

    monkeypatch.setenv("PROMOTIONS", json.dumps([{"id": "twofer", "buy_sku": "TEE-M", "buy_quantity": 1,
                                                  "get_sku": "TEE-M", "get_quantity": 1}]))
    config.reset()
    make_product(shop, on_hand=10, price=6000)
    return shop


def test_returning_one_of_a_bought_and_a_free_unit_of_a_sku_gives_back_half_not_the_full_price(bogo, localstripe):
    api = bogo
    result = shipped_order(api, {"TEE-M": 1}, localstripe)
    order = result["order"]
    assert [(x["sku"], x["quantity"], x["unit_price"]) for x in order["lines"]] == [("TEE-M", 1, 6000),
                                                                                   ("TEE-M", 1, 0)]
    goods = order["total"] - order["shipping_total"]  # one shirt's price and its tax, for two shirts

    first = ask(api, result, [line(quantity=1)]).data
    assert admin(api, first["id"], "approve").status_code == 200
    refunded = admin(api, first["id"], "refund", {"method": "original"})
    assert refunded.status_code == 200, refunded.data
    # Two units were bought for `goods`: one sent back is worth half (Shopify's discounted unit price).
    assert refunded.data["refund"]["amount"] == goods // 2

    second = ask(api, result, [line(quantity=1)]).data
    assert admin(api, second["id"], "approve").status_code == 200
    rest = admin(api, second["id"], "refund", {"method": "original"})
    assert rest.status_code == 200 and rest.data["refund"]["amount"] == goods // 2
    assert orders.get(order["id"]).amount_refunded == 2 * (goods // 2) <= goods
