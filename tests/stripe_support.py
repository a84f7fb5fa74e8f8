"""Stripe in tests: a real localstripe process for the session, the settings that point the app at
it, Stripe's webhook signing scheme, and what a customer's browser would do (pay, authenticate).

Registered by `pytest_plugins` in conftest, so the `localstripe` and `stripe_env` fixtures are
available to every test module.
"""

import hashlib
import hmac
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "sk_test_commerce"
PUBLISHABLE_KEY = "pk_test_commerce"
WEBHOOK_SECRET = "whsec_test_primary"

# Test cards localstripe knows (https://docs.stripe.com/testing). localstripe declines a *charge*
# only for 4000000000000341 (and two 3-D Secure cards); 4000000000000002 and 4000000000009995,
# which Stripe declines, succeed there (it refuses them only when attached to a customer).
VISA = "4242424242424242"
DECLINED = "4000000000000341"
THREE_D_SECURE = "4000002500003155"  # challenged unless set up for off-session use
THREE_D_SECURE_2 = "4000000000003220"  # 3-D Secure 2, always challenged


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(base: str) -> bool:
    try:
        requests.get(f"{base}/v1/balance", auth=(SECRET_KEY, ""), timeout=1)
        return True
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def localstripe():
    """The base URL of a localstripe (with devstack's fidelity additions) on a free loopback port."""
    with running_localstripe() as base:
        yield base


@contextmanager
def running_localstripe():
    """A localstripe of its own (an empty store), for tests that look at every PaymentIntent of the account."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen([sys.executable, "-m", "devstack.localstripe", "--port", str(port)],
                                   cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while not _answers(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    output.seek(0)
                    pytest.fail(f"localstripe did not start:\n{output.read().decode(errors='replace')}")
                time.sleep(0.05)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def configure_stripe(monkeypatch, api_base: str, webhook_secrets=(WEBHOOK_SECRET,), secret_key: str = SECRET_KEY,
                     publishable_key: str = PUBLISHABLE_KEY) -> None:
    """Point the app's Stripe settings at `api_base` (call again to change them within a test)."""
    from chalicelib import config

    for name in ("STRIPE_SECRET_KEY_PARAM", "STRIPE_WEBHOOK_SECRETS_PARAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STRIPE_API_BASE", api_base)
    monkeypatch.setenv("STRIPE_SECRET_KEY", secret_key)
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", publishable_key)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRETS", ",".join(webhook_secrets))
    config.reset()


@pytest.fixture
def stripe_env(localstripe, monkeypatch):
    """The app configured for the session's localstripe; yields its base URL."""
    from chalicelib import config

    configure_stripe(monkeypatch, localstripe)
    yield localstripe
    monkeypatch.undo()
    config.reset()


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- the customer's side, straight to localstripe --------------------------------------------------


def stripe_api(base: str):
    """An SDK client for test setup and for reading back what the provider did."""
    import stripe

    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": base}, max_network_retries=0)


def payment_method(base: str, card_number: str = VISA) -> str:
    """A PaymentMethod for a test card number, as Stripe.js would create it."""
    card = {"number": card_number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    return stripe_api(base).v1.payment_methods.create(params={"type": "card", "card": card}).id


def pay(base: str, payment_id: str, card_number: str = VISA) -> dict:
    """Confirm a PaymentIntent with a card, as the storefront does with the client secret."""
    method = payment_method(base, card_number)
    return stripe_api(base).v1.payment_intents.confirm(payment_id, params={"payment_method": method}).to_dict()


def authenticate(base: str, payment_id: str, client_secret: str, success: bool = True) -> dict:
    """Pass (or fail) the 3-D Secure challenge of a PaymentIntent in requires_action (localstripe's
    stand-in for the bank's page, authenticated by the publishable key)."""
    return _post(f"{base}/v1/payment_intents/{payment_id}/_authenticate",
                 {"client_secret": client_secret, "success": success, "key": PUBLISHABLE_KEY})


def register_webhook(base: str, endpoint_id: str, url: str, secret: str, events: list[str] | None = None) -> None:
    """Have localstripe POST signed events to `url` (all types unless `events` is given)."""
    _post(f"{base}/_config/webhooks/{endpoint_id}", {"url": url, "secret": secret, "events": events})


def _post(url: str, body: dict) -> dict:
    answer = requests.post(url, json=body, timeout=5)
    answer.raise_for_status()
    return answer.json() if answer.content else {}


class WebhookReceiver:
    """A tiny HTTP endpoint on 127.0.0.1 that records what is POSTed to it."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._arrived:
                    receiver.received.append((dict(self.headers.items()), body))
                    receiver._arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/stripe"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, done, timeout: float = 10) -> list[tuple[dict, bytes]]:
        """What arrived once `done(received)` holds, or after `timeout` seconds."""
        with self._arrived:
            self._arrived.wait_for(lambda: done(self.received), timeout)
            return list(self.received)
