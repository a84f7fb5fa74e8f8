"""Helpers for tests of the queue consumers: realistic orders and the queue messages the relay makes
of their changes, Lambda SQS events, a pump that does what Lambda's SQS mapping does, and what SES
(moto) has sent."""

import os
from datetime import timedelta

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib import clock, config, events
from chalicelib.repository import dynamo, stream
from chalicelib.repository.orders import order_key
from chalicelib.services import emails
from tests.conftest import Api

SENDER = "shop@example.com"
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}


@pytest.fixture(name="consumers")
def consumers_fixture(aws):
    """The app's test client on a stage that `.chalice/config.json` does not define. chalice.test
    patches a stage's environment variables into every invocation, so on `dev` the consumers would
    read the deployed sender, shop name and SSM parameter names instead of what a test sets."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="consumer-tests") as test_client:
        yield Api(test_client)


@pytest.fixture(name="mail")
def mail_fixture(consumers, tmp_path):
    """The consumers' client, with SES's sender identity verified (moto, like SES, rejects mail from an
    unverified address) and sent mail also written to an outbox folder, which is returned as
    `mail.outbox`."""
    outbox = tmp_path / "outbox"
    os.environ.update(OUTBOX_DIR=str(outbox), EMAIL_SENDER=SENDER, SHOP_NAME="Demo Shop",
                      STOREFRONT_URL="https://shop.example", SHOP_EMAIL="owner@example.com")
    config.reset()
    emails._ses.cache_clear()
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    consumers.outbox = outbox
    yield consumers
    for name in ("OUTBOX_DIR", "EMAIL_SENDER", "SHOP_NAME", "STOREFRONT_URL", "SHOP_EMAIL"):
        os.environ.pop(name, None)
    config.reset()
    emails._ses.cache_clear()


def sent_emails() -> list:
    """What SES v2 has accepted: moto records it in the SES (v1) backend. Each has .source,
    .destinations, .subject and .body (for Content.Simple moto keeps only the HTML part)."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].sent_messages)


def order_item(status: str = "paid", name: str = "Ada Lovelace", email: str = "ada@example.com",
               **overrides) -> dict:
    """An order as stored (its item, keys and all), paid by default."""
    order_id = overrides.pop("id", None) or clock.new_id("ord")
    created = clock.now() - timedelta(minutes=5)
    lines = [{"sku": "TEE-M", "product_id": "prod_1", "title": "T-shirt – M", "quantity": 2, "unit_price": 1999,
              "line_total": 3998},
             {"sku": "MUG", "product_id": "prod_2", "title": "Mug", "quantity": 1, "unit_price": 1250,
              "line_total": 1250}]
    paid = status != "pending_payment"
    item = {
        "id": order_id, "cart_id": clock.new_id("cart"), "token": "tok_Secret-123", "status": status,
        "payment_status": "paid" if paid else "pending", "fulfilment_status": "unfulfilled", "currency": "EUR",
        "email": email, "lines": lines, "shipping_address": ADDRESS | {"name": name}, "shipping_method": "standard",
        "subtotal": 5248, "discount_total": 0, "shipping_total": 0, "tax_total": 997, "total": 6245,
        "amount_paid": 6245 if paid else 0, "amount_refunded": 0, "shipments": [],
        "payment": {"provider": "stripe", "payment_id": "pi_1", "client_secret": "pi_1_secret_x"},
        "created_at": clock.iso(created), "payment_deadline": clock.iso(created + timedelta(minutes=30)),
        "paid_at": clock.iso(clock.now()) if paid else None, "version": 2,
        "GSI1PK": f"ORDERS#{status}", "GSI1SK": f"{clock.iso(created)}#{order_id}",
    } | overrides
    return {k: v for k, v in item.items() if v is not None} | order_key(order_id)


def store(item: dict) -> dict:
    """Write an order item to the table as it is."""
    dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(item))
    return item


def message(kind: str, item: dict | None = None, queue: str = events.EMAIL, **change) -> str:
    """The queue message body the relay makes of an order change that stands for `kind`, by
    events.order_events itself: OrderPaid, OrderCancelled, OrderNeedsReview, ShipmentCreated
    (change: carrier, tracking_number), RefundCreated (change: amount)."""
    new = dict(item or order_item())
    if kind == "OrderPaid":
        old = new | {"status": "pending_payment", "payment_status": "pending"}
    elif kind == "OrderCancelled":
        old = new | {"status": new.get("status", "paid")}
        new |= {"status": "cancelled", "cancelled_at": clock.iso(clock.now()),
                "cancel_reason": change.get("reason", "cancelled by the shop")}
    elif kind == "OrderNeedsReview":
        old = new
        new = new | {"status": "needs_review", "review_reason": "Payment of 100 EUR does not match the order total."}
    elif kind == "ShipmentCreated":
        old = new
        shipment = {"id": clock.new_id("shp", 12), "carrier": change.get("carrier", "DHL"),
                    "tracking_number": change.get("tracking_number", "JD014600006281230704"),
                    "lines": [{"sku": "TEE-M", "quantity": 2}], "created_at": clock.iso(clock.now())}
        new = new | {"shipments": [*new.get("shipments", []), shipment], "fulfilment_status": "partially_shipped"}
    elif kind == "RefundCreated":
        old = new
        new = new | {"amount_refunded": new.get("amount_refunded", 0) + change.get("amount", 1000),
                     "payment_status": "partially_refunded"}
    else:
        raise ValueError(kind)
    found = [e for e in events.order_events(*stream.images(old, new)) if e.type == kind]
    assert len(found) == 1 and queue in found[0].queues, (kind, queue, found)
    return found[0].body(queue)


def sqs_event(api, *bodies: str) -> dict:
    """A Lambda SQS event with one record per body, each with its own messageId (msg-0, msg-1...)."""
    event = api.raw.events.generate_sqs_event(list(bodies))
    for index, record in enumerate(event["Records"]):
        record["messageId"] = f"msg-{index}"
        record["receiptHandle"] = f"handle-{index}"
    return event


def pump(api, function: str, queue_url: str, visibility_timeout: int = 0) -> dict:
    """Receive one batch from a real (moto) queue and deliver it like Lambda's SQS mapping with
    ReportBatchItemFailures: invoke the function; if it raises, leave every message in the queue,
    otherwise delete all but the reported failures. With visibility_timeout=0 a failed message is
    visible again at once, so retries (and the move to the dead-letter queue) can be driven fast.
    Returns {"received", "failed", "raised"}."""
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=visibility_timeout,
                                   AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
    if not messages:
        return {"received": 0, "failed": 0, "raised": None}
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn,
                "awsRegion": os.environ["AWS_DEFAULT_REGION"]} for m in messages]
    try:
        answer = api.raw.lambda_.invoke(function, {"Records": records}).payload
    except Exception as error:
        return {"received": len(messages), "failed": len(messages), "raised": error}
    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return {"received": len(messages), "failed": len(failed), "raised": None}


def queue_bodies(queue_url: str) -> list[str]:
    """The bodies waiting in a queue, left in place (received with a zero visibility timeout). Every
    look counts as a receive: use it on dead-letter queues, not on queues with a redrive policy."""
    sqs = boto3.client("sqs")
    seen: dict[str, str] = {}
    for _ in range(5):
        for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                     ).get("Messages", []):
            seen[m["MessageId"]] = m["Body"]
    return list(seen.values())
