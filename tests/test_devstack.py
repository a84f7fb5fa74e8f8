"""The local stack: `python -m devstack` end to end, and the event pump against a moto server."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests
from chalice import Chalice, Rate

from devstack.launcher import LocalStack
from devstack.processes import Child, free_port, port_is_free
from devstack.pump import Pump
from devstack.seed import CATALOGUE, LOW_STOCK_SKU
from devstack.stack import ROOT, create_stack

REGION = "eu-west-1"
LOCAL_ADMIN_KEY = "devstack-test-admin-key"


def eventually(check, timeout: float = 15.0, interval: float = 0.1):
    """Wait until check() is truthy and return it; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)
    return result


# --- python -m devstack ------------------------------------------------------------------------


class RunningStack(LocalStack):
    def __init__(self, outbox):
        super().__init__(outbox, admin_key=LOCAL_ADMIN_KEY, ready_timeout=60.0)
        self.start()


@pytest.fixture
def stack(tmp_path):
    running = RunningStack(tmp_path / "outbox")
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def test_make_run_serves_the_seeded_catalogue_and_stops_cleanly_on_ctrl_c(stack):
    stack.wait_until_ready()
    assert stack.api in stack.log and LOCAL_ADMIN_KEY in stack.log

    # The demo storefront, with a config.js that points it at this stack's API.
    storefront = f"http://127.0.0.1:{stack.ports['STOREFRONT_PORT']}"
    assert storefront in stack.log
    config = requests.get(f"{storefront}/config.js", timeout=10)
    assert config.status_code == 200 and "javascript" in config.headers["Content-Type"]
    assert f'"apiBaseUrl": "{stack.api}"' in config.text
    assert f'"stripeJsUrl": "http://127.0.0.1:{stack.ports["STRIPE_PORT"]}/js.stripe.com/v3/"' in config.text
    assert requests.get(f"{storefront}/cart.html", timeout=10).status_code == 200
    assert requests.get(f"{storefront}/../app.py", timeout=10).status_code == 404

    answer = requests.get(f"{stack.api}/products", params={"limit": 100}, timeout=10)
    assert answer.status_code == 200, answer.text
    products = answer.json()["data"]
    assert sorted(p["title"] for p in products) == sorted(item["title"] for item in CATALOGUE)
    variants = {v["sku"]: v for p in products for v in p["variants"]}
    assert all(isinstance(v["available"], int) and v["currency"] == "EUR" for v in variants.values())
    assert variants[LOW_STOCK_SKU]["available"] == 3

    # Threaded: an idle keep-alive connection (a browser's) does not block other clients.
    with socket.create_connection(("127.0.0.1", stack.ports["API_PORT"])):
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: requests.get(f"{stack.api}/products", timeout=5).status_code,
                                     range(16)))
        assert statuses == [200] * 16

    # The admin route parses the raw body, and the key is checked against the hash in (moto's) SSM.
    admin = {"Authorization": f"Bearer {LOCAL_ADMIN_KEY}", "Content-Type": "application/json"}
    answer = requests.put(f"{stack.api}/admin/inventory/TEE-M", json={"on_hand": 7}, headers=admin, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["available"] == 7
    answer = requests.put(f"{stack.api}/admin/inventory/TEE-M", json={"on_hand": 7}, timeout=10,
                          headers={**admin, "Authorization": "Bearer not-the-key"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"

    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(timeout=15) == 0, stack.log
    # Nothing left behind: every port can be bound again, so a second run starts right away.
    assert all(port_is_free(port) for port in stack.ports.values()), stack.log


# --- the event pump ----------------------------------------------------------------------------


@pytest.fixture
def moto_url():
    """A moto server in its own process (over HTTP, so the pump's threads are safe)."""
    moto = Child("devstack.motoserver", free_port(), "moto server").start()
    try:
        moto.wait_until_listening()
        yield moto.url
    finally:
        moto.stop()


def test_pump_feeds_stream_queue_and_schedule_handlers_and_leaves_failed_messages(moto_url, caplog):
    def aws(service):
        return boto3.client(service, endpoint_url=moto_url, region_name=REGION)

    outputs = create_stack(aws("cloudformation"), "pump-test", "test")
    table, stream_arn = outputs["TableName"], outputs["TableStreamArn"]
    dynamodb, sqs = aws("dynamodb"), aws("sqs")
    for queue_name in ("Fulfilment", "Email"):
        dlq_arn = sqs.get_queue_attributes(QueueUrl=outputs[f"{queue_name}DeadLetterQueueUrl"],
                                           AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # Redelivery after one second and the dead-letter queue after two receives: a short test.
        sqs.set_queue_attributes(QueueUrl=outputs[f"{queue_name}QueueUrl"], Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})})

    def put(pk):
        dynamodb.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": "X"}})

    calls, changed, elsewhere, messages, emails, ticks, sources = [], [], [], [], [], [], set()
    app = Chalice(app_name="pump-test")

    @app.on_dynamodb_record(stream_arn=stream_arn, starting_position="TRIM_HORIZON")
    def on_change(event):
        records = list(event)
        calls.append([r.event_id for r in records])
        if len(calls) == 1:
            raise RuntimeError("the first delivery fails")
        sources.update(r.event_source_arn for r in records)
        changed.extend(r.keys["PK"]["S"] for r in records)

    @app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:eu-west-1:123456789012:table/other/stream/x")
    def on_unknown_stream(event):
        elsewhere.extend(r.keys["PK"]["S"] for r in event)

    @app.on_sqs_message(queue="commerce-test-fulfilment", batch_size=1)
    def on_fulfilment(event):
        for record in event:
            messages.append((record.body, record.to_dict()["attributes"]["ApproximateReceiveCount"]))
            if record.body == "poison":
                raise RuntimeError("cannot handle this message")

    @app.on_sqs_message(queue="commerce-test-email", batch_size=10)
    def on_email(event):
        records = list(event)
        emails.extend(r.body for r in records)
        return {"batchItemFailures": [{"itemIdentifier": r.to_dict()["messageId"]} for r in records
                                      if r.body == "bad"]}

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def tick(event):
        ticks.append(event.to_dict())

    put("BEFORE-START")
    pump = Pump(app, endpoint_url=moto_url, region=REGION, schedule_seconds=0.3, table_stream_arn=stream_arn,
                poll_seconds=0.1, sqs_wait_seconds=1)
    assert len(pump.start()) == 5
    try:
        # Stream: a failed batch comes again unchanged, and nothing is skipped.
        eventually(lambda: "BEFORE-START" in changed)
        assert calls[0] == calls[1]
        assert sources == {stream_arn}
        # A cancelled transaction (moto swaps in a copy of the table) neither stalls the stream nor leaks.
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(TransactItems=[
                {"Put": {"TableName": table, "Item": {"PK": {"S": "CANCELLED"}, "SK": {"S": "X"}}}},
                {"ConditionCheck": {"TableName": table, "Key": {"PK": {"S": "MISSING"}, "SK": {"S": "X"}},
                                    "ConditionExpression": "attribute_exists(PK)"}},
            ])
        put("AFTER-CANCEL")
        eventually(lambda: "AFTER-CANCEL" in changed)
        assert "CANCELLED" not in changed
        # A handler naming a stream moto does not know reads the table's stream (LATEST: only new records).
        eventually(lambda: "AFTER-CANCEL" in elsewhere)
        assert "BEFORE-START" not in elsewhere

        # SQS: handled messages are deleted; a failing one comes back and then goes to the DLQ.
        sqs.send_message(QueueUrl=outputs["FulfilmentQueueUrl"], MessageBody="ok")
        sqs.send_message(QueueUrl=outputs["FulfilmentQueueUrl"], MessageBody="poison")
        dead = eventually(lambda: sqs.receive_message(QueueUrl=outputs["FulfilmentDeadLetterQueueUrl"],
                                                      WaitTimeSeconds=1).get("Messages"), timeout=20)
        assert [m["Body"] for m in dead] == ["poison"]
        assert [m for m in messages if m[0] == "ok"] == [("ok", "1")]
        assert [m for m in messages if m[0] == "poison"] == [("poison", "1"), ("poison", "2")]

        # A handler reporting batch item failures has only the others deleted.
        for body in ("good", "bad", "fine"):
            sqs.send_message(QueueUrl=outputs["EmailQueueUrl"], MessageBody=body)
        dead = eventually(lambda: sqs.receive_message(QueueUrl=outputs["EmailDeadLetterQueueUrl"],
                                                      WaitTimeSeconds=1).get("Messages"), timeout=20)
        assert [m["Body"] for m in dead] == ["bad"]
        assert sorted(emails) == ["bad", "bad", "fine", "good"]

        # Schedules fire repeatedly with a scheduled-event payload.
        eventually(lambda: len(ticks) >= 2)
        assert ticks[0]["detail-type"] == "Scheduled Event" and ticks[0]["source"] == "aws.events"
    finally:
        pump.stop()
    assert not pump.running

    failures = [r for r in caplog.records if r.name == "devstack.pump" and r.levelname == "ERROR"]
    assert any("first delivery fails" in str(r.exc_info[1]) for r in failures if r.exc_info)
    assert any("cannot handle this message" in str(r.exc_info[1]) for r in failures if r.exc_info)


def test_pump_sets_a_poison_stream_record_aside_after_bounded_retries_and_the_shard_moves_on(moto_url, monkeypatch):
    from tools import dlq

    def aws(service):
        return boto3.client(service, endpoint_url=moto_url, region_name=REGION)

    outputs = create_stack(aws("cloudformation"), "poison-test", "test")
    table, stream_arn, failures_url = outputs["TableName"], outputs["TableStreamArn"], outputs["StreamFailureQueueUrl"]
    dynamodb = aws("dynamodb")
    attempts, relayed = [], []
    app = Chalice(app_name="poison-test")

    @app.on_dynamodb_record(stream_arn=stream_arn, starting_position="TRIM_HORIZON", batch_size=10)
    def on_change(event):
        keys = [r.keys["PK"]["S"] for r in event]
        attempts.append(keys)
        if "POISON" in keys:
            raise RuntimeError("cannot relay this record")
        relayed.extend(keys)

    for pk in ("A", "B", "POISON", "C", "D"):
        dynamodb.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": "X"}})
    pump = Pump(app, endpoint_url=moto_url, region=REGION, poll_seconds=0.05, stream_failure_queue_url=failures_url,
                stream_retries=2)
    pump.start()
    try:
        eventually(lambda: "D" in relayed)
    finally:
        pump.stop()
    assert relayed == ["A", "B", "C", "D"]  # in order, each once; the poison one was bisected out
    assert attempts.count(["POISON"]) == 3  # the first try alone and its 2 retries, then set aside
    [message] = aws("sqs").receive_message(QueueUrl=failures_url, WaitTimeSeconds=1)["Messages"]
    info = json.loads(message["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == stream_arn
    assert json.loads(message["Body"])["requestContext"]["condition"] == "RetryAttemptsExhausted"
    # tools/dlq reads exactly that record back from the stream, as Lambda's message only points at it.
    [record] = dlq.read_batch(aws("dynamodbstreams"), info)
    assert record["dynamodb"]["Keys"]["PK"] == {"S": "POISON"} and record["eventSourceARN"] == stream_arn


def test_pump_runs_with_an_app_that_has_no_event_handlers():
    pump = Pump(Chalice(app_name="empty"), endpoint_url="http://127.0.0.1:9", region=REGION)
    assert pump.start() == []
    pump.stop()
    assert not pump.running


def test_make_run_refuses_a_busy_port_with_a_clear_message(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "API_PORT": str(port), "MOTO_PORT": str(free_port()), "STRIPE_PORT": str(free_port()),
               "OUTBOX_DIR": str(tmp_path)}
        done = subprocess.run([sys.executable, "-m", "devstack"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=30)
    assert done.returncode == 1
    assert f"API_PORT={port}" in done.stderr and "in use" in done.stderr


def test_the_stacks_moto_server_keeps_writes_committed_beside_cancelled_transactions(moto_url):
    # Plain moto restores a snapshot of the whole table when a transaction is cancelled, losing what
    # other requests committed meanwhile; devstack.motoserver serialises DynamoDB requests.
    def dynamodb():
        return boto3.session.Session().client("dynamodb", endpoint_url=moto_url, region_name=REGION)

    table = create_stack(boto3.client("cloudformation", endpoint_url=moto_url, region_name=REGION), "race",
                         "test")["TableName"]
    key = {"PK": {"S": "COUNTER"}, "SK": {"S": "COUNTER"}}
    dynamodb().put_item(TableName=table, Item=key | {"n": {"N": "0"}})
    for start in range(0, 200, 25):  # a bigger table widens moto's snapshot-to-restore window
        dynamodb().batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"PK": {"S": f"FILL#{i}"}, "SK": {"S": "X"}}}} for i in range(start, start + 25)]})

    def increment(_):
        client = dynamodb()
        for _ in range(40):
            client.transact_write_items(TransactItems=[{"Update": {
                "TableName": table, "Key": key, "UpdateExpression": "SET n = n + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}}}}])

    def cancel(_):
        client = dynamodb()
        for _ in range(40):
            with pytest.raises(client.exceptions.TransactionCanceledException):
                client.transact_write_items(TransactItems=[{"ConditionCheck": {
                    "TableName": table, "Key": {"PK": {"S": "MISSING"}, "SK": {"S": "X"}},
                    "ConditionExpression": "attribute_exists(PK)"}}])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda job: job(None), [increment, cancel, increment, cancel]))
    assert dynamodb().get_item(TableName=table, Key=key)["Item"]["n"] == {"N": "80"}


def test_the_local_api_answers_unknown_paths_and_methods_in_our_envelope(monkeypatch):
    import threading

    from chalice.config import Config

    from app import app
    from chalicelib import config
    from devstack.gateway import local_server

    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "http://127.0.0.1:8080")
    config.reset()
    server = local_server(app, Config.create(chalice_stage="test", app_name=app.app_name), "127.0.0.1", free_port())
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        for method, path in (("GET", "/nowhere"), ("POST", "/products/x/y/z"), ("GET", "/"),
                             ("PUT", "/nowhere"), ("GET", "/nowhere?x=1")):
            answer = requests.request(method, base + path, headers={"Authorization": "Bearer x"}, timeout=10)
            assert answer.status_code == 404, (method, path)
            assert answer.json() == {"error": {"code": "resource_missing",
                                               "message": "No route matches this method and path."}}
            assert answer.headers["Content-Type"] == "application/json"
            assert answer.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
        answer = requests.delete(base + "/products", timeout=10)
        assert answer.status_code == 405 and answer.json()["error"]["code"] == "invalid_request"
    finally:
        server.server.shutdown()
        server.server.server_close()
        config.reset()
