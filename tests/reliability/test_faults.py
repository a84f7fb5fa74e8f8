"""Fault injection: AWS and Stripe failing at the worst moments, then what a client, the stream and
the queues do about it (retry with the same Idempotency-Key, deliver the records and messages
again). Afterwards every scenario checks the same invariants (`assert_settled`):

- every paid order was handed to fulfilment exactly once and got exactly one confirmation email;
- stock adds up on every SKU (on_hand - reserved = available; reserved = what orders hold);
- nobody was charged twice: one PaymentIntent per order at localstripe, and what it received is
  what the order records as paid.

Faults are raised by botocore event hooks on the app's real clients (tests/reliability/support.py);
in-process moto, localstripe, and the fulfilment `webhook` provider posting to a local receiver, so
hand-overs can be counted.
"""

import json
import os
import uuid

import boto3
import pytest
import requests

from chalicelib import config, publishing
from chalicelib.repository import dynamo
from chalicelib.services import emails
from tests.conftest import make_product, ready_cart
from tests.orders_support import Stream, post_event, stripe_event
from tests.queue_support import pump, sent_emails
from tests.reliability.support import assert_stock_adds_up, failing, orders_in_table, payment_intents, throttled
from tests.stripe_support import WebhookReceiver

SENDER = "shop@example.com"
AUTH = ("sk_test_commerce", "")


class World:
    def __init__(self, api, outputs, localstripe, receiver):
        self.api, self.outputs, self.localstripe, self.receiver = api, outputs, localstripe, receiver
        self.stream = Stream()
        self.pending: list[dict] = []

    def relay(self) -> int:
        """Deliver the stream's new records to the relay, as Lambda does: a batch that failed is
        delivered again, before anything newer. Raises what the relay raised."""
        self.pending = self.pending or self.stream.read()
        if self.pending:
            self.api.raw.lambda_.invoke("on_table_change", {"Records": self.pending})
        delivered, self.pending = len(self.pending), []
        return delivered

    def settle(self, rounds: int = 12) -> None:
        """Run the relay and both consumers until nothing is left to do."""
        for _ in range(rounds):
            moved = self.relay()
            for function, queue in (("on_email_message", self.outputs["EmailQueueUrl"]),
                                    ("on_fulfilment_message", self.outputs["FulfilmentQueueUrl"])):
                moved += pump(self.api, function, queue)["received"]
            if not moved:
                return
        pytest.fail("the pipeline did not settle")

    def hand_overs(self, event_id: str) -> int:
        return sum(1 for headers, _ in self.receiver.received if headers.get("Commerce-Event-Id") == event_id)


@pytest.fixture
def world(shop, aws, localstripe):
    os.environ.update(EMAIL_SENDER=SENDER, SHOP_NAME="Demo Shop", FULFILMENT_PROVIDER="webhook",
                      FULFILMENT_WEBHOOK_SECRET="fulfilment-secret")
    with WebhookReceiver() as receiver:
        os.environ["FULFILMENT_WEBHOOK_URL"] = receiver.url
        config.reset()
        emails._ses.cache_clear()
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        make_product(shop, on_hand=10)
        yield World(shop, aws, localstripe, receiver)
    for name in ("EMAIL_SENDER", "SHOP_NAME", "FULFILMENT_PROVIDER", "FULFILMENT_WEBHOOK_SECRET",
                 "FULFILMENT_WEBHOOK_URL"):
        os.environ.pop(name, None)
    config.reset()
    emails._ses.cache_clear()


def checkout(world: World, cart_id: str, key: str):
    return world.api.post(f"/carts/{cart_id}/checkout", {}, headers={"Idempotency-Key": key})


def pay(world: World, result: dict) -> dict:
    """The customer pays at Stripe (localstripe) and Stripe tells us (a signed webhook)."""
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    intent = requests.post(f"{world.localstripe}/v1/payment_intents/{payment_id}/confirm", auth=AUTH, timeout=10,
                           data={"payment_method": "pm_card_visa"}).json()
    assert intent["status"] == "succeeded", intent
    return stripe_event("payment_intent.succeeded", intent)


