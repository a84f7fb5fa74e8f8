"""Bad input, drawn by Hypothesis, against every route that takes a body, a path parameter or a query:
wrong types, huge, negative and zero numbers, long and unusual Unicode, control characters, unknown
and missing fields, JSON that is not an object, bytes that are not JSON or not UTF-8, bodies over
64 KiB. Whatever comes in:

- the answer is never a 5xx;
- a 4xx is the error envelope `{"error": {"code": <snake_case>, "message": <text>}}` (no trace);
- a 4xx wrote nothing: the whole table is as it was before the request (the cart's version
  included).

A drawn body may happen to be valid; then the request may succeed and change things, which is fine.
In-process moto; a bounded number of examples per route (`settings` below).
"""

import json
import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ADDRESS, ADMIN, make_product, product_body, ready_cart

EXAMPLES = settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])
CODE = re.compile(r"^[a-z][a-z0-9_]*$")

odd_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=2000),
    st.sampled_from(["", " ", "\x00", "\x1b[31m", "\u202eevil", "😀" * 300, "ſ", "İ", "a" * 10_000, "../../etc",
                     "<script>", "' OR 1=1 --", "%00", "\ufffd\ufeff\u200b", "\U0010ffff",
                     "TEE-M\n", " TEE-M", "tee-m", "1e3", "NaN"]),
)
nasty = st.one_of(
    st.none(), st.booleans(), odd_text,
    st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from([0, -1, 1, 999, 1000, 2**31, 2**63, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 0.5, -0.0, 1e308]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@st.composite
def bodies(draw, valid: dict) -> bytes:
    """A valid body with one thing wrong, or something that is not a body at all."""
    choice = draw(st.integers(0, 6))
    body = dict(valid)
    if choice == 0 and body:
        body[draw(st.sampled_from(sorted(body)))] = draw(nasty)
    elif choice == 1 and any(isinstance(v, dict) for v in body.values()):
        field = draw(st.sampled_from(sorted(k for k, v in body.items() if isinstance(v, dict))))
        inner = dict(body[field])
        inner[draw(st.sampled_from(sorted(inner)))] = draw(nasty)
        body[field] = inner
    elif choice == 2:
        body[draw(st.text(min_size=1, max_size=20))] = draw(nasty)
    elif choice == 3 and body:
        body.pop(draw(st.sampled_from(sorted(body))))
    elif choice == 4:
        return json.dumps(draw(nasty)).encode()
    elif choice == 5:
        return draw(st.one_of(st.binary(max_size=64), st.sampled_from([b"{", b"{}}", b"\xff\xfe{}", b"null",
                                                                       b'{"a":1,"a":2}', b"[]" * 40_000])))
    elif choice == 6:
        body[draw(st.sampled_from(sorted(body) or ["x"]))] = "x" * 70_000  # over 64 KiB
    return json.dumps(body).encode()


def table_state() -> dict:
    """Every item of the moto table, straight from moto's backend (cheap: nothing is serialised)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].get_table(os.environ["TABLE_NAME"])
    return {(repr(item.hash_key), repr(item.range_key)): repr(item.to_json()) for item in table.all_items()}


def check(answer, before: dict) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.body[:500])
    if answer.status_code >= 400:
        error = (answer.data or {}).get("error")
        assert isinstance(error, dict), answer.body[:300]
        assert CODE.match(error.get("code", "")) and isinstance(error.get("message"), str), error
        assert "Traceback" not in answer.body.decode(errors="replace")
        assert table_state() == before, f"a {answer.status_code} {error['code']} wrote to the table"


@pytest.fixture
def store(shop, localstripe):
    """A product, an open cart with a line, a paid order and a discount code to aim at."""
    from tests.test_admin_orders import paid_order

    product = make_product(shop, on_hand=1000)
    shop.post("/admin/discounts", {"code": "SAVE10", "kind": "percent", "value": 10}, headers=ADMIN)
    order = paid_order(shop, {"TEE-S": 1}, localstripe)  # paid at localstripe too, so refunds can go through
    cart = ready_cart(shop, {"TEE-M": 1})
    return {"api": shop, "cart": cart["id"], "product": product["id"], "order": order["order"]["id"],
            "token": order["order_token"]}


BODY_ROUTES = [
    ("POST", "/carts", {"currency": "EUR", "email": "ada@example.com"}, False),
    ("POST", "/carts/{cart}/lines", {"sku": "TEE-M", "quantity": 1}, False),
    ("PATCH", "/carts/{cart}/lines/TEE-M", {"quantity": 2}, False),
    ("PATCH", "/carts/{cart}", {"email": "ada@example.com", "shipping_address": ADDRESS, "shipping_method": "express",
                                "discount_code": "SAVE10"}, False),
    ("POST", "/carts/{cart}/checkout", {"payment_method": "pm_card_visa"}, False),
    ("POST", "/carts/restore", {"token": "abc.def"}, False),
    ("POST", "/webhooks/stripe", {"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}}, False),
    ("POST", "/admin/products", product_body(sku_prefix="NEW"), True),
    ("PUT", "/admin/products/{product}", product_body(), True),
    ("PUT", "/admin/inventory/TEE-M", {"on_hand": 500, "low_stock_threshold": 3}, True),
    ("POST", "/admin/orders/{order}/shipments", {"carrier": "DHL", "tracking_number": "JD1",
                                                 "lines": [{"sku": "TEE-S", "quantity": 1}]}, True),
    ("POST", "/admin/orders/{order}/refunds", {"amount": 100, "reason": "scratched"}, True),
    ("POST", "/admin/orders/{order}/cancel", {"reason": "customer asked"}, True),
    ("POST", "/admin/discounts", {"code": "MORE20", "kind": "fixed", "value": 500, "currency": "EUR",
                                  "usage_limit": 10, "starts_at": "2026-01-01T00:00:00Z"}, True),
    # Customers and customer service (issue 14): the body is parsed before the order token is checked.
    ("POST", "/orders/{order}/messages", {"body": "Where is my parcel?"}, False),
    ("POST", "/admin/orders/{order}/messages", {"body": "On its way.", "internal": True}, True),
    ("POST", "/admin/orders/{order}/messages/close", {}, True),
    ("PATCH", "/admin/customers/cus_x", {"tags": ["vip"], "note": "Call first."}, True),
]


@pytest.mark.parametrize(("method", "template", "valid", "admin"), BODY_ROUTES,
                         ids=[f"{m} {t}" for m, t, _, _ in BODY_ROUTES])
def test_bad_bodies_are_a_4xx_in_the_envelope_and_write_nothing(store, method, template, valid, admin):
    api = store["api"]
    path = template.format(**store)
    headers = ADMIN if admin else {}

    @EXAMPLES
    @given(raw=bodies(valid))
    def run(raw):
        before = table_state()
        answer = api.request(method, path, raw=raw, headers=headers)
        check(answer, before)
        if len(raw) > 64 * 1024:
            assert (answer.status_code, answer.data["error"]["code"]) == (413, "payload_too_large")

    run()


PATH_ROUTES = [
    ("GET", "/products/{x}"), ("GET", "/products/{x}/recommendations"), ("GET", "/carts/{x}"),
    ("POST", "/carts/{x}/lines"), ("PATCH", "/carts/{cart}/lines/{x}"), ("DELETE", "/carts/{cart}/lines/{x}"),
    ("PATCH", "/carts/{x}"), ("POST", "/carts/{x}/checkout"), ("GET", "/orders/{x}"),
    ("PUT", "/admin/inventory/{x}"), ("GET", "/admin/orders/{x}"), ("PUT", "/admin/products/{x}"),
    ("POST", "/admin/orders/{x}/refunds"), ("POST", "/admin/orders/{x}/cancel"),
    ("POST", "/admin/orders/{x}/shipments"),
    ("GET", "/orders/{x}/messages"), ("POST", "/orders/{x}/messages"), ("POST", "/admin/orders/{x}/messages"),
    ("GET", "/admin/orders/{x}/messages"), ("POST", "/admin/orders/{x}/messages/close"),
    ("GET", "/admin/customers/{x}"), ("PATCH", "/admin/customers/{x}"),
]
ids = st.one_of(odd_text.filter(bool), st.sampled_from(["cart_" + "0" * 32, "ord_" + "f" * 32, "prod_1", "x" * 3000,
                                                        "TEE-M" * 500, "%2F..%2F", "null", "0"]))


@EXAMPLES
@given(route=st.sampled_from(PATH_ROUTES), value=ids)
def test_bad_path_parameters_are_a_4xx_in_the_envelope_and_write_nothing(store, route, value):
    method, template = route
    api = store["api"]
    path = template.replace("{x}", quote(value, safe="")).format(**store)
    body = {"PATCH": {"quantity": 1}, "PUT": {"on_hand": 1}, "POST": {}}.get(method)
    before = table_state()
    answer = api.request(method, path, body=body, headers={**ADMIN, "X-Order-Token": store["token"]})
    check(answer, before)


QUERIES = ["/products?limit={v}", "/products?cursor={v}", "/admin/orders?status={v}", "/admin/orders?cursor={v}",
           "/admin/orders?limit={v}", "/admin/discounts?cursor={v}", "/admin/reports/sales?from={v}",
           "/admin/reports/sales?to={v}&from=2026-01-01", "/admin/reports/sales?currency={v}",
           "/admin/customers?sort={v}", "/admin/customers?email={v}", "/admin/customers?segment={v}",
           "/admin/customers?cursor={v}", "/admin/customers?segment=vip&cursor={v}", "/admin/messages?status={v}",
           "/admin/messages?cursor={v}"]


@EXAMPLES
@given(query=st.sampled_from(QUERIES), value=st.one_of(odd_text, st.integers(-(10**20), 10**20).map(str),
                                                       st.sampled_from(["²", "٣", "0x10", "1e2", "eyJQSyI6IngifQ"])))
def test_bad_query_parameters_are_a_4xx_in_the_envelope(store, query, value):
    before = table_state()
    answer = store["api"].get(query.format(v=quote(value, safe="")), headers=ADMIN)
    check(answer, before)
