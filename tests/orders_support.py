"""Helpers for tests of checkout, webhooks and the relay: Stripe settings pointing at the test
localstripe, signed webhook requests, and reading the table's stream from moto."""

import hashlib
import hmac
import json
import os
import time

import boto3

from tests.conftest import ready_cart

WEBHOOK_SECRET = "whsec_test_primary"


def use_localstripe(base_url: str) -> None:
    """Point the app's Stripe settings at a localstripe."""
    os.environ.update(STRIPE_API_BASE=base_url, STRIPE_SECRET_KEY="sk_test_commerce",
                      STRIPE_PUBLISHABLE_KEY="pk_test_commerce", STRIPE_WEBHOOK_SECRETS=WEBHOOK_SECRET)
    from chalicelib import config

    config.reset()


def stripe_signature(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(kind: str, obj: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_{os.urandom(8).hex()}", "object": "event", "api_version": "2024-06-20",
            "created": int(time.time()), "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": kind}


def intent(order: dict, amount: int | None = None, currency: str | None = None, status: str = "succeeded",
           payment_id: str = "pi_test") -> dict:
    amount = order["total"] if amount is None else amount
    return {"id": payment_id, "object": "payment_intent", "amount": amount, "amount_received": amount,
            "currency": (currency or order["currency"]).lower(), "metadata": {"order_id": order["id"]},
            "status": status}


def charge_refunded(order: dict, refunded: int, payment_id: str = "pi_test") -> dict:
    return {"id": "ch_test", "object": "charge", "amount": order["total"], "amount_refunded": refunded,
            "currency": order["currency"].lower(), "payment_intent": payment_id, "refunded": refunded >= order["total"],
            "metadata": {"order_id": order["id"]}}


def post_event(api, event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    payload = json.dumps(event).encode()
    return api.request("POST", "/webhooks/stripe", raw=payload,
                       headers={"Stripe-Signature": stripe_signature(payload, secret, timestamp)})


def checked_out(api, lines: dict[str, int], **body) -> dict:
    cart = ready_cart(api, lines)
    answer = api.post(f"/carts/{cart['id']}/checkout", body)
    assert answer.status_code == 201, answer.data
    return answer.data


class Stream:
    """Reads the table's stream on moto from where it last stopped, like Lambda's mapping does."""

    def __init__(self):
        table = os.environ["TABLE_NAME"]
        arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        # botocore's endpoint rules send DynamoDB Streams calls to a host in-process moto does not
        # intercept ("404 Not yet implemented"); naming the classic endpoint fixes that.
        region = boto3.session.Session().region_name
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"https://streams.dynamodb.{region}.amazonaws.com"
        self.client = boto3.client("dynamodbstreams", endpoint_url=endpoint)
        shards = self.client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.shards = [s["ShardId"] for s in shards]
        self.last: dict[str, str] = {}  # the sequence number of the last record read, by shard
        self.arn = arn

    def _iterator(self, shard: str) -> str:
        # A fresh iterator after the last record read, each time: in-process moto puts back a deep copy of a
        # table (its stream shard included) when a transaction is cancelled, which an old iterator, pointing
        # at the replaced shard, would never see new records of. DynamoDB has no such thing.
        where = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.last[shard]}
                 if shard in self.last else {"ShardIteratorType": "TRIM_HORIZON"})
        return self.client.get_shard_iterator(StreamArn=self.arn, ShardId=shard, **where)["ShardIterator"]

    def read(self) -> list[dict]:
        records = []
        for shard in self.shards:
            answer = self.client.get_records(ShardIterator=self._iterator(shard))
            records += answer["Records"]
            if answer["Records"]:
                self.last[shard] = answer["Records"][-1]["dynamodb"]["SequenceNumber"]
        for record in records:
            # Lambda's shape: boto3 parses the creation time into a datetime, Lambda sends epoch seconds.
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if created is not None and not isinstance(created, int | float):
                record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
            record["eventSourceARN"] = self.arn
        return records


def queue_messages(queue_url: str) -> list[dict]:
    """Everything waiting in a queue (received and deleted)."""
    sqs = boto3.client("sqs")
    bodies = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
