"""The Idempotency-Key layer (chalicelib/idempotency.py) through the HTTP API, against moto: the
record of its own for most POSTs (shown on `POST /admin/discounts`), and the answer kept on the cart
or order for the storefront's `POST /carts`, `POST /carts/{id}/lines` and checkout."""

import hashlib
import json
import os
import threading
import time
import uuid

import boto3
import pytest
import requests
from chalice.test import Client
from moto.server import ThreadedMotoServer

from chalicelib import config, idempotency
from chalicelib.errors import CartChanged, UpstreamUnavailable
from chalicelib.models.kept import KEPT_ANSWERS
from chalicelib.repository import carts as carts_repository
from chalicelib.repository import dynamo
from chalicelib.repository import idempotency as store
from chalicelib.services import carts as cart_service
from chalicelib.services import discounts as discount_service
from tests.conftest import (
    ADMIN,
    ADMIN_KEY,
    Api,
    build_world,
    make_cart,
    make_product,
    product_body,
    ready_cart,
    reset_clients,
)

DAY = 24 * 60 * 60
DISCOUNTS = "/admin/discounts"
AUTHORIZATION = ADMIN["Authorization"]


def discount(code: str = "WELCOME10", value: int = 10) -> dict:
    return {"code": code, "kind": "percent", "value": value}


def admin_keyed(key: str = "key-1", **headers) -> dict:
    return {"Idempotency-Key": key, **ADMIN, **headers}


def raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def keyed(key: str = "key-1-0123456789abcdef", **headers) -> dict:
    return {"Idempotency-Key": key, **headers}


