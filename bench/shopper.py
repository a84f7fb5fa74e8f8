"""The scripted shopper, in-process against moto (chalice.test.Client) with a localstripe child.

One shopper: browse products, create a cart, add three lines, change a quantity, read the cart, set
email, address and shipping, check out (with an Idempotency-Key), pay (confirm the PaymentIntent at
localstripe with pm_card_visa, as the browser would), the signed `payment_intent.succeeded` webhook,
read the order. Then what AWS runs after it: the stream relay over the records the shopper's writes
left, the SQS poller's receive and delete, and the email and fulfilment consumers.

Every step is one `Sample`: wall time, the time inside AWS calls and Stripe HTTP calls
(bench/meter.py), the calls by service and operation (bench/aws_calls.py's counter) and the
estimated DynamoDB capacity.
"""

import gc
import importlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import boto3
import requests

from bench import aws_calls, meter, moto_speed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "sk_test_bench"  # noqa: S105 - localstripe takes any test key
WEBHOOK_SECRET = "whsec_bench"  # noqa: S105
SENDER = "shop@example.com"
FLOOR_STEP = "floor: GET /items/{id} (bench/minimal_app.py)"
# The floor as measured until 2026-12-02: three calls in a row after each shopper, so two of every three
# are warm (its code and data just used), while each route runs once between other routes. Kept beside
# the floor measured like a route (FLOOR_STEP, one call between the shopper's routes) to show both.
FLOOR_WARM_STEP = "floor, 3 in a row after each shopper (until 2026-12-02)"
KEYED_LINE_STEP = "POST /carts/{id}/lines with Idempotency-Key"
ASYNC_STEPS = ("relay (stream → SQS)", "SQS poller (receive + delete)", "email consumer", "fulfilment consumer")
CLIENT_SIDE = ("pay (browser → Stripe)",)


@dataclass
class Sample:
    step: str
    status: int
    wall: float
    aws: float
    http: float
    meter: float
    calls: Counter
    read_units: float
    write_units: float
    http_calls: int = 0
    transform: float = 0.0  # boto3 resource (de)serialisation inside the AWS calls: own time (bench/meter.py)
    app: float = 0.0  # wall time inside Chalice.__call__ (0 for what is not an API request)

    @property
    def own(self) -> float:
        """Wall time minus AWS calls, Stripe calls and the meter's own bookkeeping."""
        return max(self.wall - self.aws - self.http - self.meter, 0.0)

    @property
    def own_in_app(self) -> float:
        """Own time inside the Chalice app only: without chalice.test's event, context and route matching."""
        return max(self.app - self.aws - self.http - self.meter, 0.0)

    def to_json(self) -> dict:
        return {"step": self.step, "status": self.status, "wall": self.wall, "aws": self.aws, "http": self.http,
                "own": self.own, "own_in_app": self.own_in_app, "transform": self.transform,
                "read_units": self.read_units, "write_units": self.write_units,
                "http_calls": self.http_calls,
                "calls": {f"{service} {operation}": n for (service, operation), n in self.calls.items()}}


@dataclass
class Shop:
    api: object  # tests.conftest.Api
    outputs: dict
    stripe: str
    products: list[dict]
    stream: object = None
    floor: object = None  # tests.conftest.Api over bench/minimal_app.py in the same moto world
    seed_seconds: float = 0.0
    samples: list[Sample] = field(default_factory=list)


def _measure(shop: Shop, step: str, action) -> object:
    with aws_calls.count_calls() as calls, meter.metered() as metered:
        started = time.perf_counter()
        answer = action()
        wall = time.perf_counter() - started
    status = getattr(answer, "status_code", 200)
    shop.samples.append(Sample(step, status, wall, metered.aws_seconds, metered.http_seconds, metered.meter_seconds,
                               Counter(calls.by_operation()), metered.read_units, metered.write_units,
                               metered.http_calls, metered.transform_seconds, metered.app_seconds))
    if status >= 400:
        raise RuntimeError(f"{step} failed: {status} {getattr(answer, 'data', answer)}")
    return answer


# --- the stack ----------------------------------------------------------------------------------