def assert_settled(world: World, paid: int) -> None:
    world.settle()
    orders = orders_in_table()
    assert sum(order["status"] == "paid" for order in orders) == paid
    confirmations = [m.subject for m in sent_emails() if "is confirmed" in m.subject]
    for order in orders:
        intents = payment_intents(world.localstripe, order["id"])
        assert len(intents) == 1, (order["id"], intents)
        received = intents[0]["amount"] if intents[0]["status"] == "succeeded" else 0
        assert received == order.get("amount_paid", 0), (order["id"], intents[0]["status"])
        if order["status"] == "paid":
            assert world.hand_overs(f"{order['id']}.OrderPaid") == 1, order["id"]
            assert sum(order["id"] in subject for subject in confirmations) == 1, order["id"]
    assert assert_stock_adds_up()["TEE-M"]["reserved"] == sum(
        line["quantity"] for order in orders if not order.get("stock_released") for line in order["lines"])


# --- the request path --------------------------------------------------------------------------


def test_checkout_throttled_before_its_transaction_is_a_502_and_the_retry_reserves_once(world):
    cart = ready_cart(world.api, {"TEE-M": 2})
    key = str(uuid.uuid4())
    error = throttled("TransactWriteItems", "ProvisionedThroughputExceededException")
    with failing(dynamo.client(), "before-call.dynamodb.TransactWriteItems", error):
        first = checkout(world, cart["id"], key)
    assert (first.status_code, first.data["error"]["code"]) == (502, "upstream_unavailable")
    assert assert_stock_adds_up()["TEE-M"]["reserved"] == 0 and orders_in_table() == []
    retried = checkout(world, cart["id"], key)
    assert retried.status_code == 201, retried.data
    assert post_event(world.api, pay(world, retried.data)).status_code == 200
    assert_settled(world, paid=1)


def test_checkout_failing_after_its_transaction_committed_converges_on_the_same_order(world):
    cart = ready_cart(world.api, {"TEE-M": 2})
    key = str(uuid.uuid4())
    # The write happened, the caller hears an error: a timeout after the commit.
    with failing(dynamo.client(), "after-call.dynamodb.TransactWriteItems", throttled("TransactWriteItems")):
        first = checkout(world, cart["id"], key)
    assert (first.status_code, first.data["error"]["code"]) == (502, "upstream_unavailable")
    assert len(orders_in_table()) == 1 and assert_stock_adds_up()["TEE-M"]["reserved"] == 2
    retried = checkout(world, cart["id"], key)
    # The order that the failed attempt placed, under this key: its 201, replayed.
    assert retried.status_code == 201, retried.data
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert retried.data["order"]["id"] == orders_in_table()[0]["id"]
    again = checkout(world, cart["id"], key)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.data == retried.data
    assert post_event(world.api, pay(world, retried.data)).status_code == 200
    assert_settled(world, paid=1)


