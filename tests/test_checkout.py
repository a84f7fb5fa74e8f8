"""Checkout through the API against moto and localstripe."""

import os

import boto3
import requests

from tests.conftest import ADMIN, make_cart, make_product, ready_cart
from tests.orders_support import checked_out


def stock(sku: str) -> dict:
    """The stored stock counters of a SKU, read straight from the table."""
    item = boto3.client("dynamodb").get_item(TableName=os.environ["TABLE_NAME"],
                                             Key={"PK": {"S": f"SKU#{sku}"}, "SK": {"S": "SKU"}})["Item"]
    return {k: int(item[k]["N"]) for k in ("on_hand", "reserved", "available")}


def test_checkout_writes_the_order_reserves_stock_and_creates_a_payment(shop, localstripe):
    make_product(shop, on_hand=5)
    result = checked_out(shop, {"TEE-M": 2, "TEE-S": 1})
    order = result["order"]
    assert order["id"].startswith("ord_") and len(order["id"]) == 36
    assert (order["status"], order["payment_status"], order["fulfilment_status"]) == (
        "pending_payment", "pending", "unfulfilled")
    assert order["subtotal"] == 3 * 1999 and order["total"] == order["subtotal"] + order["shipping_total"] + \
        order["tax_total"]
    assert [line["quantity"] for line in order["lines"]] == [2, 1]
    assert result["payment"]["provider"] == "stripe" and result["payment"]["client_secret"].startswith("pi_")
    assert result["payment"]["publishable_key"] == "pk_test_commerce"
    assert stock("TEE-M") == {"on_hand": 5, "reserved": 2, "available": 3}
    intent_id = result["payment"]["client_secret"].split("_secret_")[0]
    pi = requests.get(f"{localstripe}/v1/payment_intents/{intent_id}", auth=("sk_test_commerce", ""), timeout=5).json()
    assert (pi["amount"], pi["currency"], pi["metadata"]["order_id"]) == (order["total"], "eur", order["id"])


def test_the_cart_is_retired_by_checkout(shop):
    make_product(shop)
    cart = ready_cart(shop, {"TEE-M": 1})
    first = shop.post(f"/carts/{cart['id']}/checkout")
    after = shop.get(f"/carts/{cart['id']}").data
    assert after["status"] == "checked_out" and after["order_id"] == first.data["order"]["id"]
    assert shop.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 1}).data["error"]["code"] == \
        "cart_checked_out"


def test_checking_out_twice_returns_the_same_order_and_payment(shop):
    make_product(shop, on_hand=5)
    cart = ready_cart(shop, {"TEE-M": 2})
    first = shop.post(f"/carts/{cart['id']}/checkout")
    second = shop.post(f"/carts/{cart['id']}/checkout")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.data["order"]["id"] == first.data["order"]["id"]
    assert second.data["order_token"] == first.data["order_token"]
    assert second.data["payment"]["client_secret"] == first.data["payment"]["client_secret"]
    assert stock("TEE-M")["reserved"] == 2


def test_a_short_line_reserves_nothing_and_names_the_line(shop):
    make_product(shop, on_hand=5)
    make_product(shop, sku_prefix="MUG", on_hand=1, sizes=("ONE",), title="Mug")
    cart = ready_cart(shop, {"TEE-M": 2, "MUG-ONE": 1})
    shop.put("/admin/inventory/MUG-ONE", {"on_hand": 0}, headers=ADMIN)
    answer = shop.post(f"/carts/{cart['id']}/checkout")
    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "out_of_stock" and answer.data["error"]["param"] == "lines.1.quantity"
    assert stock("TEE-M") == {"on_hand": 5, "reserved": 0, "available": 5}
    assert shop.get(f"/carts/{cart['id']}").data["status"] == "open"


def test_checkout_names_what_is_missing(shop):
    make_product(shop)
    cart = make_cart(shop)
    assert shop.post(f"/carts/{cart['id']}/checkout").data["error"]["param"] == "lines"
    shop.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 1})
    assert shop.post(f"/carts/{cart['id']}/checkout").data["error"]["param"] == "email"
    shop.patch(f"/carts/{cart['id']}", {"email": "a@example.com"})
    assert shop.post(f"/carts/{cart['id']}/checkout").data["error"]["param"] == "shipping_address"
    shop.patch(f"/carts/{cart['id']}", {"shipping_address": {"name": "A", "line1": "1", "city": "B",
                                                             "postal_code": "1", "country": "DE"}})
    answer = shop.post(f"/carts/{cart['id']}/checkout")
    assert (answer.status_code, answer.data["error"]["param"]) == (400, "shipping_method")


def test_checkout_of_an_unknown_cart_is_404(shop):
    assert shop.post("/carts/cart_0123456789abcdef0123456789abcdef/checkout").status_code == 404


def test_checkout_rejects_unknown_fields(shop):
    make_product(shop)
    cart = ready_cart(shop, {"TEE-M": 1})
    answer = shop.post(f"/carts/{cart['id']}/checkout", {"total": 1})
    assert (answer.status_code, answer.data["error"]["param"]) == (400, "total")


def test_when_stripe_is_down_nothing_is_placed_and_a_retry_places_the_order_with_its_payment(shop, localstripe):
    make_product(shop, on_hand=5)
    cart = ready_cart(shop, {"TEE-M": 1})
    from chalicelib import config

    os.environ["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    config.reset()
    failed = shop.post(f"/carts/{cart['id']}/checkout")
    assert failed.status_code == 502 and failed.data["error"]["code"] == "upstream_unavailable"
    # The payment comes first and the order is written with it: nothing was placed or reserved.
    assert stock("TEE-M")["reserved"] == 0 and shop.get(f"/carts/{cart['id']}").data["status"] == "open"
    os.environ["STRIPE_API_BASE"] = localstripe
    config.reset()
    retried = shop.post(f"/carts/{cart['id']}/checkout")
    assert retried.status_code == 201 and retried.data["payment"]["client_secret"]
    assert stock("TEE-M")["reserved"] == 1


def test_paying_with_a_payment_method_confirms_at_once(shop):
    make_product(shop, on_hand=5)
    cart = ready_cart(shop, {"TEE-M": 1})
    answer = shop.post(f"/carts/{cart['id']}/checkout", {"payment_method": "pm_card_visa"})
    assert answer.status_code == 201, answer.data
    assert answer.data["payment"]["status"] == "succeeded"


def test_the_order_page_needs_the_order_token(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    order_id, token = result["order"]["id"], result["order_token"]
    good = shop.get(f"/orders/{order_id}", headers={"X-Order-Token": token})
    assert good.status_code == 200 and good.data["id"] == order_id and "token" not in good.data
    for headers in ({"X-Order-Token": token[:-1] + ("A" if token[-1] != "A" else "B")}, {}):
        bad = shop.get(f"/orders/{order_id}", headers=headers)
        assert bad.status_code == 404 and bad.data["error"]["code"] == "resource_missing"
    unknown = shop.get("/orders/ord_00000000000000000000000000000000", headers={"X-Order-Token": token})
    assert unknown.data == bad.data
