"""A checkout that straddles the end of a sale: the cart's shown price is charged within
SALE_GRACE_SECONDS of when it was priced, else the cart is priced again and the answer is a 409
price_changed (then a new checkout charges the regular price)."""

from datetime import timedelta

import pytest

from chalicelib import config
from tests.conftest import ADDRESS, ADMIN, make_cart, product_body
from tests.growth_support import at_fixture, scheduled  # noqa: F401
from tests.test_sales import END, START, create_sale

GRACE = 600


@pytest.fixture
def on_sale(shop, at, monkeypatch):
    """TEE-S at 2000, on sale at 1600 until END; a cart with 2 of it priced one minute before the end."""
    monkeypatch.setenv("SALE_GRACE_SECONDS", str(GRACE))
    config.reset()
    at(START - timedelta(days=1))
    assert shop.post("/admin/products", product_body(price=2000), headers=ADMIN).status_code == 201
    create_sale(shop)
    at(START)
    scheduled(shop, "apply_sales")
    at(END - timedelta(minutes=1))
    cart = make_cart(shop)
    shop.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-S", "quantity": 2})
    answer = shop.patch(f"/carts/{cart['id']}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                                 "shipping_method": "standard"})
    assert answer.data["subtotal"] == 3200
    at(END)
    assert scheduled(shop, "apply_sales")["ended"]
    return cart["id"]


def stock(api, sku: str = "TEE-S") -> dict:
    return api.put(f"/admin/inventory/{sku}", {"on_hand": 10}, headers=ADMIN).data


def test_a_checkout_within_the_grace_period_charges_the_price_the_cart_showed(shop, on_sale, at):
    at(END - timedelta(minutes=1) + timedelta(seconds=GRACE))  # exactly the grace after the cart was priced
    answer = shop.post(f"/carts/{on_sale}/checkout")
    assert answer.status_code == 201, answer.data
    order = answer.data["order"]
    assert (order["subtotal"], order["lines"][0]["unit_price"]) == (3200, 1600)
    assert stock(shop)["reserved"] == 2


def test_a_checkout_after_the_grace_period_is_409_price_changed_and_reprices_the_cart(shop, on_sale, at):
    at(END - timedelta(minutes=1) + timedelta(seconds=GRACE + 1))
    answer = shop.post(f"/carts/{on_sale}/checkout")
    assert answer.status_code == 409, answer.data
    assert answer.data["error"]["code"] == "price_changed"
    assert answer.data["error"]["param"] == "lines.0.unit_price"
    assert stock(shop)["reserved"] == 0
    assert shop.get(f"/carts/{on_sale}").data["subtotal"] == 4000
    again = shop.post(f"/carts/{on_sale}/checkout")
    assert again.status_code == 201, again.data
    assert again.data["order"]["subtotal"] == 4000


def test_a_price_that_went_down_is_charged_as_it_is_now(shop, at):
    at(START - timedelta(days=1))
    assert shop.post("/admin/products", product_body(price=2000), headers=ADMIN).status_code == 201
    cart = make_cart(shop)
    shop.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-S", "quantity": 1})
    shop.patch(f"/carts/{cart['id']}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                        "shipping_method": "standard"})
    create_sale(shop)
    at(START + timedelta(days=1))
    scheduled(shop, "apply_sales")
    answer = shop.post(f"/carts/{cart['id']}/checkout")
    assert answer.status_code == 201, answer.data
    assert answer.data["order"]["subtotal"] == 1600


def test_the_grace_holds_for_a_sharded_sku(shop, at, monkeypatch):
    at(START - timedelta(days=1))
    assert shop.post("/admin/products", product_body(price=2000), headers=ADMIN).status_code == 201
    assert shop.put("/admin/inventory/TEE-S", {"on_hand": 10, "shards": 3}, headers=ADMIN).status_code == 200
    create_sale(shop)
    at(START)
    scheduled(shop, "apply_sales")
    at(END - timedelta(seconds=30))
    cart = make_cart(shop)
    shop.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-S", "quantity": 1})
    shop.patch(f"/carts/{cart['id']}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                        "shipping_method": "standard"})
    at(END)
    scheduled(shop, "apply_sales")
    at(END + timedelta(minutes=2))
    answer = shop.post(f"/carts/{cart['id']}/checkout")
    assert answer.status_code == 201, answer.data
    assert answer.data["order"]["subtotal"] == 1600


def test_a_read_of_the_cart_counts_as_pricing_it(shop, at, monkeypatch):
    """A cart filled an hour before the end, read a minute before it: the read recorded what it showed,
    so a checkout three minutes after the end is charged that. A read soon after adds no write."""
    from bench.aws_calls import count_calls, watch
    from chalicelib.repository import dynamo

    monkeypatch.setenv("SALE_GRACE_SECONDS", str(GRACE))
    config.reset()
    at(START - timedelta(days=1))
    assert shop.post("/admin/products", product_body(price=2000), headers=ADMIN).status_code == 201
    create_sale(shop)
    at(START)
    scheduled(shop, "apply_sales")
    at(END - timedelta(hours=1))
    cart = make_cart(shop)
    shop.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-S", "quantity": 1})
    shop.patch(f"/carts/{cart['id']}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                        "shipping_method": "standard"})
    at(END - timedelta(minutes=1))
    watch(dynamo.client())
    with count_calls() as stale_read:
        assert shop.get(f"/carts/{cart['id']}").data["subtotal"] == 1600
    with count_calls() as fresh_read:
        shop.get(f"/carts/{cart['id']}")
    assert stale_read.by_operation()[("dynamodb", "UpdateItem")] == 1
    assert ("dynamodb", "UpdateItem") not in fresh_read.by_operation()
    at(END)
    scheduled(shop, "apply_sales")
    at(END + timedelta(minutes=3))
    answer = shop.post(f"/carts/{cart['id']}/checkout")
    assert answer.status_code == 201, answer.data
    assert answer.data["order"]["subtotal"] == 1600
