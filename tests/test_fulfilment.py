"""The fulfilment consumer: paid orders are marked requested and handed to the provider once; the
webhook provider signs like Stripe and its failures are retried through the queue."""

import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from chalicelib import config, events, fulfilment
from chalicelib.fulfilment import HandOverFailed
from chalicelib.repository import deliveries, orders
from tests.queue_support import consumers_fixture, message, order_item, sqs_event, store  # noqa: F401

SECRET = "fulfilment-test-secret"


def hand_over(api, *bodies: str):
    return api.raw.lambda_.invoke("on_fulfilment_message", sqs_event(api, *bodies)).payload


def fulfilment_message(kind: str, item: dict, **change) -> str:
    return message(kind, item, queue=events.FULFILMENT, **change)


class Receiver:
    """A 3PL's webhook endpoint on 127.0.0.1: records each request and answers with the next of
    `statuses` (the last one repeats)."""

    def __init__(self, statuses=(200,), delay: float = 0.0):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": raw, "path": self.path})
                time.sleep(delay)
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/3pl/orders"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook(consumers, monkeypatch):
    """The webhook provider pointed at a local receiver; returns (api, receiver)."""
    receiver = Receiver()
    monkeypatch.setenv("FULFILMENT_PROVIDER", "webhook")
    monkeypatch.setenv("FULFILMENT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("FULFILMENT_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("FULFILMENT_WEBHOOK_TIMEOUT", "2")
    config.reset()
    yield consumers, receiver
    receiver.close()
    monkeypatch.undo()
    config.reset()


def verify(secret: str, header: str, raw: bytes, tolerance: int = 300) -> bool:
    """A receiver's check, written from the scheme's description (not from our code): parse
    t=..,v1=.., recompute HMAC-SHA256(secret, "<t>.<raw body>"), compare in constant time, and
    reject stale timestamps."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) <= tolerance


def test_a_paid_order_is_marked_requested_and_handed_over_once(consumers):
    item = store(order_item())
    body = fulfilment_message("OrderPaid", item)
    assert hand_over(consumers, body) == {"batchItemFailures": []}
    hand_over(consumers, body)
    hand_over(consumers, body, body)
    order = orders.get(item["id"])
    assert order.fulfilment_status == "requested" and order.version == item["version"] + 1
    record = deliveries.get("fulfilment", json.loads(body)["id"])
    assert (record["state"], record["attempts"]) == ("done", 1)


def test_the_webhook_provider_posts_the_event_signed_so_an_independent_check_verifies_it(webhook):
    api, receiver = webhook
    item = store(order_item())
    body = fulfilment_message("OrderPaid", item)
    hand_over(api, body)
    hand_over(api, body)  # a redelivery: no second hand-over
    [request] = receiver.requests
    assert request["body"] == body.encode() and request["path"] == "/3pl/orders"
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["Commerce-Event-Id"] == f"{item['id']}.OrderPaid"
    assert verify(SECRET, headers["Commerce-Signature"], request["body"])
    assert not verify("another-secret", headers["Commerce-Signature"], request["body"])
    assert not verify(SECRET, headers["Commerce-Signature"], request["body"].replace(b"6245", b"1"))
    sent = json.loads(request["body"])
    assert sent["type"] == "OrderPaid" and sent["data"]["order"]["lines"][0]["sku"] == "TEE-M"
    assert "order_token" not in sent["data"] and "token" not in sent["data"]["order"]  # the warehouse gets no token
    assert orders.get(item["id"]).fulfilment_status == "requested"


def test_a_500_from_the_receiver_makes_the_consumer_raise_and_the_retry_hands_it_over(webhook):
    api, receiver = webhook
    receiver.statuses = [500, 200]
    item = store(order_item())
    body = fulfilment_message("OrderPaid", item)
    with pytest.raises(HandOverFailed, match="500"):
        hand_over(api, body)
    assert deliveries.get("fulfilment", json.loads(body)["id"]) is None
    assert orders.get(item["id"]).fulfilment_status == "requested"  # the conditional update is not repeated
    hand_over(api, body)
    hand_over(api, body)
    assert len(receiver.requests) == 2  # the failed attempt and the accepted one; nothing after


def test_an_unreachable_or_slow_receiver_makes_the_consumer_raise(webhook, monkeypatch):
    api, receiver = webhook
    body = fulfilment_message("OrderPaid", store(order_item()))
    receiver.close()
    with pytest.raises(HandOverFailed, match="unreachable"):
        hand_over(api, body)
    slow = Receiver(delay=1.5)
    monkeypatch.setenv("FULFILMENT_WEBHOOK_URL", slow.url)
    monkeypatch.setenv("FULFILMENT_WEBHOOK_TIMEOUT", "0.5")
    config.reset()
    try:
        with pytest.raises(HandOverFailed, match="timed out"):
            hand_over(api, body)
    finally:
        slow.close()


def test_a_redirect_is_not_followed_but_fails(webhook):
    api, receiver = webhook
    receiver.statuses = [302]
    with pytest.raises(HandOverFailed, match="302"):
        hand_over(api, fulfilment_message("OrderPaid", store(order_item())))
    assert len(receiver.requests) == 1


def test_cancellations_and_shipments_of_paid_orders_are_passed_to_the_webhook(webhook):
    api, receiver = webhook
    item = store(order_item())
    shipped = fulfilment_message("ShipmentCreated", item, carrier="UPS", tracking_number="1Z999")
    cancelled = fulfilment_message("OrderCancelled", item)
    assert hand_over(api, shipped, cancelled, shipped) == {"batchItemFailures": []}
    assert [json.loads(r["body"])["type"] for r in receiver.requests] == ["ShipmentCreated", "OrderCancelled"]
    assert all(verify(SECRET, r["headers"]["Commerce-Signature"], r["body"]) for r in receiver.requests)


def test_an_order_cancelled_before_its_paid_message_arrives_is_not_handed_over(webhook):
    api, receiver = webhook
    item = store(order_item(status="cancelled"))
    hand_over(api, fulfilment_message("OrderPaid", item | {"status": "paid"}))
    assert receiver.requests == []
    assert orders.get(item["id"]).fulfilment_status == "unfulfilled"


def test_the_manual_provider_leaves_the_order_waiting_and_ignores_other_events(consumers):
    item = store(order_item())
    hand_over(consumers, fulfilment_message("OrderPaid", item), fulfilment_message("OrderCancelled", item))
    assert orders.get(item["id"]).fulfilment_status == "requested"
    assert fulfilment.provider("manual").hand_over({"id": "x", "type": "ShipmentCreated"}, "{}") is None


def test_the_webhook_secret_can_come_from_ssm(webhook, monkeypatch):
    api, receiver = webhook
    boto3.client("ssm").put_parameter(Name="/commerce/test/fulfilment-webhook-secret", Value="from-ssm",
                                      Type="SecureString")
    monkeypatch.setenv("FULFILMENT_WEBHOOK_SECRET_PARAM", "/commerce/test/fulfilment-webhook-secret")
    config.reset()
    hand_over(api, fulfilment_message("OrderPaid", store(order_item())))
    [request] = receiver.requests
    assert verify("from-ssm", request["headers"]["Commerce-Signature"], request["body"])


def test_a_misconfigured_provider_raises_instead_of_dropping_the_message(consumers, monkeypatch):
    body = fulfilment_message("OrderPaid", store(order_item()))
    monkeypatch.setenv("FULFILMENT_PROVIDER", "warehouse9")
    config.reset()
    with pytest.raises(ValueError, match="Unknown fulfilment provider"):
        hand_over(consumers, body)
    monkeypatch.setenv("FULFILMENT_PROVIDER", "webhook")
    monkeypatch.setenv("FULFILMENT_WEBHOOK_URL", "http://127.0.0.1:9/never")
    monkeypatch.delenv("FULFILMENT_WEBHOOK_SECRET", raising=False)
    config.reset()
    with pytest.raises(HandOverFailed, match="unsigned"):
        hand_over(consumers, body)
    assert deliveries.get("fulfilment", json.loads(body)["id"]) is None
    monkeypatch.undo()
    config.reset()
    assert os.environ.get("FULFILMENT_PROVIDER") is None
