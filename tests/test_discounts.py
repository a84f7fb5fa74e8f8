"""Discount codes and buy-X-get-Y promotions: arithmetic, cart feedback, atomic redemption."""

import json
import os
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.models import CartLine, CartRecord, DiscountRecord, SkuRecord
from chalicelib.models.pricing import PricingContext, Promotion, ShippingRate, discount_amount, free_items, price_cart
from tests.conftest import ADMIN, make_product, ready_cart

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
METHODS = (ShippingRate(id="standard", title="Standard", price={"EUR": 500}, free_over={"EUR": 5000}),)
PRICING = PricingContext(shipping_methods=METHODS, tax_rates={}, now=NOW)


def discount(**terms) -> DiscountRecord:
    return DiscountRecord.model_validate({"id": "disc_1", "code": "SAVE", "kind": "percent", "value": 10,
                                          "created_at": NOW} | terms)


def sku(name: str, price: int, available: int = 100) -> SkuRecord:
    return SkuRecord(sku=name, product_id=f"prod_{name}", product_title=name, title="", price=price, currency="EUR",
                     active=True, on_hand=available, available=available)


def cart(lines: dict[str, int], code: str | None = "SAVE") -> CartRecord:
    return CartRecord.model_validate({"id": "cart_1", "currency": "EUR", "lines": [
        {"sku": s, "quantity": q} for s, q in lines.items()], "discount_code": code, "shipping_method": "standard",
        "created_at": NOW, "updated_at": NOW, "expires_at": 2_000_000_000})


# --- pure -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value", "subtotal", "expected"), [
    ("percent", 10, 1999, 200),     # 199.9 rounds half up to 200
    ("percent", 15, 333, 50),       # 49.95 -> 50
    ("percent", 100, 1234, 1234),
    ("fixed", 500, 1999, 500),
    ("fixed", 5000, 1999, 1999),    # never below zero
    ("free_shipping", 0, 1999, 0),
])
def test_discount_arithmetic_in_minor_units(kind, value, subtotal, expected):
    assert discount_amount(discount(kind=kind, value=value, currency="EUR"), subtotal) == expected


def test_free_shipping_zeroes_the_chosen_method_and_percent_discounts_move_the_free_over_threshold():
    skus = {"A": sku("A", 2600)}
    free_ship = price_cart(cart({"A": 1}), skus, discount(kind="free_shipping"), PRICING)
    assert (free_ship.shipping_total, free_ship.discount_total, free_ship.total) == (0, 0, 2600)
    two = price_cart(cart({"A": 2}), skus, None, PRICING)
    assert two.shipping_total == 0  # 5200 >= 5000: free over the threshold
    discounted = price_cart(cart({"A": 2}), skus, discount(value=10), PRICING)
    assert (discounted.discount_total, discounted.shipping_total) == (520, 500)  # 4680 is below the threshold
    assert discounted.total == 5200 - 520 + 500


def test_a_code_that_does_not_apply_says_why_and_discounts_nothing():
    skus = {"A": sku("A", 1000)}
    cases = {
        "discount_expired": discount(ends_at=NOW - timedelta(seconds=1)),
        "discount_not_yet_valid": discount(starts_at=NOW + timedelta(days=1)),
        "discount_minimum_not_reached": discount(min_subtotal=1001, currency="EUR"),
        "discount_used_up": discount(usage_limit=3, times_used=3),
        "discount_currency_mismatch": discount(kind="fixed", value=100, currency="USD"),
    }
    for reason, record in cases.items():
        priced = price_cart(cart({"A": 1}), skus, record, PRICING)
        assert (priced.discount.applied, priced.discount.reason, priced.discount_total) == (False, reason, 0)
    unknown = price_cart(cart({"A": 1}), skus, None, PRICING)
    assert unknown.discount.reason == "discount_unknown"


