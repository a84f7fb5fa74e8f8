"""Unpaid orders expire and late payments are handled; committed changes reach the queues."""

import os
from datetime import timedelta

import botocore.exceptions
import pytest
import requests

from chalicelib import clock, publishing
from chalicelib.services import orders
from tests.conftest import make_product
from tests.orders_support import Stream, checked_out, post_event, queue_messages
from tests.test_checkout import stock
from tests.test_webhooks import order_of, paid_event


def refunds_of(localstripe: str, payment_id: str) -> list[int]:
    """The amounts refunded at localstripe for one PaymentIntent."""
    auth = ("sk_test_commerce", "")
    pi = requests.get(f"{localstripe}/v1/payment_intents/{payment_id}", auth=auth, timeout=5).json()
    charges = {c["id"] for c in pi["charges"]["data"]}
    refunds = requests.get(f"{localstripe}/v1/refunds", auth=auth, timeout=5).json()["data"]
    return [r["amount"] for r in refunds if r.get("payment_intent") == payment_id or r.get("charge") in charges]


@pytest.fixture
def later(monkeypatch):
    """Move the clock forward by the given minutes."""
    def move(minutes: int):
        moment = clock.now() + timedelta(minutes=minutes)
        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment
    return move


def test_unpaid_orders_past_their_deadline_are_cancelled_and_release_stock(shop, later):
    make_product(shop, on_hand=4)
    stale = checked_out(shop, {"TEE-M": 2})
    paid = checked_out(shop, {"TEE-M": 1})
    post_event(shop, paid_event(paid))
    assert orders.expire_unpaid() == 0  # nothing is past its deadline yet
    later(31)
    tick = shop.raw.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                             resources=[])
    assert shop.raw.lambda_.invoke("expire_unpaid_orders", tick).payload == {"cancelled": 1}
    assert order_of(shop, stale)["status"] == "cancelled"
    assert order_of(shop, paid)["status"] == "paid"
    assert stock("TEE-M") == {"on_hand": 4, "reserved": 1, "available": 3}
    assert orders.expire_unpaid() == 0  # running again changes nothing


def test_a_late_payment_re_reserves_the_stock_when_it_is_still_there(shop, later):
    make_product(shop, on_hand=2)
    result = checked_out(shop, {"TEE-M": 2})
    later(31)
    orders.expire_unpaid()
    assert post_event(shop, paid_event(result)).status_code == 200
    order = order_of(shop, result)
    assert (order["status"], order["payment_status"]) == ("paid", "paid")
    assert stock("TEE-M") == {"on_hand": 2, "reserved": 2, "available": 0}


def test_a_late_payment_without_stock_is_refunded_and_the_order_stays_cancelled(shop, later, localstripe):
    make_product(shop, on_hand=2)
    result = checked_out(shop, {"TEE-M": 2})
    later(31)
    orders.expire_unpaid()  # cancels the order's PaymentIntent at the provider too
    checked_out(shop, {"TEE-M": 2})  # someone else buys the released units
    # A second PaymentIntent for the same order (another tab, a storefront bug), paid after the expiry.
    auth = ("sk_test_commerce", "")
    late = requests.post(f"{localstripe}/v1/payment_intents", auth=auth, timeout=5,
                         data={"amount": result["order"]["total"], "currency": "eur", "payment_method_types[]": "card",
                               "metadata[order_id]": result["order"]["id"], "payment_method": "pm_card_visa",
                               "confirm": "true"}).json()
    assert late["status"] == "succeeded", late
    answer = post_event(shop, paid_event(result, payment_id=late["id"]))
    assert answer.status_code == 200, answer.data
    order = order_of(shop, result)
    assert (order["status"], order["payment_status"], order["amount_refunded"]) == (
        "cancelled", "refunded", order["total"])
    assert stock("TEE-M") == {"on_hand": 2, "reserved": 2, "available": 0}
    assert refunds_of(localstripe, late["id"]) == [order["total"]]


def test_a_paid_order_reaches_the_fulfilment_and_email_queues_once_each(shop, aws):
    stream = Stream()
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    post_event(shop, paid_event(result))
    records = stream.read()
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})  # the stream delivers again
    fulfilment = queue_messages(aws["FulfilmentQueueUrl"])
    emails = queue_messages(aws["EmailQueueUrl"])
    assert {m["type"] for m in fulfilment} == {"OrderPaid"}
    assert len({m["id"] for m in fulfilment}) == 1 and len({m["id"] for m in emails}) == 1
    assert emails[0]["data"]["order_token"] == result["order_token"]
    assert "order_token" not in fulfilment[0]["data"]
    assert fulfilment[0]["data"]["order"]["id"] == result["order"]["id"]


def test_an_sqs_failure_after_the_order_was_written_still_delivers_the_messages(shop, aws):
    stream = Stream()
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    post_event(shop, paid_event(result))
    records = stream.read()

    def refuse(**kwargs):
        raise botocore.exceptions.EndpointConnectionError(endpoint_url="https://sqs")

    hooks = publishing._sqs().meta.events  # a botocore event hook on the real client: SQS is down
    hooks.register("before-call.sqs.SendMessageBatch", refuse, unique_id="refuse-sqs")
    try:
        with pytest.raises(botocore.exceptions.EndpointConnectionError):
            shop.raw.lambda_.invoke("on_table_change", {"Records": records})
    finally:
        hooks.unregister("before-call.sqs.SendMessageBatch", unique_id="refuse-sqs")
    assert queue_messages(aws["FulfilmentQueueUrl"]) == []
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})  # the stream retries the batch
    assert [m["type"] for m in queue_messages(aws["FulfilmentQueueUrl"])] == ["OrderPaid"]
    assert os.environ["TABLE_NAME"]
