"""Roles and scopes on every admin route: one permission per route (chalicelib/permissions.py), enforced by
the API for staff Cognito tokens and for scoped API keys."""

import hashlib
import json
import re

import pytest

from chalicelib import permissions
from tests.conftest import ADMIN, make_product
from tests.staff_support import as_staff, staff_token
from tests.test_admin_orders import paid_order


def admin_routes() -> list[tuple[str, str]]:
    from app import app

    return sorted((method, path) for path, methods in app.routes.items() if path.startswith("/admin")
                  for method in methods if method != "OPTIONS")


def test_every_admin_route_declares_its_permission_and_every_declaration_is_a_route():
    routes = {f"{method} {path}" for method, path in admin_routes()}
    undeclared = sorted(routes - set(permissions.ROUTES))
    assert not undeclared, f"declare these in chalicelib/permissions.py ROUTES: {undeclared}"
    assert not sorted(set(permissions.ROUTES) - routes), "ROUTES names a route the app does not have"


def test_an_undeclared_admin_route_needs_admin_which_only_owner_and_manager_hold():
    assert permissions.for_route("POST", "/admin/something-new/{id}") == permissions.DEFAULT
    holders = {role for role, granted in permissions.ROLES.items() if permissions.DEFAULT in granted}
    assert holders == {"owner", "manager"}


def test_the_role_table():
    roles = permissions.ROLES
    assert roles["owner"] == permissions.EVERY
    assert roles["manager"] == permissions.EVERY - {"audit:read", "staff:manage"}
    assert {"orders:read", "customers:read", "messages:reply", "orders:refund"} <= roles["support"]
    assert not {"products:write", "stock:write", "orders:cancel", "audit:read"} & roles["support"]
    assert {"orders:ship", "stock:write", "orders:read"} <= roles["fulfilment"]
    assert not {"orders:refund", "products:write", "customers:read", "audit:read"} & roles["fulfilment"]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


@pytest.mark.parametrize("role", ["support", "fulfilment", "manager"])
def test_every_admin_route_refuses_a_role_without_its_permission(client, pool, role):
    headers = as_staff(staff_token(pool, role))
    checked = 0
    for method, path in admin_routes():
        permission = permissions.for_route(method, path)
        if permission in permissions.ROLES[role]:
            continue
        answer = client.raw.http.request(method, concrete(path), body=b"{}", headers=headers)
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert json.loads(answer.body)["error"]["code"] == "forbidden"
        checked += 1
    assert checked >= (2 if role == "manager" else 10)


def test_every_admin_route_needs_credentials(client):
    for method, path in admin_routes():
        answer = client.raw.http.request(method, concrete(path), body=b"{}",
                                         headers={"Content-Type": "application/json"})
        assert answer.status_code == 401, (method, path)


def test_roles_on_orders_fulfilment_ships_but_cannot_refund_support_refunds_within_its_limit(
        shop, pool, localstripe, monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("SUPPORT_REFUND_LIMIT", "300")
    config.reset()
    fulfilment, support, manager = (as_staff(staff_token(pool, role)) for role in ("fulfilment", "support", "manager"))
    make_product(shop, on_hand=5)
    order_id = paid_order(shop, {"TEE-M": 1}, localstripe)["order"]["id"]

    refused = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 100}, headers=fulfilment)
    assert refused.status_code == 403 and refused.data["error"]["code"] == "forbidden"
    too_much = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 301}, headers=support)
    assert too_much.status_code == 403 and too_much.data["error"]["code"] == "forbidden"
    assert "300" in too_much.data["error"]["message"]
    assert shop.get(f"/admin/orders/{order_id}", headers=support).data["amount_refunded"] == 0
    within = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 300}, headers=support)
    assert within.status_code == 201 and within.data["amount_refunded"] == 300
    assert shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 301}, headers=manager).status_code == 201
    shipped = shop.post(f"/admin/orders/{order_id}/shipments", {"carrier": "dhl", "tracking_number": "T1"},
                        headers=fulfilment)
    assert shipped.status_code == 201, shipped.data
    assert shop.get("/admin/orders", headers=fulfilment).status_code == 200
    assert shop.put("/admin/products/x", {}, headers=support).status_code == 403