def test_buy_x_get_y_repeats_per_multiple_up_to_its_cap_and_stock():
    promo = {"id": "p", "buy_sku": "A", "buy_quantity": 2, "get_sku": "B", "get_quantity": 1, "max_free": 2}
    skus = {"A": sku("A", 1000), "B": sku("B", 300, available=5)}

    def free(quantity, **changes):
        paid = [CartLine(sku="A", product_id="p", title="A", quantity=quantity, unit_price=1000,
                         line_total=1000 * quantity)]
        lines = free_items(paid, (Promotion(**promo | changes),), skus, "EUR")
        return [(line.sku, line.quantity, line.unit_price) for line in lines]

    assert free(1) == []
    assert free(2) == [("B", 1, 0)]
    assert free(5) == [("B", 2, 0)]
    assert free(9) == [("B", 2, 0)]                      # capped
    assert free(9, max_free=None) == [("B", 4, 0)]
    assert free(20, max_free=None) == [("B", 5, 0)]      # never more than is in stock
    same = {"id": "q", "buy_sku": "A", "buy_quantity": 2, "get_sku": "A", "get_quantity": 1}
    priced = price_cart(cart({"A": 4}, code=None), skus, None, replace(PRICING, promotions=(Promotion(**same),)))
    assert [(line.sku, line.quantity, line.line_total, line.free) for line in priced.lines] == [
        ("A", 4, 4000, False), ("A", 2, 0, True)]
    assert priced.subtotal == 4000


# --- through the API --------------------------------------------------------------------------