@contextmanager
def localstripe():
    """A localstripe child process (devstack's launcher: loopback, in-memory) on a free port."""
    from devstack.processes import Child, free_port

    child = Child("devstack.localstripe", free_port(), "localstripe").start()
    try:
        child.wait_until_listening()
        yield child.url
    finally:
        child.stop()


@contextmanager
def world(stripe: str, history: int = 0, progress=None):
    """A fresh in-process moto world from infra/template.yaml with the bench catalogue and `history`
    items of seeded orders and carts; yields a Shop."""
    from chalice.test import Client
    from moto import mock_aws

    from bench import seed
    from tests.conftest import ADMIN, Api, build_world, reset_clients

    moto_speed.install()
    aws_calls.install()
    # One JSON access-log line per request (chalicelib/observability.py) would drown the progress bar.
    logging.disable(logging.INFO)
    with mock_aws():
        outputs = build_world(stack="commerce-bench", stage="test")
        os.environ.update(STRIPE_API_BASE=stripe, STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_PUBLISHABLE_KEY="pk_test_bench",
                          STRIPE_WEBHOOK_SECRETS=WEBHOOK_SECRET, EMAIL_SENDER=SENDER, FULFILMENT_PROVIDER="manual",
                          SHOP_NAME="Bench Shop", CART_LINK_SECRET="bench-cart-link",  # noqa: S106
                          UNSUBSCRIBE_SECRET="bench-unsubscribe", GIFT_CARD_SECRET="bench-gift-card")  # noqa: S106
        reset_clients()
        from chalicelib.services import emails

        emails._ses.cache_clear()
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        from app import app
        from bench import minimal_app

        # The floor creates its table resource at import, as Chalice samples do: again in every world.
        minimal_app = importlib.reload(minimal_app)
        with Client(app, stage_name="test") as test_client, Client(minimal_app.app, stage_name="test") as floor:
            api = Api(test_client)
            products = []
            for name, price in [("Tee", 2500), ("Hoodie", 5900), ("Mug", 1400), ("Tote", 1800), ("Cap", 2200)]:
                body = {"title": f"{name}", "description": f"The bench's {name.lower()}, in three variants.",
                        "active": True, "variants": [{"sku": f"{name.upper()}-{size}", "title": size, "price": price,
                                                      "currency": "EUR", "on_hand": 1_000_000}
                                                     for size in ("S", "M", "L")]}
                answer = api.post("/admin/products", body, headers=ADMIN)
                assert answer.status_code == 201, answer.data
                products.append(answer.data)
            seed_seconds = 0.0
            if history:
                skus = [{"sku": v["sku"], "product_id": p["id"], "title": f"{p['title']} – {v['title']}",
                         "price": v["price"]} for p in products for v in p["variants"]]
                seeding_started = time.perf_counter()
                seed.seed_table(history, skus, progress)
                seed_seconds = time.perf_counter() - seeding_started
            from tests.orders_support import Stream

            shop = Shop(api=api, outputs=outputs, stripe=stripe, products=products, floor=Api(floor),
                        seed_seconds=seed_seconds)
            shop.stream = Stream()
            shop.stream.read() if not history else _skip_history(shop.stream)
            yield shop
    reset_clients()
    gc.unfreeze()  # bench/seed.py froze the seeded world out of the collector; it is gone now


def _skip_history(stream) -> None:
    """Start the stream reader after the seeded items (the relay never saw them: they are history), without
    reading them (moto serialises a page of 1,000 records in seconds): an iterator at LATEST per shard, one
    sentinel write, and its record's sequence number as the last one read (tests/orders_support.Stream reads
    after `last`, or from TRIM_HORIZON, which replayed the whole history into the first relay)."""
    latest = {shard: stream.client.get_shard_iterator(StreamArn=stream.arn, ShardId=shard,
                                                      ShardIteratorType="LATEST")["ShardIterator"]
              for shard in stream.shards}
    boto3.client("dynamodb").put_item(TableName=os.environ["TABLE_NAME"],
                                      Item={"PK": {"S": "BENCH#HISTORY"}, "SK": {"S": "END"}})
    for shard, iterator in latest.items():
        records = stream.client.get_records(ShardIterator=iterator)["Records"]
        if records:
            stream.last[shard] = records[-1]["dynamodb"]["SequenceNumber"]
    if len(stream.last) < len(stream.shards):
        raise RuntimeError("the sentinel's stream record was not found on every shard; the history would be relayed")


