"""An order nothing is left to pay for (a discount as big as the cart, free shipping) is paid at once, with no
provider payment, and goes to fulfilment; before, it waited for a payment that could never come and expired."""

from chalicelib.repository import orders
from tests.conftest import ADDRESS, ADMIN, make_product


def test_an_order_a_discount_covers_whole_is_paid_at_once_without_a_provider_payment(shop, localstripe, monkeypatch):
    import json

    from chalicelib import config

    monkeypatch.setenv("SHIPPING_METHODS", json.dumps([{"id": "pickup", "title": "Pick up in store",
                                                        "price": {"EUR": 0}}]))
    config.reset()
    make_product(shop, on_hand=5, price=6000)
    assert shop.post("/admin/discounts", {"code": "ONUS", "kind": "fixed", "value": 100_000, "currency": "EUR"},
                     headers=ADMIN).status_code == 201
    cart = shop.post("/carts", {}).data
    assert shop.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 1}).status_code == 200
    assert shop.patch(f"/carts/{cart['id']}", {"email": "ada@example.com", "shipping_address": ADDRESS}).status_code \
        == 200
    patched = shop.patch(f"/carts/{cart['id']}", {"discount_code": "ONUS", "shipping_method": "pickup"})
    assert patched.status_code == 200 and patched.data["total"] == 0, patched.data

    answer = shop.post(f"/carts/{cart['id']}/checkout", {})
    assert answer.status_code == 201, answer.data
    order = answer.data["order"]
    assert (order["status"], order["payment_status"], order["total"], order["amount_paid"]) == ("paid", "paid", 0, 0)
    assert answer.data["payment"] is None  # nothing for the storefront to confirm
    assert orders.get(order["id"]).payment is None  # no PaymentIntent of 0 at the provider
    product = shop.get("/products").data["data"][0]
    assert {v["sku"]: v["available"] for v in product["variants"]}["TEE-M"] == 4  # reserved like any order
    shipped = shop.post(f"/admin/orders/{order['id']}/shipments", {"carrier": "dhl", "tracking_number": "JD1"},
                        headers=ADMIN)
    assert shipped.status_code == 201, shipped.data  # a paid order ships
