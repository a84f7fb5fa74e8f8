"""Access: a cart, an order or an admin resource is reachable only with its own credential.

A cart's id is its only key (128 random bits), an order needs its order token, the admin routes an
admin key whose SHA-256 is configured. Another cart's id, another order's token, a missing, wrong,
malformed or retired credential: nothing is revealed, and the 404 of a real resource one may not
see is byte for byte the 404 of one that does not exist.
"""

import os
from datetime import timedelta
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import cart_links, clock, config
from tests.conftest import ADMIN, make_product, ready_cart
from tests.orders_support import checked_out

ORDER_404 = {"error": {"code": "resource_missing", "message": "No such order."}}
CART_404 = {"error": {"code": "resource_missing", "message": "No such cart."}}


def test_an_order_is_read_only_with_its_own_token(shop):
    make_product(shop, on_hand=10)
    mine, theirs = checked_out(shop, {"TEE-M": 1}), checked_out(shop, {"TEE-S": 1})
    order_id = mine["order"]["id"]
    assert shop.get(f"/orders/{order_id}", headers={"X-Order-Token": mine["order_token"]}).status_code == 200
    attempts = {
        "another order's token": {"X-Order-Token": theirs["order_token"]},
        "no token": {},
        "empty token": {"X-Order-Token": ""},
        "a prefix of the token": {"X-Order-Token": mine["order_token"][:-1]},
        "the token with a byte more": {"X-Order-Token": mine["order_token"] + "A"},
        "the admin key as a token": {"X-Order-Token": "test-admin-key"},
        "the order id as a token": {"X-Order-Token": order_id},
    }
    for name, headers in attempts.items():
        answer = shop.get(f"/orders/{order_id}", headers=headers)
        assert (answer.status_code, answer.data) == (404, ORDER_404), name
    # A token is no key to the admin side either.
    answer = shop.get(f"/admin/orders/{order_id}", headers={"Authorization": f"Bearer {mine['order_token']}"})
    assert answer.status_code == 401


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_id=st.one_of(st.text(max_size=80), st.from_regex(r"ord_[0-9a-f]{32}", fullmatch=True)),
       cart_id=st.one_of(st.text(max_size=80), st.from_regex(r"cart_[0-9a-f]{32}", fullmatch=True)),
       token=st.text(max_size=60))
def test_probing_random_ids_gets_the_same_404_as_a_real_order_one_may_not_see(shop, order_id, cart_id, token):
    path_order, path_cart = quote(order_id, safe=""), quote(cart_id, safe="")
    if not path_order or not path_cart:
        return
    answer = shop.get(f"/orders/{path_order}", headers={"X-Order-Token": token})
    assert (answer.status_code, answer.data) == (404, ORDER_404)
    answer = shop.get(f"/carts/{path_cart}")
    assert (answer.status_code, answer.data) == (404, CART_404)


def test_changing_one_cart_never_touches_another(shop):
    make_product(shop, on_hand=10)
    mine, other = ready_cart(shop, {"TEE-M": 1}), ready_cart(shop, {"TEE-S": 2}, email="eve@example.com")
    # Every change aimed at the other cart's path acts on that cart only, and a SKU of mine is no
    # way into it.
    assert shop.patch(f"/carts/{other['id']}/lines/TEE-M", {"quantity": 3}).status_code == 404
    assert shop.delete(f"/carts/{other['id']}/lines/TEE-M").status_code == 404
    assert shop.post(f"/carts/{other['id']}/lines", {"sku": "TEE-M", "quantity": 1}).status_code == 200
    assert shop.post(f"/carts/{other['id']}/checkout").status_code == 201
    assert shop.get(f"/carts/{mine['id']}").data == mine
    # An order id is not a cart id, nor the other way round.
    order_id = shop.get(f"/carts/{other['id']}").data["order_id"]
    assert (shop.get(f"/carts/{order_id}").status_code, shop.get(f"/orders/{mine['id']}").status_code) == (404, 404)


def test_admin_routes_refuse_a_missing_wrong_malformed_or_retired_key(shop, monkeypatch):
    make_product(shop, on_hand=10)
    order_id = checked_out(shop, {"TEE-M": 1})["order"]["id"]
    routes = [("GET", "/admin/orders", None), ("GET", f"/admin/orders/{order_id}", None),
              ("POST", f"/admin/orders/{order_id}/cancel", {}),
              ("POST", f"/admin/orders/{order_id}/refunds", {"amount": 1}),
              ("PUT", "/admin/inventory/TEE-M", {"on_hand": 0}), ("GET", "/admin/discounts", None),
              ("GET", "/admin/reports/sales", None)]
    credentials = {
        "missing": {},
        "wrong key": {"Authorization": "Bearer not-the-key"},
        "basic scheme": {"Authorization": "Basic dGVzdC1hZG1pbi1rZXk6"},
        "no scheme": {"Authorization": "test-admin-key"},
        "empty bearer": {"Authorization": "Bearer "},
        "the hash instead of the key": {"Authorization": f"Bearer {os.environ['ADMIN_KEY_HASHES']}"},
        "key with a trailing byte": {"Authorization": "Bearer test-admin-keyX"},
    }
    bodies = set()
    for method, path, body in routes:
        for name, headers in credentials.items():
            answer = shop.request(method, path, body=body, headers=headers)
            assert answer.status_code == 401, (method, path, name, answer.data)
            assert answer.data["error"]["code"] == "unauthenticated"
            bodies.add(answer.body)
    assert len(bodies) <= 2  # "a key is required" or "the key is not valid": nothing else is said
    # A rotated-out key stops working as soon as its hash is gone from the configuration.
    import hashlib

    new_key = "the-new-admin-key"
    monkeypatch.setenv("ADMIN_KEY_HASHES", hashlib.sha256(new_key.encode()).hexdigest())
    config.reset()
    assert shop.get("/admin/orders", headers=ADMIN).status_code == 401
    assert shop.get("/admin/orders", headers={"Authorization": f"Bearer {new_key}"}).status_code == 200
    # Nothing the refused requests asked for happened.
    assert shop.get(f"/admin/orders/{order_id}", headers={"Authorization": f"Bearer {new_key}"}).data["status"] == \
        "pending_payment"


def test_an_expired_or_forged_cart_link_restores_nothing(shop, monkeypatch):
    monkeypatch.setenv("CART_LINK_SECRET", "cart-link-secret")
    config.reset()
    make_product(shop, on_hand=10)
    cart = ready_cart(shop, {"TEE-M": 1})
    fresh = cart_links.token(cart["id"], clock.now() + timedelta(days=1))
    assert shop.post("/carts/restore", {"token": fresh}).status_code == 200
    expired = cart_links.token(cart["id"], clock.now() - timedelta(seconds=1))
    forged = fresh[:-2] + ("AA" if not fresh.endswith("AA") else "BB")
    other_cart = cart_links.token(ready_cart(shop, {"TEE-S": 1})["id"], clock.now() + timedelta(days=1))
    swapped = other_cart.split(".")[0] + "." + fresh.split(".", 1)[1] if "." in fresh else other_cart[::-1]
    for name, token in {"expired": expired, "forged": forged, "another cart's signature": swapped}.items():
        answer = shop.post("/carts/restore", {"token": token})
        assert answer.status_code in (400, 404), (name, answer.data)
        assert answer.data["error"]["code"] in ("invalid_token", "resource_missing"), name
