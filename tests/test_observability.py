"""Correlation ids from the request to the order (and on to the queues), JSON logs, EMF metrics."""

import json
import os

import boto3

from tests.conftest import ADMIN, make_product, ready_cart
from tests.orders_support import checked_out, post_event
from tests.test_webhooks import paid_event


def emf(output: str, name: str) -> list[dict]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    return [line for line in lines if name in line]


def test_a_request_id_is_adopted_returned_and_written_onto_the_order(shop):
    make_product(shop)
    cart = ready_cart(shop, {"TEE-M": 1})
    answer = shop.post(f"/carts/{cart['id']}/checkout", headers={"X-Request-Id": "req-checkout-1"})
    assert answer.headers["X-Request-Id"] == "req-checkout-1"
    item = boto3.client("dynamodb").get_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"PK": {"S": f"ORDER#{answer.data['order']['id']}"}, "SK": {"S": "ORDER"}})["Item"]
    assert item["correlation_id"]["S"] == "req-checkout-1"


def test_a_bad_request_id_is_replaced_by_a_fresh_one(client):
    answer = client.get("/products", headers={"X-Request-Id": "not a token\n"})
    assert answer.headers["X-Request-Id"] != "not a token\n" and len(answer.headers["X-Request-Id"]) == 32


def test_each_request_logs_one_json_line_with_its_correlation_id(client, caplog):
    from chalicelib.observability import logger

    caplog.set_level("INFO", logger="chalicelib")
    client.get("/carts/cart_missing", headers={"X-Request-Id": "req-log-1"})
    formatter = logger.registered_handler.formatter  # the JSON the function writes to its log
    access = [json.loads(formatter.format(r)) for r in caplog.records if r.getMessage() == "request"]
    assert access[-1]["correlation_id"] == "req-log-1"
    assert (access[-1]["status"], access[-1]["error_code"], access[-1]["path"]) == (
        404, "resource_missing", "/carts/{cart_id}")


def test_checkout_failures_and_paid_orders_are_emitted_as_metrics(shop, capfd):
    make_product(shop, on_hand=1)
    cart = ready_cart(shop, {"TEE-M": 1})
    shop.put("/admin/inventory/TEE-M", {"on_hand": 0}, headers=ADMIN)
    assert shop.post(f"/carts/{cart['id']}/checkout").status_code == 409
    failed = emf(capfd.readouterr().out, "CheckoutFailed")
    assert failed[-1]["reason"] == "out_of_stock" and failed[-1]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == \
        "Commerce"
    shop.put("/admin/inventory/TEE-M", {"on_hand": 5}, headers=ADMIN)
    result = checked_out(shop, {"TEE-S": 1})
    post_event(shop, paid_event(result))
    out = capfd.readouterr().out
    revenue = emf(out, "Revenue")
    assert revenue[-1]["Revenue"] == [float(result["order"]["total"])] and revenue[-1]["currency"] == "EUR"
    assert emf(out, "OrdersPaid")


def test_the_correlation_id_travels_through_the_relay_into_the_queue_messages(shop, aws):
    from tests.orders_support import Stream, queue_messages

    stream = Stream()
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    payload = json.dumps(paid_event(result)).encode()
    from tests.orders_support import stripe_signature

    shop.request("POST", "/webhooks/stripe", raw=payload,
                 headers={"Stripe-Signature": stripe_signature(payload), "X-Request-Id": "req-webhook-7"})
    shop.raw.lambda_.invoke("on_table_change", {"Records": stream.read()})
    paid = [m for m in queue_messages(aws["FulfilmentQueueUrl"]) if m["type"] == "OrderPaid"]
    assert [m["correlation_id"] for m in paid] == ["req-webhook-7"]