# --- one shopper -------------------------------------------------------------------------------


def _sign(payload: bytes) -> str:
    from tests.orders_support import stripe_signature

    return stripe_signature(payload, secret=WEBHOOK_SECRET)


def shop_once(shop: Shop, rng: random.Random, pipeline: bool = True) -> str:
    """One shopper from browsing to a paid order (and, with `pipeline`, its events consumed).
    Returns the order id."""
    api = shop.api
    product = rng.choice(shop.products)
    _measure(shop, "GET /products", lambda: api.get("/products"))
    _measure(shop, "GET /products/{id}", lambda: api.get(f"/products/{product['id']}"))
    cart = _measure(shop, "POST /carts", lambda: api.post("/carts", {})).data
    cart_id = cart["id"]
    skus = rng.sample([v["sku"] for p in shop.products for v in p["variants"]], 3)
    for sku in skus[:2]:
        _measure(shop, "POST /carts/{id}/lines", lambda sku=sku: api.post(f"/carts/{cart_id}/lines",
                                                                          {"sku": sku, "quantity": 1}))
    # The third line as the TypeScript client sends every POST: with an Idempotency-Key.
    _measure(shop, KEYED_LINE_STEP, lambda: api.post(f"/carts/{cart_id}/lines", {"sku": skus[2], "quantity": 1},
                                                     headers={"Idempotency-Key": str(uuid.uuid4())}))
    _measure(shop, "PATCH /carts/{id}/lines/{sku}",
             lambda: api.patch(f"/carts/{cart_id}/lines/{skus[0]}", {"quantity": 2}))
    _measure(shop, "GET /carts/{id}", lambda: api.get(f"/carts/{cart_id}"))
    if shop.floor is not None:  # the floor as the routes are measured: once, between two of them
        _measure(shop, FLOOR_STEP, lambda: shop.floor.get("/items/bench"))
    _measure(shop, "PATCH /carts/{id} (email, address, shipping)", lambda: api.patch(f"/carts/{cart_id}", {
        "email": "ada@example.com", "shipping_method": "standard",
        "shipping_address": {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin",
                             "postal_code": "10115", "country": "DE"}}))
    checkout = _measure(shop, "POST /carts/{id}/checkout", lambda: api.post(
        f"/carts/{cart_id}/checkout", {}, headers={"Idempotency-Key": str(uuid.uuid4())})).data
    order_id, token = checkout["order"]["id"], checkout["order_token"]
    payment_id = checkout["payment"]["client_secret"].split("_secret_")[0]

    def pay():
        answer = requests.post(f"{shop.stripe}/v1/payment_intents/{payment_id}/confirm", auth=(SECRET_KEY, ""),
                               data={"payment_method": "pm_card_visa"}, timeout=10)
        answer.raise_for_status()
        return answer

    intent = _measure(shop, CLIENT_SIDE[0], pay).json()
    assert intent["status"] == "succeeded", intent
    from tests.orders_support import stripe_event

    payload = json.dumps(stripe_event("payment_intent.succeeded", intent)).encode()
    _measure(shop, "POST /webhooks/stripe", lambda: api.request("POST", "/webhooks/stripe", raw=payload,
                                                                headers={"Stripe-Signature": _sign(payload)}))
    order = _measure(shop, "GET /orders/{id}", lambda: api.get(f"/orders/{order_id}",
                                                               headers={"X-Order-Token": token})).data
    assert order["status"] == "paid", order
    if pipeline:
        run_pipeline(shop)
    return order_id


def floor_once(shop: Shop, repeats: int = 3) -> None:
    """The floor as it was measured until 2026-12-02 (FLOOR_WARM_STEP): `repeats` calls in a row between
    the shoppers. The floor proper (FLOOR_STEP) is measured inside `shop_once`, between two routes."""
    for _ in range(repeats):
        _measure(shop, FLOOR_WARM_STEP, lambda: shop.floor.get("/items/bench"))


