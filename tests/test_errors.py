"""The error envelope `{"error": {"code", "message", "param"?}}`: one test per kind of error."""

import boto3
import pytest

from chalicelib import config
from tests.conftest import ADMIN, make_cart, make_product, product_body

LEAKS = ("commerce-test", "arn:", "Traceback", "botocore", "ResourceNotFound", 'File "')


def error_of(answer, status: int) -> dict:
    """The error of an answer in the envelope, after checking its shape and that nothing leaks."""
    assert answer.status_code == status, answer.body
    assert set(answer.data) == {"error"}
    error = answer.data["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error.get("param", ""), str)
    body = answer.body.decode()
    assert not any(leak in body for leak in LEAKS), body
    return error


def test_malformed_json_is_400_invalid_request(client):
    answer = client.post("/carts", raw=b'{"currency": "EUR"')

    error = error_of(answer, 400)
    assert error["code"] == "invalid_request"
    assert "param" not in error


def test_a_body_that_is_a_json_array_is_400_invalid_request(client):
    answer = client.post("/carts", raw=b'["EUR"]')

    assert error_of(answer, 400)["code"] == "invalid_request"


def test_a_validation_error_is_400_naming_the_param(client):
    cart = make_cart(client)

    answer = client.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 0})

    error = error_of(answer, 400)
    assert (error["code"], error["param"]) == ("invalid_request", "quantity")


def test_missing_admin_credentials_are_401_unauthenticated(client):
    answer = client.post("/admin/products", product_body())

    assert error_of(answer, 401)["code"] == "unauthenticated"


def test_an_unknown_id_is_404_resource_missing(client):
    answer = client.get("/carts/cart_0123456789abcdef0123456789abcdef")

    assert error_of(answer, 404)["code"] == "resource_missing"


def test_a_state_that_forbids_the_change_is_409_with_its_code(client):
    make_product(client, sku_prefix="TEE", on_hand=1)
    cart = make_cart(client)

    answer = client.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 2})

    error = error_of(answer, 409)
    assert (error["code"], error["param"]) == ("out_of_stock", "quantity")


def test_a_body_over_64_kib_is_413_payload_too_large(client):
    padding = "x" * (64 * 1024)

    answer = client.post("/carts", raw=f'{{"email": "{padding}"}}'.encode())

    assert error_of(answer, 413)["code"] == "payload_too_large"


def test_a_body_of_exactly_64_kib_is_read(client):
    wrapper = b'{"email": ""}'
    raw = wrapper[:-2] + b"x" * (64 * 1024 - len(wrapper)) + wrapper[-2:]
    assert len(raw) == 64 * 1024

    answer = client.post("/carts", raw=raw)

    error = error_of(answer, 400)
    assert error["param"] == "email"


def test_an_unexpected_failure_is_a_generic_500_without_internals(client, aws):
    cart = make_cart(client)
    boto3.client("dynamodb").delete_table(TableName=aws["TableName"])

    answer = client.get(f"/carts/{cart['id']}")

    error = error_of(answer, 500)
    assert error["code"] == "internal_error"
    assert cart["id"] not in answer.body.decode()


def test_a_misconfigured_table_is_a_generic_500_without_its_name(client, monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "commerce-test-missing")
    config.reset()

    answer = client.post("/carts", {})

    assert error_of(answer, 500)["code"] == "internal_error"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415_in_the_envelope(client, content_type):
    answer = client.request("POST", "/carts", raw=b"{}", headers={"Content-Type": content_type})

    assert error_of(answer, 415)["code"] == "invalid_request"


def test_a_method_the_route_does_not_have_is_405_in_the_envelope(client):
    answer = client.request("PUT", "/carts")

    assert error_of(answer, 405)["code"] == "invalid_request"


@pytest.mark.parametrize("path", ["/products", "/admin/orders", "/admin/discounts"])
def test_a_malformed_limit_or_cursor_on_any_list_is_a_400_naming_it(client, path):
    import base64

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    bad = {"limit": ["abc", "0", "101", "-1", "1.5", "\u00b2", "9" * 5000, "1e2"],
           "cursor": ["!!!", "a", "%00", "====", "\u00e9", "a" * 1025, b64(b"[1]"), b64(b'{"PK": 1}'),
                      b64(b'{"PK": "PRODUCT#x", "SK": "y", "GSI1PK": "z"}'), b64(b"\xff\xfe")]}
    headers = {"Authorization": ADMIN["Authorization"]} if path.startswith("/admin") else {}
    for param, values in bad.items():
        for value in values:
            answer = client.get(f"{path}?{param}={value}", headers=headers)
            assert answer.status_code == 400, (param, value, answer.data)
            assert (answer.data["error"]["code"], answer.data["error"]["param"]) == ("invalid_request", param)