def same_answer(first, second) -> None:
    """The replay is the first answer again: status, body byte for byte, headers (plus the replay marker)."""
    assert (second.status_code, second.body) == (first.status_code, first.body)
    assert second.headers.pop("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    # X-Request-Id names each request (the replay is a request of its own), not the answer.
    first.headers.pop("X-Request-Id", None)
    second.headers.pop("X-Request-Id", None)
    assert second.headers == first.headers


def count_items(prefix: str) -> int:
    items = dynamo.client().scan(TableName=dynamo.table())["Items"]
    return sum(item["PK"]["S"].startswith(prefix) for item in items)


def arrange_record(key: str, path: str, body: bytes, lease_until: int, expires_at: int,
                   authorization: str | None = None) -> str:
    """An in-progress record for `key`, as a first attempt (owner "first") writes it; returns its scope."""
    scope = idempotency.scope_of(key, authorization)
    assert store.claim(scope, idempotency.fingerprint_of("POST", path, body), "first", lease_until, expires_at) is None
    return scope


def test_creating_a_cart_twice_with_one_key_returns_the_same_cart(client):
    first = client.post("/carts", {"currency": "EUR"}, headers=keyed())
    second = client.post("/carts", {"currency": "EUR"}, headers=keyed())

    assert first.status_code == 201
    assert second.data["id"] == first.data["id"]
    same_answer(first, second)
    assert count_items("CART#") == 1


def test_adding_a_line_twice_with_one_key_adds_the_quantity_once(client):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    path = f"/carts/{cart['id']}/lines"

    first = client.post(path, {"sku": "TEE-M", "quantity": 2}, headers=keyed())
    second = client.post(path, {"sku": "TEE-M", "quantity": 2}, headers=keyed())

    assert first.status_code == 200
    same_answer(first, second)
    assert client.get(f"/carts/{cart['id']}").data["lines"][0]["quantity"] == 2


def test_posts_without_a_key_run_every_time(client):
    assert make_cart(client)["id"] != make_cart(client)["id"]
    assert count_items("IDEMPOTENCY#") == 0


def test_a_key_reused_with_another_body_is_a_422(client):
    client.post("/carts", {"currency": "EUR"}, headers=keyed())

    answer = client.post("/carts", {"currency": "USD"}, headers=keyed())

    assert answer.status_code == 422
    assert answer.data["error"]["code"] == "idempotency_key_reused"
    assert answer.data["error"]["param"] == "Idempotency-Key"
    assert count_items("CART#") == 1


def test_a_key_reused_on_another_path_is_a_422(client):
    assert client.post(DISCOUNTS, discount(), headers=admin_keyed()).status_code == 201

    answer = client.post("/admin/products", product_body(sku_prefix="CAP"), headers=admin_keyed())

    assert (answer.status_code, answer.data["error"]["code"]) == (422, "idempotency_key_reused")
    assert client.get("/products").data["data"] == []


def test_a_line_key_reused_for_the_carts_checkout_is_a_422(client):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    line = {"sku": "TEE-M", "quantity": 1}
    assert client.post(f"/carts/{cart['id']}/lines", line, headers=keyed()).status_code == 200

    answer = client.post(f"/carts/{cart['id']}/checkout", {}, headers=keyed())

    assert (answer.status_code, answer.data["error"]["code"]) == (422, "idempotency_key_reused")


def test_a_storefront_key_is_kept_with_the_cart_it_changed_so_on_another_cart_it_runs(client):
    # The answers of POST /carts/{id}/lines live on the cart (no record of their own): a key is only
    # known to the cart it changed. A storefront sends a new UUID per request, so it never meets this.
    make_product(client, sku_prefix="TEE")
    one, other = make_cart(client), make_cart(client)
    line = {"sku": "TEE-M", "quantity": 1}
    assert client.post(f"/carts/{one['id']}/lines", line, headers=keyed()).status_code == 200

    answer = client.post(f"/carts/{other['id']}/lines", line, headers=keyed())

    assert answer.status_code == 200 and "Idempotent-Replayed" not in answer.headers
    assert count_items("IDEMPOTENCY#") == 0


def test_keys_are_1_to_255_characters(client):
    too_long = client.post("/carts", {}, headers=keyed("k" * 256))
    empty = client.post("/carts", {}, headers=keyed(""))

    for answer in (too_long, empty):
        assert answer.status_code == 400
        assert answer.data["error"]["code"] == "invalid_request"
        assert answer.data["error"]["param"] == "Idempotency-Key"
    assert client.post("/carts", {}, headers=keyed("k" * 255)).status_code == 201
    assert count_items("CART#") == 1


def test_a_key_without_credentials_must_be_unguessable_but_an_admins_may_be_short(client):
    for short in ("1", "cart-1", "k" * 15):
        answer = client.post("/carts", {}, headers=keyed(short))
        assert (answer.status_code, answer.data["error"]["code"]) == (400, "invalid_request"), short
        assert answer.data["error"]["param"] == "Idempotency-Key" and "at least 16" in answer.data["error"]["message"]
    assert count_items("CART#") == 0 and count_items("IDEMPOTENCY#") == 0
    assert client.post("/carts", {}, headers=keyed("k" * 16)).status_code == 201
    assert client.post("/carts", {}, headers=keyed(str(uuid.uuid4()))).status_code == 201
    # An admin's key is scoped by the admin's secret credential: nobody else can reach its record.
    mug = product_body(sku_prefix="MUG")
    assert client.post("/admin/products", mug, headers=keyed("p1", **ADMIN)).status_code == 201


def test_a_replay_while_the_first_attempt_runs_is_a_409(client):
    now = int(time.time())
    arrange_record("busy-key", DISCOUNTS, raw(discount()), lease_until=now + 60, expires_at=now + DAY,
                   authorization=AUTHORIZATION)

    answer = client.post(DISCOUNTS, discount(), headers=admin_keyed("busy-key"))

    assert (answer.status_code, answer.data["error"]["code"]) == (409, "request_in_progress")
    assert count_items("DISCOUNT#") == 0
    # The 409 is not kept: the record still belongs to the first attempt.
    assert store.get(idempotency.scope_of("busy-key", AUTHORIZATION))["owner"] == "first"


def test_another_request_with_a_key_in_progress_is_a_422_not_a_409(client):
    now = int(time.time())
    arrange_record("busy-key", DISCOUNTS, raw(discount()), lease_until=now + 60, expires_at=now + DAY,
                   authorization=AUTHORIZATION)

    answer = client.post(DISCOUNTS, discount(value=20), headers=admin_keyed("busy-key"))

    assert (answer.status_code, answer.data["error"]["code"]) == (422, "idempotency_key_reused")


def test_a_retry_takes_over_a_first_attempt_whose_lease_ran_out(client):
    now = int(time.time())
    scope = arrange_record("crashed-key", DISCOUNTS, raw(discount()), lease_until=now - 1, expires_at=now + DAY,
                           authorization=AUTHORIZATION)

    answer = client.post(DISCOUNTS, discount(), headers=admin_keyed("crashed-key"))

    assert answer.status_code == 201
    record = store.get(scope)
    assert record["status"] == "completed" and record["owner"] != "first"
    # The crashed attempt finishing late neither overwrites nor deletes the retry's record.
    assert store.complete(scope, "first", {"status": 500, "headers": {}, "body": ""}, now + DAY) is False
    store.release(scope, "first")
    same_answer(answer, client.post(DISCOUNTS, discount(), headers=admin_keyed("crashed-key")))


def test_an_expired_record_counts_as_absent(client):
    now = int(time.time())
    scope = idempotency.scope_of("old-key", AUTHORIZATION)
    store.claim(scope, idempotency.fingerprint_of("POST", DISCOUNTS, raw(discount())), "first", now + 60, now - 1)
    assert store.get(scope) is None  # TTL deletion lags; the record is still in the table

    answer = client.post(DISCOUNTS, discount(value=20), headers=admin_keyed("old-key"))

    assert answer.status_code == 201
    assert store.get(scope)["status"] == "completed"


def test_a_4xx_first_answer_is_replayed_identically(client):
    client.post(DISCOUNTS, discount(), headers=ADMIN)
    first = client.post(DISCOUNTS, discount(), headers=admin_keyed())
    assert (first.status_code, first.data["error"]["code"]) == (409, "resource_exists")

    second = client.post(DISCOUNTS, discount(), headers=admin_keyed())

    same_answer(first, second)


def test_a_storefront_4xx_changed_nothing_so_it_is_not_kept_and_a_retry_runs_again(client, monkeypatch):
    first = client.post("/carts", {"currency": "JPY"}, headers=keyed())
    assert (first.status_code, first.data["error"]["param"]) == (400, "currency")
    monkeypatch.setenv("CURRENCIES", "EUR,USD,GBP,JPY")
    config.reset()

    second = client.post("/carts", {"currency": "JPY"}, headers=keyed())

    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    same_answer(second, client.post("/carts", {"currency": "JPY"}, headers=keyed()))


@pytest.mark.parametrize("error", [UpstreamUnavailable("The database is busy; please retry."),
                                   CartChanged("The cart was changed by another request; read it again.")])
def test_a_5xx_or_a_concurrency_409_is_not_kept_so_a_retry_can_succeed(client, monkeypatch, error):
    real_create = cart_service.create
    failures = [error]

    def flaky_create(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real_create(*args, **kwargs)

    monkeypatch.setattr(cart_service, "create", flaky_create)

    failed = client.post("/carts", {}, headers=keyed())
    assert (failed.status_code, failed.data["error"]["code"]) == (error.status_code, error.code)
    assert store.get(idempotency.scope_of("key-1-0123456789abcdef", None)) is None

    retried = client.post("/carts", {}, headers=keyed())
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    same_answer(retried, client.post("/carts", {}, headers=keyed()))


def test_records_are_kept_at_least_24_hours(client):
    before = time.time()
    client.post(DISCOUNTS, discount(), headers=admin_keyed())

    record = store.get(idempotency.scope_of("key-1", AUTHORIZATION))

    assert record["status"] == "completed" and "lease_until" not in record
    assert record["expires_at"] >= before + DAY
    assert record["response"]["status"] == 201


def test_a_carts_answers_are_kept_24_hours_the_last_few_of_them(client, monkeypatch):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    path = f"/carts/{cart['id']}/lines"
    first = client.post(path, {"sku": "TEE-M", "quantity": 1}, headers=keyed("first-key-0123456789"))
    for number in range(1, KEPT_ANSWERS):
        client.post(path, {"sku": "TEE-M", "quantity": 1}, headers=keyed(f"later-key-{number:010}"))
    same_answer(first, client.post(path, {"sku": "TEE-M", "quantity": 1}, headers=keyed("first-key-0123456789")))

    later = time.time() + DAY + 1
    monkeypatch.setattr(time, "time", lambda: later)
    again = client.post(path, {"sku": "TEE-M", "quantity": 1}, headers=keyed("first-key-0123456789"))
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers


def test_admin_keys_are_scoped_by_credential(client, monkeypatch):
    other_key = "second-admin-key"
    hashes = [hashlib.sha256(k.encode()).hexdigest() for k in (ADMIN_KEY, other_key)]
    monkeypatch.setenv("ADMIN_KEY_HASHES", ",".join(hashes))
    config.reset()
    other_admin = {**ADMIN, "Authorization": f"Bearer {other_key}"}
    body = product_body(sku_prefix="CAP")

    mine = client.post("/admin/products", body, headers=keyed(**ADMIN))
    theirs = client.post("/admin/products", body, headers=keyed(**other_admin))

    # Theirs ran (its SKUs now clash with mine) instead of replaying mine or being refused as a reused key.
    assert mine.status_code == 201
    assert theirs.status_code not in (201, 422) and "Idempotent-Replayed" not in theirs.headers
    kept = [store.get(idempotency.scope_of("key-1-0123456789abcdef", headers["Authorization"]))["response"]["status"]
            for headers in (ADMIN, other_admin)]
    assert kept == [201, theirs.status_code]
    same_answer(mine, client.post("/admin/products", body, headers=keyed(**ADMIN)))


def test_a_keyed_post_costs_two_more_dynamodb_calls_and_a_replay_one(client):
    calls: list[str] = []
    dynamo.client().meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    def calls_for(body, **kwargs) -> list[str]:
        calls.clear()
        client.post(DISCOUNTS, body, **kwargs)
        return list(calls)

    plain = calls_for(discount("PLAIN1"), headers=ADMIN)
    first = calls_for(discount(), headers=admin_keyed())
    replay = calls_for(discount(), headers=admin_keyed())

    assert first == ["PutItem", *plain, "UpdateItem"]
    assert replay == ["PutItem"]


def test_a_keyed_storefront_post_costs_what_an_unkeyed_one_does_and_a_replay_at_most_that(client):
    make_product(client, sku_prefix="TEE")
    calls: list[str] = []
    dynamo.client().meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    def calls_for(path, body, **kwargs) -> list[str]:
        calls.clear()
        assert client.post(path, body, **kwargs).status_code in (200, 201)
        return list(calls)

    assert calls_for("/carts", {}) == calls_for("/carts", {}, headers=keyed()) == ["PutItem"]
    assert calls_for("/carts", {}, headers=keyed()) == ["PutItem"]
    path = f"/carts/{make_cart(client)['id']}/lines"
    line = {"sku": "TEE-M", "quantity": 1}
    assert calls_for(path, line) == calls_for(path, line, headers=keyed()) == ["GetItem", "BatchGetItem", "PutItem"]
    assert calls_for(path, line, headers=keyed()) == ["GetItem"]
    assert count_items("IDEMPOTENCY#") == 0


# --- a real concurrent replay, against a moto server (in-process moto is not thread-safe) -----------------


@pytest.fixture
def server_client():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    # The threaded server shares the process's moto backends: start from an empty world each time.
    requests.post(f"http://{host}:{port}/moto-api/reset", timeout=10).raise_for_status()
    try:
        build_world()
        assert boto3.client("dynamodb").list_tables()["TableNames"]  # the server, not the real AWS
        from app import app

        with Client(app, stage_name="test") as test_client:
            yield Api(test_client)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        server.stop()
        reset_clients()


def test_a_concurrent_replay_of_a_running_request_is_a_409(server_client, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    real_create = discount_service.create

    def slow_create(*args, **kwargs):
        entered.set()
        assert release.wait(10)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(discount_service, "create", slow_create)
    answers = {}
    first = threading.Thread(target=lambda: answers.update(
        first=server_client.post(DISCOUNTS, discount(), headers=admin_keyed())))
    first.start()
    try:
        assert entered.wait(10)
        concurrent = server_client.post(DISCOUNTS, discount(), headers=admin_keyed())
    finally:
        release.set()
        first.join(10)

    assert (concurrent.status_code, concurrent.data["error"]["code"]) == (409, "request_in_progress")
    assert answers["first"].status_code == 201
    same_answer(answers["first"], server_client.post(DISCOUNTS, discount(), headers=admin_keyed()))
    assert count_items("DISCOUNT#") == 1


def test_a_concurrent_duplicate_of_a_storefront_post_gets_the_first_answer_not_a_409(server_client, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    real_create = carts_repository.create
    held = []

    def slow_create(*args, **kwargs):
        if not held:  # the first attempt waits just before its write; the duplicate overtakes it
            held.append(True)
            entered.set()
            assert release.wait(10)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(carts_repository, "create", slow_create)
    answers = {}
    first = threading.Thread(target=lambda: answers.update(first=server_client.post("/carts", {}, headers=keyed())))
    first.start()
    try:
        assert entered.wait(10)
        duplicate = server_client.post("/carts", {}, headers=keyed())
    finally:
        release.set()
        first.join(10)

    assert duplicate.status_code == 201 and "Idempotent-Replayed" not in duplicate.headers
    same_answer(duplicate, answers["first"])
    assert count_items("CART#") == 1


def test_a_checkout_retried_with_its_key_is_its_201_again_and_with_another_body_a_422(shop):
    make_product(shop, sku_prefix="TEE")
    path = f"/carts/{ready_cart(shop, {'TEE-M': 1})['id']}/checkout"

    first = shop.post(path, {}, headers=keyed())
    again = shop.post(path, {}, headers=keyed())
    other_body = shop.post(path, {"payment_method": "pm_card_visa"}, headers=keyed())
    other_key = shop.post(path, {}, headers=keyed("key-2-0123456789abcdef"))

    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # Checkout is idempotent by its cart (one order per cart): the retry answers with the order as it is now.
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.data == first.data
    assert (other_body.status_code, other_body.data["error"]["code"]) == (422, "idempotency_key_reused")
    assert other_key.status_code == 200 and other_key.data["order"]["id"] == first.data["order"]["id"]
    assert count_items("IDEMPOTENCY#") == 0 and count_items("ORDER#") == 1