def run_pipeline(shop: Shop) -> None:
    """What AWS does after the requests: the stream to the relay, the queues to the consumers."""
    records = shop.stream.read()
    if records:
        _measure(shop, ASYNC_STEPS[0], lambda: shop.api.raw.lambda_.invoke("on_table_change", {"Records": records}))
    for function, queue in (("on_email_message", shop.outputs["EmailQueueUrl"]),
                            ("on_fulfilment_message", shop.outputs["FulfilmentQueueUrl"])):
        _consume(shop, function, queue)


def _consume(shop: Shop, function: str, queue_url: str) -> None:
    sqs = boto3.client("sqs")
    step = ASYNC_STEPS[2] if function == "on_email_message" else ASYNC_STEPS[3]
    while True:
        received = _measure(shop, ASYNC_STEPS[1], lambda: sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]))
        messages = received.get("Messages", [])
        if not messages:
            shop.samples.pop()  # an empty poll is the poller idling, not the order's cost
            return
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
                    "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                    "awsRegion": os.environ["AWS_DEFAULT_REGION"],
                    "eventSourceARN": f"arn:aws:sqs:{os.environ['AWS_DEFAULT_REGION']}:123456789012:queue"}
                   for m in messages]
        answer = _measure(shop, step, lambda records=records: shop.api.raw.lambda_.invoke(function,
                                                                                         {"Records": records}))
        failed = {f["itemIdentifier"] for f in (answer.payload or {}).get("batchItemFailures", [])}
        if failed:
            raise RuntimeError(f"{function} failed messages: {failed}")
        _measure(shop, ASYNC_STEPS[1], lambda messages=messages: sqs.delete_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                         for i, m in enumerate(messages)]))


# --- the admin listing and the schedules -------------------------------------------------------


def stale_orders_and_idle_carts(shop: Shop, count: int) -> None:
    """`count` unpaid orders checked out two hours ago (past their payment deadline) and `count` carts
    left idle two hours ago with an email: the schedules' work, the same at every table size."""
    from chalicelib import clock
    from tests.conftest import ADDRESS

    api = shop.api
    real_now = clock.now
    past = real_now() - timedelta(hours=2)
    clock.now = lambda: past
    try:
        sku = shop.products[0]["variants"][0]["sku"]
        for index in range(2 * count):
            cart_id = api.post("/carts", {"email": "idle@example.com"}).data["id"]
            api.post(f"/carts/{cart_id}/lines", {"sku": sku, "quantity": 1})
            api.patch(f"/carts/{cart_id}", {"shipping_address": ADDRESS, "shipping_method": "standard"})
            if index < count:
                assert api.post(f"/carts/{cart_id}/checkout", {}).status_code == 201
    finally:
        clock.now = real_now
    shop.stream.read() if shop.stream else None


def admin_and_schedules(shop: Shop, repetitions: int = 5) -> dict:
    """The admin's paid-orders page (median of `repetitions`) and one run of each schedule."""
    from tests.conftest import ADMIN

    api = shop.api
    for _ in range(repetitions):
        _measure(shop, "GET /admin/orders?status=paid", lambda: api.get("/admin/orders?status=paid",
                                                                        headers=ADMIN))
    tick = api.raw.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=[])
    results = {}
    for name in ("expire_unpaid_orders", "sweep_abandoned_carts"):
        answer = _measure(shop, f"schedule {name}", lambda name=name: api.raw.lambda_.invoke(name, tick))
        results[name] = answer.payload
    return results


# --- package ------------------------------------------------------------------------


def package_size(stage: str = "dev") -> dict:
    """build/<stage>/deployment.zip, built now with infra/package.py: zipped and unzipped bytes and file
    count."""
    import zipfile

    path = os.path.join(ROOT, "build", stage, "deployment.zip")
    with tempfile.TemporaryFile() as log:
        done = subprocess.run([sys.executable, "infra/package.py", "--stage", stage, "--out", f"build/{stage}"],
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode:
            log.seek(0)
            return {"error": log.read().decode(errors="replace")[-2000:]}
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    by_package: Counter = Counter()
    for info in infos:
        by_package[info.filename.split("/")[0]] += info.compress_size
    return {"path": os.path.relpath(path, ROOT), "zipped_bytes": os.path.getsize(path),
            "unzipped_bytes": sum(i.file_size for i in infos), "files": len(infos),
            "largest_zipped": dict(by_package.most_common(8))}