def create_code(api, **terms) -> dict:
    answer = api.post("/admin/discounts", {"code": "SAVE10", "kind": "percent", "value": 10} | terms, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def test_admin_creates_and_lists_codes(client):
    created = create_code(client, usage_limit=5, min_subtotal=1000, currency="EUR")
    assert created["id"].startswith("disc_") and created["code"] == "SAVE10" and created["times_used"] == 0
    assert client.post("/admin/discounts", {"code": "save10", "kind": "percent", "value": 5},
                       headers=ADMIN).status_code == 409
    for bad in ({"code": "X", "kind": "percent", "value": 5}, {"code": "OK1", "kind": "percent", "value": 101},
                {"code": "OK2", "kind": "fixed", "value": 100}, {"code": "OK3", "kind": "bogus", "value": 1},
                {"code": "OK4", "kind": "percent", "value": 5, "times_used": 3}):
        assert client.post("/admin/discounts", bad, headers=ADMIN).status_code == 400, bad
    listed = client.get("/admin/discounts", headers=ADMIN).data
    assert [d["code"] for d in listed["data"]] == ["SAVE10"] and listed["next_cursor"] is None
    assert client.get("/admin/discounts").status_code == 401


def test_a_cart_shows_the_discount_and_explains_refusals(client):
    make_product(client, price=2000)
    create_code(client, min_subtotal=3000, currency="EUR")
    create_code(client, code="LATER", starts_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    create_code(client, code="GONE", ends_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    the_cart = ready_cart(client, {"TEE-M": 1})
    path = f"/carts/{the_cart['id']}"
    cases = {"NOPE": (400, "discount_unknown"), "save10": (409, "discount_minimum_not_reached"),
             "LATER": (409, "discount_not_yet_valid"), "GONE": (409, "discount_expired")}
    for code, (status, reason) in cases.items():
        answer = client.patch(path, {"discount_code": code})
        assert (answer.status_code, answer.data["error"]["code"], answer.data["error"]["param"]) == (
            status, reason, "discount_code")
    client.post(f"{path}/lines", {"sku": "TEE-M", "quantity": 1})
    applied = client.patch(path, {"discount_code": "save10"}).data
    assert (applied["discount_code"], applied["discount_total"]) == ("SAVE10", 400)
    assert applied["discount"]["applied"]
    assert applied["total"] == 4000 - 400 + applied["shipping_total"] + applied["tax_total"]
    reduced = client.patch(f"{path}/lines/TEE-M", {"quantity": 1}).data
    assert (reduced["discount_total"], reduced["discount"]["reason"]) == (0, "discount_minimum_not_reached")
    assert client.patch(path, {"discount_code": None}).data["discount"] is None


def test_checkout_counts_a_use_and_an_expired_unpaid_order_gives_it_back(shop, monkeypatch):
    from chalicelib import clock
    from chalicelib.services import orders

    make_product(shop, on_hand=10)
    create_code(shop, usage_limit=1)
    first = ready_cart(shop, {"TEE-M": 1})
    shop.patch(f"/carts/{first['id']}", {"discount_code": "SAVE10"})
    order = shop.post(f"/carts/{first['id']}/checkout").data["order"]
    assert (order["discount_code"], order["discount_total"]) == ("SAVE10", 200)
    assert shop.get("/admin/discounts", headers=ADMIN).data["data"][0]["times_used"] == 1
    second = ready_cart(shop, {"TEE-S": 1})
    refused = shop.patch(f"/carts/{second['id']}", {"discount_code": "SAVE10"})
    assert refused.data["error"]["code"] == "discount_used_up"
    moment = clock.now() + timedelta(minutes=31)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert orders.expire_unpaid() == 1
    assert shop.get("/admin/discounts", headers=ADMIN).data["data"][0]["times_used"] == 0
    assert shop.patch(f"/carts/{second['id']}", {"discount_code": "SAVE10"}).status_code == 200


def test_a_per_customer_limit_counts_by_email(shop):
    make_product(shop, on_hand=10)
    create_code(shop, per_customer_limit=1)
    for email, expected in (("ada@example.com", 201), ("ADA@example.com ", 409), ("bob@example.com", 201)):
        the_cart = ready_cart(shop, {"TEE-M": 1}, email=email.strip())
        assert shop.patch(f"/carts/{the_cart['id']}", {"discount_code": "SAVE10"}).status_code == 200
        answer = shop.post(f"/carts/{the_cart['id']}/checkout")
        assert answer.status_code == expected, answer.data
        if expected == 409:
            assert answer.data["error"]["code"] == "discount_used_up"


def test_buy_x_get_y_adds_the_free_item_and_reserves_it(shop, monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("PROMOTIONS", json.dumps([{"id": "socks", "buy_sku": "TEE-M", "buy_quantity": 2,
                                                  "get_sku": "SOCKS-ONE", "get_quantity": 1}]))
    config.reset()
    make_product(shop, on_hand=10)
    make_product(shop, sku_prefix="SOCKS", sizes=("ONE",), price=500, on_hand=3, title="Socks")
    the_cart = ready_cart(shop, {"TEE-M": 4})
    assert [(line["sku"], line["quantity"], line["unit_price"], line["free"]) for line in the_cart["lines"]] == [
        ("TEE-M", 4, 1999, False), ("SOCKS-ONE", 2, 0, True)]
    result = shop.post(f"/carts/{the_cart['id']}/checkout").data
    assert [line["sku"] for line in result["order"]["lines"]] == ["TEE-M", "SOCKS-ONE"]
    from tests.test_checkout import stock

    assert stock("SOCKS-ONE") == {"on_hand": 3, "reserved": 2, "available": 1}
    assert result["order"]["subtotal"] == 4 * 1999


def test_concurrent_redemptions_of_a_limited_code_never_exceed_its_limit(moto_server, localstripe):
    from chalice.test import Client

    from app import app
    from chalicelib.errors import CommerceError
    from chalicelib.services import checkout
    from tests.conftest import Api
    from tests.orders_support import use_localstripe

    use_localstripe(localstripe)
    limit, buyers = 3, 8
    with Client(app, stage_name="test") as raw:
        api = Api(raw)
        make_product(api, on_hand=100)
        create_code(api, usage_limit=limit)
        carts = []
        for _ in range(buyers):
            the_cart = ready_cart(api, {"TEE-M": 1})
            assert api.patch(f"/carts/{the_cart['id']}", {"discount_code": "SAVE10"}).status_code == 200
            carts.append(the_cart["id"])
    outcomes = []

    def buy(cart_id):
        try:
            outcomes.append(("ok", checkout.complete(cart_id).order.discount_total))
        except CommerceError as error:
            outcomes.append((error.code, None))

    threads = [threading.Thread(target=buy, args=(cart_id,)) for cart_id in carts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o[0] for o in outcomes).count("ok") == limit, outcomes
    assert {o[0] for o in outcomes} == {"ok", "discount_used_up"}
    from chalicelib.repository import discounts

    assert discounts.get("SAVE10").times_used == limit
    assert os.environ["AWS_ENDPOINT_URL"]
