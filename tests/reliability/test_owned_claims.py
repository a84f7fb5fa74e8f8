"""Claims are owned: an Idempotency-Key record and a delivery claim carry their owner, so a write that
botocore sends again after a timeout continues as the holder instead of finding "someone else's" claim.
A storefront POST keeps its answer on the cart it writes instead (chalicelib/models/kept.py): a resent
write is refused by the cart's own condition, and the re-read finds the answer it carries.

The fault is a real one, over HTTP against a moto *server*: a `before-send` hook sends the request to moto
itself (so DynamoDB does the write) and then raises botocore's ReadTimeoutError, which is what a client sees
when the answer is lost on the way back. botocore's standard retry mode then sends the same request again,
exactly as in production. Hypothesis draws which DynamoDB calls of a request lose their answer, and how often.
"""

import itertools
import os
from collections import Counter
from contextlib import contextmanager

import pytest
import requests
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.repository import deliveries, dynamo
from tests.conftest import ADMIN, Api, make_product

OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "GetItem", "BatchGetItem", "TransactWriteItems")
_ids = itertools.count()


@contextmanager
def answers_lost(plan: dict[tuple[str, int], int]):
    """Lose the answer of DynamoDB calls after moto applied them: `plan[(operation, n)] = k` makes the n-th
    call (0-based, per operation) of `operation` time out on its first k sends. Yields a Counter of the
    timeouts raised per operation."""
    http = URLLib3Session()
    calls: Counter = Counter()
    sends: Counter = Counter()
    lost: Counter = Counter()
    unique = f"answers-lost-{next(_ids)}"

    def count_call(model, **kwargs):
        calls[model.name] += 1
        sends[model.name] = 0

    def send(request, **kwargs):
        target = request.headers["X-Amz-Target"]
        operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
        index = calls[operation] - 1
        if sends[operation] < plan.get((operation, index), 0):
            sends[operation] += 1
            http.send(request)  # moto does the work...
            lost[operation] += 1
            raise ReadTimeoutError(endpoint_url=request.url)  # ...and the answer never arrives
        return None

    events = dynamo.client().meta.events
    events.register_first("before-call.dynamodb", count_call, unique_id=unique + "-call")
    events.register_first("before-send.dynamodb", send, unique_id=unique)
    try:
        yield lost
    finally:
        events.unregister("before-send.dynamodb", unique_id=unique)
        events.unregister("before-call.dynamodb", unique_id=unique + "-call")


# At most 3 sends of one call lose their answer: botocore's 5 attempts then still get one through.
plans = st.dictionaries(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 2)), st.integers(1, 3), max_size=4)


@pytest.fixture
def served(localstripe):
    """The app against a fresh serialised moto server (real HTTP, so botocore's retries really resend)."""
    from chalice.test import Client

    from app import app
    from tests.conftest import SerializedMotoServer, build_world, free_port, reset_clients
    from tests.orders_support import use_localstripe

    server = SerializedMotoServer(free_port()).start()
    requests.post(f"{server.url}/moto-api/reset", timeout=10).raise_for_status()
    os.environ["AWS_ENDPOINT_URL"] = server.url
    try:
        build_world()
        use_localstripe(localstripe)
        with Client(app, stage_name="test") as raw:
            yield Api(raw)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        reset_clients()
        server.stop()


def _keyed_request(api: Api, route: str) -> tuple[str, dict, dict, int]:
    """(path, body, extra headers, status) of a keyed POST on `route`, with what it needs arranged."""
    if route == "create cart":
        return "/carts", {"currency": "EUR"}, {}, 201
    if route == "add line":
        cart = api.post("/carts", {"currency": "EUR"}).data
        return f"/carts/{cart['id']}/lines", {"sku": "CLAIM-M", "quantity": 1}, {}, 200
    return "/admin/discounts", {"code": f"CLAIM{next(_ids)}", "kind": "percent", "value": 5}, ADMIN, 201


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans, key_number=st.integers(0, 10**12), route=st.sampled_from(["create cart", "add line", "admin"]))
def test_a_keyed_post_whose_writes_are_resent_after_timeouts_is_never_blocked_by_itself(served, plan, key_number,
                                                                                        route):
    key = f"owned-claims-{key_number:016d}-{next(_ids)}"
    if route == "add line" and not served.get("/products").data["data"]:
        make_product(served, sku_prefix="CLAIM", on_hand=10_000)
    path, body, headers, status = _keyed_request(served, route)
    with answers_lost(plan):
        first = served.post(path, body, headers={"Idempotency-Key": key, **headers})
    again = served.post(path, body, headers={"Idempotency-Key": key, **headers})

    assert first.status_code == status, (plan, first.data)
    assert again.status_code == status and again.data == first.data
    assert again.headers.get("Idempotent-Replayed") == "true"
    if route == "add line":  # added once, however often its write was sent
        assert served.get(path.removesuffix("/lines")).data["lines"][0]["quantity"] == 1


def test_a_claim_whose_every_send_timed_out_does_not_block_the_clients_retry(served):
    key = "owned-claims-every-send-lost-0001"
    # The client's retries={"max_attempts": 4} are 4 retries: 5 sends, every one of them lost is a 502.
    with answers_lost({("PutItem", 0): 5}) as lost:
        first = served.post("/carts", {"currency": "EUR"}, headers={"Idempotency-Key": key})
    retry = served.post("/carts", {"currency": "EUR"}, headers={"Idempotency-Key": key})

    assert lost["PutItem"] == 5
    assert first.status_code == 502 and first.data["error"]["code"] == "upstream_unavailable"
    assert retry.status_code == 201, retry.data  # not a 409 request_in_progress for the next minute


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans, event_number=st.integers(0, 10**12))
def test_a_delivery_whose_writes_are_resent_after_timeouts_happens_once(served, plan, event_number):
    event_id = f"evt_{event_number}_{next(_ids)}"
    sent = []
    with answers_lost(plan):
        ran = deliveries.once("email", event_id, lambda: sent.append(event_id) or {"message_id": "m-1"})
    ran_again = deliveries.once("email", event_id, lambda: sent.append(event_id))

    assert (ran, ran_again, sent) == (True, False, [event_id]), plan
    assert deliveries.get("email", event_id)["state"] == "done"
