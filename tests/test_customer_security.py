"""Customer tokens and access (issue 14, item 7): every bad token is a 401 in our envelope, and a customer
never reads or changes another customer's profile, addresses, orders or carts (IDOR)."""

import time

import pytest

from tests.conftest import ADDRESS, make_cart, make_product, ready_cart
from tests.customers_support import bearer, claims_of, create_pool, forged, id_claims, new_client


def unauthenticated(answer) -> bool:
    return answer.status_code == 401 and answer.data["error"]["code"] == "unauthenticated" \
        and set(answer.data["error"]) <= {"code", "message", "param"}


def test_a_token_the_app_forges_with_the_pools_key_passes_so_the_bad_ones_below_can_fail(client, pool):
    answer = client.get("/me", headers=bearer(forged(id_claims(pool))))
    assert answer.status_code == 200 and answer.data["email"] == "ada@example.com"


@pytest.mark.parametrize("case", ["expired", "not_yet_valid_issuer", "no_exp", "access_with_aud", "id_with_client_id",
                                  "no_token_use", "refresh_use", "wrong_audience", "no_sub"])
def test_tokens_with_bad_claims_are_401(client, pool, case):
    now = int(time.time())
    claims = {
        "expired": id_claims(pool, exp=now - 5, iat=now - 3605),
        "not_yet_valid_issuer": id_claims(pool, iss=pool.issuer + "x"),
        "no_exp": {k: v for k, v in id_claims(pool).items() if k != "exp"},
        # An ID token presented as an access token and the other way round.
        "access_with_aud": id_claims(pool, token_use="access"),
        "id_with_client_id": {**{k: v for k, v in id_claims(pool).items() if k != "aud"}, "client_id": pool.client_id},
        "no_token_use": {k: v for k, v in id_claims(pool).items() if k != "token_use"},
        "refresh_use": id_claims(pool, token_use="refresh"),
        "wrong_audience": id_claims(pool, aud="another-client"),
        "no_sub": {k: v for k, v in id_claims(pool).items() if k != "sub"},
    }[case]
    assert unauthenticated(client.get("/me", headers=bearer(forged(claims))))


def test_malformed_tampered_unsigned_and_foreign_key_tokens_are_401(client, pool):
    from joserfc.jwk import RSAKey

    good = pool.sign_up("ada@example.com")["id"]
    header, payload, signature = good.split(".")
    import base64
    import json

    claims = claims_of(good) | {"email": "eve@example.com"}
    tampered_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    unsigned_header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"dummy"}').decode().rstrip("=")
    other_key = RSAKey.generate_key(2048, parameters={"kid": "dummy"})
    for token in ("", "abc", "a.b.c", f"{header}.{tampered_payload}.{signature}", f"{unsigned_header}.{payload}.",
                  f"{header}.{payload}.{signature[:-4]}AAAA", forged(id_claims(pool), key=other_key),
                  forged(id_claims(pool), header={"alg": "RS256", "kid": "unknown"}), "x" * 9000):
        assert unauthenticated(client.get("/me", headers=bearer(token))), token[:40]
    for header_value in ("Basic YWRhOnB3", good, f"Bearer  {good} x", "Token " + good):
        assert unauthenticated(client.get("/me", headers={"Authorization": header_value})), header_value[:20]
    assert client.get("/me", headers=bearer(good)).status_code == 200


def test_tokens_of_another_pool_or_another_app_client_are_401(client, pool):
    other_pool = create_pool("another-shop")
    for token in other_pool.sign_up("ada@example.com").values():
        assert unauthenticated(client.get("/me", headers=bearer(token)))
    pool.sign_up("ada@example.com")
    admin_app = new_client(pool.pool_id, "back-office")
    for token in pool.sign_in("ada@example.com", client_id=admin_app).values():
        assert unauthenticated(client.get("/me", headers=bearer(token)))
    for token in pool.sign_in("ada@example.com").values():
        assert client.get("/me", headers=bearer(token)).status_code == 200


def test_the_admin_key_is_not_a_customer_token_and_a_customer_token_is_not_an_admin_key(client, pool):
    from tests.conftest import ADMIN_KEY

    assert unauthenticated(client.get("/me", headers=bearer(ADMIN_KEY)))
    token = pool.sign_up("ada@example.com")["id"]
    # A valid token of the pool, but of no staff role (chalicelib/staff.py): refused as forbidden.
    refused = client.get("/admin/orders", headers=bearer(token))
    assert refused.status_code == 403 and refused.data["error"]["code"] == "forbidden"
    assert "data" not in refused.data