def test_stripe_unavailable_at_checkout_places_nothing_and_the_retry_makes_one_payment(world):
    cart = ready_cart(world.api, {"TEE-M": 1})
    key = str(uuid.uuid4())
    os.environ["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # the discard port: nothing listens
    config.reset()
    try:
        first = checkout(world, cart["id"], key)
    finally:
        os.environ["STRIPE_API_BASE"] = world.localstripe
        config.reset()
    assert (first.status_code, first.data["error"]["code"]) == (502, "upstream_unavailable")
    assert "127.0.0.1" not in json.dumps(first.data)
    assert orders_in_table() == [] and assert_stock_adds_up()["TEE-M"]["reserved"] == 0
    retried = checkout(world, cart["id"], key)
    assert retried.status_code == 201 and retried.data["payment"]["client_secret"]
    assert post_event(world.api, pay(world, retried.data)).status_code == 200
    assert_settled(world, paid=1)


def test_writing_the_order_failing_after_stripe_made_its_payment_does_not_make_a_second_one(world):
    cart = ready_cart(world.api, {"TEE-M": 1})
    key = str(uuid.uuid4())

    with failing(dynamo.client(), "before-call.dynamodb.TransactWriteItems", throttled("TransactWriteItems")) as hit:
        first = checkout(world, cart["id"], key)
    assert hit and first.status_code == 502 and orders_in_table() == []
    # The retry names the same order (same cart version), so Stripe's idempotency key finds the same
    # PaymentIntent, and the order is written with it (assert_settled: one PaymentIntent per order).
    retried = checkout(world, cart["id"], key)
    assert retried.status_code == 201, retried.data
    assert post_event(world.api, pay(world, retried.data)).status_code == 200
    assert_settled(world, paid=1)


def test_a_webhook_failing_after_it_committed_is_applied_once_when_stripe_retries(world):
    result = checkout(world, ready_cart(world.api, {"TEE-M": 3})["id"], str(uuid.uuid4())).data
    event = pay(world, result)
    with failing(dynamo.client(), "after-call.dynamodb.TransactWriteItems", throttled("TransactWriteItems")):
        first = post_event(world.api, event)
    assert (first.status_code, first.data["error"]["code"]) == (502, "upstream_unavailable")
    for _ in range(3):  # Stripe retries until it gets a 2xx, and may deliver more than once
        assert post_event(world.api, event).status_code == 200
    order = orders_in_table()[0]
    assert (order["status"], order["amount_paid"], order["version"]) == ("paid", order["total"], 1)
    assert_settled(world, paid=1)


def test_throttled_reads_are_a_retryable_502_in_the_envelope(world):
    cart = ready_cart(world.api, {"TEE-M": 1})
    with failing(dynamo.client(), "before-call.dynamodb.GetItem", throttled("GetItem"), times=1):
        first = world.api.get(f"/carts/{cart['id']}")
    assert first.status_code == 502
    assert first.data == {"error": {"code": "upstream_unavailable", "message": "The database is busy; please retry."}}
    assert world.api.get(f"/carts/{cart['id']}").data == cart


# --- the pipeline ------------------------------------------------------------------------------


def test_sqs_failing_in_the_relay_for_one_queue_still_hands_over_and_emails_once(world):
    for _ in range(2):
        result = checkout(world, ready_cart(world.api, {"TEE-M": 1})["id"], str(uuid.uuid4())).data
        assert post_event(world.api, pay(world, result)).status_code == 200
    email_queue = world.outputs["EmailQueueUrl"]
    # The fulfilment batch is sent, the email batch is refused: the stream delivers the records
    # again and the fulfilment messages go out a second time.
    with failing(publishing._sqs(), "before-call.sqs.SendMessageBatch",
                 throttled("SendMessageBatch", "ServiceUnavailable"), times=2,
                 when=lambda params: params.get("QueueUrl") == email_queue) as hit:
        for _ in range(2):
            with pytest.raises(Exception, match="Rate exceeded"):
                world.relay()
    assert len(hit) == 2
    assert_settled(world, paid=2)


def test_ses_failing_in_the_email_consumer_sends_each_confirmation_once(world):
    result = checkout(world, ready_cart(world.api, {"TEE-M": 1})["id"], str(uuid.uuid4())).data
    assert post_event(world.api, pay(world, result)).status_code == 200
    world.relay()
    with failing(emails._ses(), "before-call.sesv2.SendEmail", throttled("SendEmail", "TooManyRequestsException"),
                 times=3) as hit:
        for _ in range(3):
            outcome = pump(world.api, "on_email_message", world.outputs["EmailQueueUrl"])
            assert outcome["failed"] == 1
    assert len(hit) == 3 and not [m for m in sent_emails() if "is confirmed" in m.subject]
    assert_settled(world, paid=1)


def test_the_fulfilment_consumer_failing_after_marking_the_order_hands_it_over_once(world):
    result = checkout(world, ready_cart(world.api, {"TEE-M": 2})["id"], str(uuid.uuid4())).data
    assert post_event(world.api, pay(world, result)).status_code == 200
    world.relay()

    def marking(params):
        return "fulfilment_status = :requested" in params.get("UpdateExpression", "")

    with failing(dynamo.client(), "after-call.dynamodb.UpdateItem", throttled("UpdateItem"), when=marking) as hit:
        outcome = pump(world.api, "on_fulfilment_message", world.outputs["FulfilmentQueueUrl"])
    assert hit and outcome["failed"] == 1 and not world.receiver.received
    assert orders_in_table()[0]["fulfilment_status"] == "requested"  # committed before the failure
    assert_settled(world, paid=1)


def test_the_fulfilment_provider_down_is_retried_through_the_queue(world):
    result = checkout(world, ready_cart(world.api, {"TEE-M": 1})["id"], str(uuid.uuid4())).data
    assert post_event(world.api, pay(world, result)).status_code == 200
    world.relay()
    os.environ["FULFILMENT_WEBHOOK_URL"] = "http://127.0.0.1:9/fulfil"
    config.reset()
    try:
        assert pump(world.api, "on_fulfilment_message", world.outputs["FulfilmentQueueUrl"])["failed"] == 1
    finally:
        os.environ["FULFILMENT_WEBHOOK_URL"] = world.receiver.url
        config.reset()
    assert_settled(world, paid=1)
