"""The devstack's localstripe delivers webhooks as Stripe does: an event whose endpoint answered non-2xx
(or nothing) is sent again with back-off, signed anew each time, until it is taken or given up; and
LOCALSTRIPE_DROP_WEBHOOKS drops events on purpose (devstack/localstripe_webhooks.py)."""

import itertools
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from devstack.processes import Child, free_port
from tests.stripe_support import pay, sign, stripe_api

SECRET = "whsec_retries"


class Endpoint:
    """Answers each POST with the next of `statuses` (the last one for ever); records what came."""

    def __init__(self, statuses: list[int]):
        self.statuses, self.received = list(statuses), []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                endpoint.received.append((time.monotonic(), self.headers["Stripe-Signature"], body))
                self.send_response(endpoint.statuses.pop(0) if len(endpoint.statuses) > 1 else endpoint.statuses[0])
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 15) -> list:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def localstripe_with():
    started = []

    def start(**env) -> str:
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            child = Child("devstack.localstripe", free_port(), "localstripe").start()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        started.append(child)
        child.wait_until_listening()
        return child.url

    yield start
    for child in started:
        child.stop()


def _paid(base: str, endpoint: Endpoint) -> str:
    requests.post(f"{base}/_config/webhooks/retries", json={"url": endpoint.url, "secret": SECRET,
                                                            "events": ["payment_intent.succeeded"]},
                  timeout=5).raise_for_status()
    intent = stripe_api(base).v1.payment_intents.create(params={"amount": 1500, "currency": "eur"})
    pay(base, intent.id)
    return intent.id


def _deliveries(base: str) -> dict:
    return requests.get(f"{base}/_config/webhook_deliveries", timeout=5).json()


def test_a_webhook_that_got_5xx_is_sent_again_with_back_off_and_a_fresh_signature(localstripe_with):
    base = localstripe_with(LOCALSTRIPE_WEBHOOK_RETRY_DELAYS="0.5,1,4")
    endpoint = Endpoint([502, 500, 200])
    try:
        payment_id = _paid(base, endpoint)
        attempts = endpoint.wait(3)
        time.sleep(0.5)
    finally:
        endpoint.close()
    assert len(attempts) == 3, "delivered again until answered 2xx, then no more"
    bodies = {json.loads(body)["id"] for _, _, body in attempts}
    assert len(bodies) == 1 and json.loads(attempts[0][2])["data"]["object"]["id"] == payment_id
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.45 and gaps[1] >= 0.95, gaps
    for _, signature, body in attempts:
        timestamp = int(signature.split(",")[0][2:])
        assert abs(time.time() - timestamp) < 10
        assert signature == sign(body, SECRET, timestamp)
    counts = _deliveries(base)
    assert (counts["delivered"], counts["failed_attempts"], counts["given_up"]) == (1, 2, 0)


def test_an_endpoint_that_never_takes_it_is_given_up_after_the_last_retry(localstripe_with):
    base = localstripe_with(LOCALSTRIPE_WEBHOOK_RETRY_DELAYS="0.2,0.2")
    endpoint = Endpoint([503])
    try:
        _paid(base, endpoint)
        endpoint.wait(3)
        time.sleep(1)
    finally:
        endpoint.close()
    assert len(endpoint.received) == 3
    counts = _deliveries(base)
    assert (counts["delivered"], counts["attempts"], counts["given_up"]) == (0, 3, 1)


def test_dropped_webhooks_never_arrive(localstripe_with):
    base = localstripe_with(LOCALSTRIPE_DROP_WEBHOOKS="1")
    endpoint = Endpoint([200])
    try:
        payment_id = _paid(base, endpoint)
        time.sleep(2)
    finally:
        endpoint.close()
    assert endpoint.received == []
    counts = _deliveries(base)
    assert counts["dropped"] >= 1 and counts["attempts"] == 0
    assert payment_id in counts["dropped_objects"]