def test_a_customer_never_reaches_another_customers_data(shop, pool):
    make_product(shop)
    ada, bob = pool.sign_up("ada@example.com")["id"], pool.sign_up("bob@example.com")["id"]
    address = shop.post("/me/addresses", ADDRESS, headers=bearer(ada)).data
    shop.patch("/me", {"name": "Ada", "phone": "+4930123"}, headers=bearer(ada))
    cart = ready_cart(shop, {"TEE-S": 1}, email="ada@example.com")
    order = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=bearer(ada)).data["order"]
    for _ in range(2):
        extra = ready_cart(shop, {"TEE-S": 1}, email="ada@example.com")
        shop.post(f"/carts/{extra['id']}/checkout", {})
    ada_cart = make_cart(shop)
    shop.post(f"/carts/{ada_cart['id']}/lines", {"sku": "TEE-M", "quantity": 1})
    assert shop.post("/me/carts", {"cart_id": ada_cart["id"]}, headers=bearer(ada)).status_code == 200
    missing = shop.get("/orders/ord_00000000000000000000000000000000", headers=bearer(bob))

    # Bob, signed in, tries every door with Ada's ids.
    assert shop.get("/me", headers=bearer(bob)).data["name"] is None
    assert shop.get("/me/addresses", headers=bearer(bob)).data == {"data": []}
    assert shop.patch(f"/me/addresses/{address['id']}", {"city": "Paris"}, headers=bearer(bob)).status_code == 404
    assert shop.delete(f"/me/addresses/{address['id']}", headers=bearer(bob)).status_code == 404
    assert shop.get("/me/orders", headers=bearer(bob)).data == {"data": [], "next_cursor": None}
    stolen = shop.get(f"/orders/{order['id']}", headers=bearer(bob))
    assert (stolen.status_code, stolen.data) == (404, missing.data)
    ada_page = shop.get("/me/orders?limit=1", headers=bearer(ada)).data
    assert shop.get(f"/me/orders?cursor={ada_page['next_cursor']}", headers=bearer(bob)).status_code == 400
    assert shop.post("/me/carts", {"cart_id": ada_cart["id"]}, headers=bearer(bob)).status_code == 404
    assert shop.post(f"/carts/{ada_cart['id']}/checkout", {}, headers=bearer(bob)).status_code == 404
    exported = shop.get("/me/export", headers=bearer(bob)).data
    assert exported["orders"] == [] and exported["addresses"] == [] and "Ada" not in str(exported)
    assert shop.delete("/me", headers=bearer(bob)).status_code == 204

    # Ada's data is untouched.
    assert shop.get(f"/me/addresses/{address['id']}", headers=bearer(ada)).status_code in (404, 405)
    assert shop.get("/me/addresses", headers=bearer(ada)).data["data"][0]["city"] == "Berlin"
    assert shop.get("/me", headers=bearer(ada)).data["name"] == "Ada"
    assert len(shop.get("/me/orders", headers=bearer(ada)).data["data"]) == 3
    assert shop.get(f"/orders/{order['id']}", headers=bearer(ada)).data["email"] == "ada@example.com"
    assert [line["sku"] for line in shop.get(f"/carts/{ada_cart['id']}").data["lines"]] == ["TEE-M"]


def test_bad_bodies_paths_and_queries_on_the_customer_routes_are_a_4xx_that_writes_nothing(client, pool):
    from hypothesis import given
    from hypothesis import strategies as st

    from tests.reliability.test_bad_input import EXAMPLES, bodies, check, ids, table_state

    token = pool.sign_up("ada@example.com")["id"]
    address = client.post("/me/addresses", ADDRESS, headers=bearer(token)).data
    cart = make_cart(client)["id"]
    routes = [("PATCH", "/me", {"name": "Ada", "phone": "+4930123", "marketing_consent": True}),
              ("POST", "/me/addresses", {**ADDRESS, "default": True}),
              ("PATCH", f"/me/addresses/{address['id']}", {"city": "Bonn", "default": True}),
              ("POST", "/me/carts", {"cart_id": cart})]

    @EXAMPLES
    @given(route=st.sampled_from(routes), data=st.data())
    def run(route, data):
        method, path, valid = route
        before = table_state()
        check(client.request(method, path, raw=data.draw(bodies(valid)), headers=bearer(token)), before)

    @EXAMPLES
    @given(value=ids, route=st.sampled_from([("PATCH", "/me/addresses/{x}"), ("DELETE", "/me/addresses/{x}"),
                                             ("GET", "/me/orders?cursor={x}"), ("GET", "/me/orders?limit={x}"),
                                             ("POST", "/unsubscribe?token={x}"), ("GET", "/orders/{x}")]))
    def run_paths(value, route):
        from urllib.parse import quote

        method, template = route
        before = table_state()
        answer = client.request(method, template.format(x=quote(value, safe="")), {} if method != "GET" else None,
                                headers=bearer(token))
        check(answer, before)
        assert answer.status_code >= 400 or method == "GET"

    run()
    run_paths()
