"""Index hygiene found by `make bench`'s growth run: what a sweep reads must not grow with orders."""

from tests.conftest import make_product, ready_cart


def test_a_checked_out_cart_leaves_the_abandoned_cart_idle_index(shop):
    from chalicelib.repository import carts, dynamo

    make_product(shop, on_hand=5)
    cart = ready_cart(shop, {"TEE-M": 1})
    assert set(carts.IDLE_ATTRIBUTES) <= set(dynamo.get(carts.cart_key(cart["id"])))  # idle while open
    assert shop.post(f"/carts/{cart['id']}/checkout").status_code == 201
    stored = dynamo.get(carts.cart_key(cart["id"]))
    assert stored["status"] == "checked_out"
    assert not set(carts.IDLE_ATTRIBUTES) & set(stored), "the sweep would read every checked-out cart of the day"
