"""Prices per currency: a variant's `prices` beside its default `price`/`currency`, carts taking only
SKUs priced in their currency, and records written before `prices` existed."""

import os

import boto3

from tests.conftest import ADMIN, make_cart


def euro_and_pound(sku: str = "SCARF", **variant) -> dict:
    return {"title": "Scarf", "variants": [{"sku": sku, "title": "", "prices": {"EUR": 2500, "GBP": 2200},
                                            "on_hand": 5} | variant]}


def test_prices_alone_take_the_default_currency_as_price_and_currency(client):
    answer = client.post("/admin/products", euro_and_pound(), headers=ADMIN)

    assert answer.status_code == 201, answer.data
    assert answer.data["variants"][0] | {"available": 5} == {
        "sku": "SCARF", "title": "", "price": 2500, "currency": "EUR", "prices": {"EUR": 2500, "GBP": 2200},
        "available": 5}


def test_price_and_currency_with_prices_name_the_default(client):
    answer = client.post("/admin/products", euro_and_pound(price=2200, currency="GBP"), headers=ADMIN)

    assert answer.status_code == 201, answer.data
    variant = answer.data["variants"][0]
    assert (variant["price"], variant["currency"], variant["prices"]) == (2200, "GBP", {"EUR": 2500, "GBP": 2200})


def test_a_replace_giving_one_currency_s_price_keeps_the_others_and_prices_replaces_them_all(client):
    """The back office's editor and the CSV import give `price` + `currency` only: a shop's pound price must
    survive an edit of its euro price."""
    product = client.post("/admin/products", euro_and_pound(), headers=ADMIN).data
    one = {"title": "Scarf", "variants": [{"sku": "SCARF", "price": 2600, "currency": "EUR", "on_hand": 5}]}

    kept = client.put(f"/admin/products/{product['id']}", one, headers=ADMIN)
    assert kept.status_code == 200, kept.data
    assert kept.data["variants"][0]["prices"] == {"EUR": 2600, "GBP": 2200}

    replaced = client.put(f"/admin/products/{product['id']}", {"title": "Scarf", "variants": [
        {"sku": "SCARF", "prices": {"EUR": 2700}, "on_hand": 5}]}, headers=ADMIN)
    assert replaced.data["variants"][0]["prices"] == {"EUR": 2700}


def test_a_price_that_contradicts_prices_is_a_400_naming_the_variant(client):
    answer = client.post("/admin/products", euro_and_pound(price=1000, currency="GBP"), headers=ADMIN)

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "variants.0"
    assert "GBP" in answer.data["error"]["message"]


def test_a_price_in_a_currency_the_shop_does_not_sell_in_is_a_400_and_writes_nothing(client):
    body = euro_and_pound()
    body["variants"][0]["prices"]["JPY"] = 400

    answer = client.post("/admin/products", body, headers=ADMIN)

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "variants.0.prices.JPY"
    assert client.get("/products").data["data"] == []


def test_neither_price_nor_prices_is_a_400(client):
    answer = client.post("/admin/products", {"title": "x", "variants": [{"sku": "X", "on_hand": 1}]}, headers=ADMIN)

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "variants.0"


def test_products_in_a_currency_show_that_price_and_leave_out_variants_not_priced_in_it(client):
    client.post("/admin/products", euro_and_pound(), headers=ADMIN)
    client.post("/admin/products", {"title": "Hat", "variants": [
        {"sku": "HAT", "price": 900, "currency": "EUR", "on_hand": 1}]}, headers=ADMIN)

    pounds = client.get("/products?currency=GBP").data["data"]
    dollars = client.get("/products?currency=USD").data["data"]

    by_title = {p["title"]: p["variants"] for p in pounds}
    assert [(v["price"], v["currency"]) for v in by_title["Scarf"]] == [(2200, "GBP")]
    assert by_title["Hat"] == []
    assert all(p["variants"] == [] for p in dollars)
    assert client.get("/products?currency=gbp").status_code == 400


def test_a_cart_takes_a_sku_at_its_price_in_the_cart_currency(client):
    client.post("/admin/products", euro_and_pound(), headers=ADMIN)
    cart = make_cart(client, currency="GBP")

    answer = client.post(f"/carts/{cart['id']}/lines", {"sku": "SCARF", "quantity": 2})

    assert answer.status_code == 200, answer.data
    assert (answer.data["lines"][0]["unit_price"], answer.data["subtotal"]) == (2200, 4400)


def test_a_cart_refuses_a_sku_not_priced_in_its_currency_naming_sku_and_currency(client):
    client.post("/admin/products", euro_and_pound(), headers=ADMIN)
    cart = make_cart(client, currency="USD")

    answer = client.post(f"/carts/{cart['id']}/lines", {"sku": "SCARF", "quantity": 1})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "currency_mismatch"
    assert answer.data["error"]["param"] == "sku"
    assert "SCARF" in answer.data["error"]["message"] and "USD" in answer.data["error"]["message"]
    assert client.get(f"/carts/{cart['id']}").data["lines"] == []


def test_a_record_written_before_prices_existed_reads_as_its_one_price(client):
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    product = client.post("/admin/products", {"title": "Old", "variants": [
        {"sku": "OLD", "price": 700, "currency": "EUR", "on_hand": 3}]}, headers=ADMIN).data
    table.update_item(Key={"PK": "SKU#OLD", "SK": "SKU"}, UpdateExpression="REMOVE prices")
    cart = make_cart(client, currency="EUR")

    shown = client.get(f"/products/{product['id']}").data["variants"][0]
    added = client.post(f"/carts/{cart['id']}/lines", {"sku": "OLD", "quantity": 1})

    assert (shown["price"], shown["prices"]) == (700, {"EUR": 700})
    assert added.data["subtotal"] == 700
    assert client.post(f"/carts/{make_cart(client, currency='GBP')['id']}/lines",
                       {"sku": "OLD", "quantity": 1}).status_code == 400


def test_a_cart_in_another_currency_checks_out_at_that_price_sharded_or_not(shop):
    from tests.conftest import ADDRESS

    for sku, shards in (("SCARF", None), ("HOT", 3)):
        assert shop.post("/admin/products", euro_and_pound(sku), headers=ADMIN).status_code == 201
        if shards:
            answer = shop.put(f"/admin/inventory/{sku}", {"on_hand": 5, "shards": shards}, headers=ADMIN)
            assert answer.status_code == 200, answer.data
        cart = make_cart(shop, currency="GBP")
        shop.post(f"/carts/{cart['id']}/lines", {"sku": sku, "quantity": 2})
        shop.patch(f"/carts/{cart['id']}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                            "shipping_method": "standard"})

        answer = shop.post(f"/carts/{cart['id']}/checkout")

        assert answer.status_code == 201, answer.data
        order = answer.data["order"]
        assert (order["currency"], order["subtotal"], order["lines"][0]["unit_price"]) == ("GBP", 4400, 2200)