def test_support_s_refund_limit_is_per_currency_a_currency_without_one_is_refused(shop, pool, localstripe, monkeypatch):
    from chalicelib import config
    from tests.queue_support import order_item, store

    monkeypatch.setenv("SUPPORT_REFUND_LIMIT", '{"eur": 300, "JPY": 800000}')
    config.reset()
    support, manager = (as_staff(staff_token(pool, role)) for role in ("support", "manager"))
    make_product(shop, on_hand=5)
    order_id = paid_order(shop, {"TEE-M": 1}, localstripe)["order"]["id"]
    too_much = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 301}, headers=support)
    assert too_much.status_code == 403 and too_much.data["error"]["code"] == "forbidden"
    assert "300" in too_much.data["error"]["message"] and "EUR" in too_much.data["error"]["message"]
    within = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 300}, headers=support)
    assert within.status_code == 201 and within.data["amount_refunded"] == 300
    unknown = shop.post("/admin/orders/ord_missing/refunds", {"amount": 1}, headers=support)
    assert unknown.status_code == 404

    usd = store(order_item(currency="USD"))["id"]  # no USD limit and no "*": support cannot refund in USD
    refused = shop.post(f"/admin/orders/{usd}/refunds", {"amount": 1}, headers=support)
    assert refused.status_code == 403 and refused.data["error"]["code"] == "forbidden"
    assert "USD" in refused.data["error"]["message"]
    assert shop.get(f"/admin/orders/{usd}", headers=support).data["amount_refunded"] == 0

    monkeypatch.setenv("SUPPORT_REFUND_LIMIT", '{"JPY": 800000, "*": 100}')  # "*": every other currency
    config.reset()
    order_id = paid_order(shop, {"TEE-M": 1}, localstripe)["order"]["id"]  # the first has refunded 300 already
    assert shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 101}, headers=support).status_code == 403
    assert shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 100}, headers=support).status_code == 201
    assert shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 101}, headers=manager).status_code == 201
    assert shop.get(f"/admin/orders/{order_id}", headers=manager).data["amount_refunded"] == 201


def test_support_refund_limit_is_a_number_for_every_currency_or_a_map_and_anything_else_is_refused():
    from chalicelib.config import refund_limits

    assert refund_limits("5000") == refund_limits(" 5000 ") == {"*": 5000}
    assert refund_limits('{"eur": 5000, "JPY": 800000, "*": 100}') == {"EUR": 5000, "JPY": 800000, "*": 100}
    assert refund_limits('{"KWD": 0}') == {"KWD": 0}
    for bad in ("", "50.5", "{}", "[5000]", '{"EUR": "5000"}', '{"EUR": -1}', '{"EUR": true}', '{"EURO": 5}',
                '{"EUR": 5000'):
        with pytest.raises(ValueError, match="SUPPORT_REFUND_LIMIT"):
            refund_limits(bad)


def test_a_token_without_a_role_is_forbidden_and_a_bad_one_unauthenticated(client, pool):
    customer = as_staff(staff_token(pool, None, "customer@example.com"))
    answer = client.get("/admin/orders", headers=customer)
    assert answer.status_code == 403 and answer.data["error"]["code"] == "forbidden"
    token = staff_token(pool, "owner")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get("/admin/orders", headers=as_staff(forged)).status_code == 401
    assert client.get("/admin/orders", headers=as_staff(token)).status_code == 200


def test_only_the_owner_reads_the_audit_log(client, pool):
    for role, status in (("owner", 200), ("manager", 403), ("support", 403), ("fulfilment", 403)):
        assert client.get("/admin/audit", headers=as_staff(staff_token(pool, role))).status_code == status, role


def test_api_keys_carry_their_own_scopes_and_the_single_key_keeps_every_scope(client, monkeypatch):
    from chalicelib import config

    digest = hashlib.sha256(b"erp-key").hexdigest()
    monkeypatch.setenv("ADMIN_API_KEYS", json.dumps({digest: {"name": "erp", "scopes": ["orders:read"]}}))
    config.reset()
    erp = {"Authorization": "Bearer erp-key", "Content-Type": "application/json"}
    assert client.get("/admin/orders", headers=erp).status_code == 200
    refused = client.post("/admin/products", {}, headers=erp)
    assert refused.status_code == 403 and refused.data["error"]["code"] == "forbidden"
    assert client.get("/admin/audit", headers=erp).status_code == 403
    assert client.get("/admin/audit", headers=ADMIN).status_code == 200
    wrong = {"Authorization": "Bearer not-a-key", "Content-Type": "application/json"}
    assert client.get("/admin/orders", headers=wrong).status_code == 401


def test_scoped_keys_come_from_ssm_and_a_stage_without_them_answers_401(client, monkeypatch):
    import boto3

    from chalicelib import config

    monkeypatch.setenv("ADMIN_API_KEYS_PARAM", "/commerce/test/admin-api-keys")
    config.reset()
    wrong = {"Authorization": "Bearer not-a-key", "Content-Type": "application/json"}
    assert client.get("/admin/orders", headers=wrong).status_code == 401  # the parameter does not exist
    digest = hashlib.sha256(b"ship-key").hexdigest()
    boto3.client("ssm").put_parameter(Name="/commerce/test/admin-api-keys", Type="SecureString",
                                      Value=json.dumps({digest: {"name": "3pl", "scopes": ["orders:ship"]}}))
    config.reset()
    shipper = {"Authorization": "Bearer ship-key", "Content-Type": "application/json"}
    assert client.get("/admin/orders", headers=shipper).status_code == 403
    answer = client.post("/admin/orders/ord_nope/shipments", {"carrier": "dhl", "tracking_number": "T"},
                         headers=shipper)
    assert answer.status_code == 404  # allowed: the order does not exist
