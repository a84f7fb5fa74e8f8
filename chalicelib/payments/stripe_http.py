"""A small HTTP client for the Stripe API calls the provider makes (bench/cold_start.py measured why).

Create, confirm, retrieve, list and cancel PaymentIntents, and create a Refund: form-encoded requests with the
secret key, an Idempotency-Key on every POST and the API version the pinned `stripe` SDK speaks, over
one kept-alive `http.client` connection per container. The stdlib's `http.client` is already loaded
by botocore, so the first checkout of a container pays no import; the SDK's import (asyncio, requests
and the SDK itself) was the largest part of the first checkout. Retries and the mapping of error
answers follow the SDK (stripe/_http_client.py `_should_retry`, stripe/_api_requestor.py
`specific_v1_api_error`). Webhook signatures are still verified by the SDK (stripe_provider.py).
"""

import http.client
import json
import random
import ssl
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlencode, urlsplit

# The API version of stripe==16.1.0 (stripe._api_version): answers keep the shape the SDK saw.
API_VERSION = "2026-10-28.endive"
USER_AGENT = "commerce-stripe-http/1"
INITIAL_RETRY_DELAY = 0.5  # seconds, jittered, doubled per retry as the SDK does


class StripeUnreachable(Exception):
    """No answer: the connection failed or timed out (after the retries)."""


class StripeError(Exception):
    """An error answer. `kind` is the SDK's exception class it stands for: card, idempotency,
    invalid_request, authentication, permission, rate_limit or api; `error` is the answer's `error`."""

    def __init__(self, kind: str, status: int, error: dict):
        super().__init__(f"{status} {kind}: {error.get('message')}")
        self.kind, self.status, self.error = kind, status, error

    @property
    def code(self) -> str | None:
        return self.error.get("code")

    @property
    def message(self) -> str:
        return self.error.get("message") or "Stripe refused the request."


@dataclass
class Answer:
    body: dict
    replayed: bool  # Stripe answered an idempotent retry with the first request's result


class Client:
    def __init__(self, api_key: str, api_base: str, connect_timeout: float, read_timeout: float, retries: int):
        parts = urlsplit(api_base)
        self.api_key, self.retries = api_key, retries
        self.secure = parts.scheme == "https"
        self.host = parts.hostname or "api.stripe.com"
        self.port = parts.port or (443 if self.secure else 80)
        self.prefix = parts.path.rstrip("/")
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self._local = threading.local()  # http.client connections are not thread-safe

    def create_payment_intent(self, params: dict, idempotency_key: str) -> Answer:
        return self._request("POST", "/v1/payment_intents", params, idempotency_key)

    def confirm_payment_intent(self, payment_id: str, params: dict, idempotency_key: str) -> Answer:
        return self._request("POST", f"/v1/payment_intents/{quote(payment_id, safe='')}/confirm", params,
                             idempotency_key)

    def retrieve_payment_intent(self, payment_id: str, params: dict | None = None) -> Answer:
        return self._request("GET", f"/v1/payment_intents/{quote(payment_id, safe='')}", params or {})

    def list_payment_intents(self, params: dict) -> Answer:
        """A page of PaymentIntents, newest first (`created`, `limit`, `starting_after`: Stripe's list
        parameters); the answer's `data` and `has_more`."""
        return self._request("GET", "/v1/payment_intents", params)

    def cancel_payment_intent(self, payment_id: str, idempotency_key: str, params: dict | None = None) -> Answer:
        return self._request("POST", f"/v1/payment_intents/{quote(payment_id, safe='')}/cancel", params or {},
                             idempotency_key)

    def create_refund(self, params: dict, idempotency_key: str) -> Answer:
        return self._request("POST", "/v1/refunds", params, idempotency_key)

    # --- the transport ------------------------------------------------------------------------------

    def _request(self, method: str, path: str, params: dict, idempotency_key: str | None = None) -> Answer:
        form = urlencode(encode(params))
        headers = {"Authorization": f"Bearer {self.api_key}", "Stripe-Version": API_VERSION,
                   "User-Agent": USER_AGENT, "Accept": "application/json"}
        target = self.prefix + path
        body = None
        if method == "GET":
            target += f"?{form}" if form else ""
        else:
            body = form.encode()
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": idempotency_key}
        attempt = 0
        while True:
            try:
                status, answer_headers, raw = self._send(method, target, body, headers)
            except (OSError, http.client.HTTPException) as failure:
                if attempt >= self.retries:
                    raise StripeUnreachable(f"{method} {path}: {failure!r}") from failure
            else:
                if status < 300:
                    return Answer(json.loads(raw),
                                  replayed=answer_headers.get("idempotent-replayed", "").lower() == "true")
                if attempt >= self.retries or not _should_retry(status, answer_headers):
                    raise _error(status, raw)
            attempt += 1
            time.sleep(INITIAL_RETRY_DELAY * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))

    def _send(self, method: str, target: str, body: bytes | None, headers: dict) -> tuple[int, dict, bytes]:
        connection = getattr(self._local, "connection", None)
        reused = connection is not None
        if connection is None:
            connection = self._connect()
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self._local.connection = None
            if not reused:
                raise
            # A kept-alive connection the server had closed: send once more on a new one. Every POST
            # carries its Idempotency-Key, so a request that did arrive is not repeated.
            connection = self._connect()
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        self._local.connection = None if response.will_close else connection
        return response.status, {k.lower(): v for k, v in response.getheaders()}, raw

    def _connect(self) -> http.client.HTTPConnection:
        if self.secure:
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.connect_timeout,
                                                     context=_tls())
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.connect_timeout)
        connection.connect()
        connection.sock.settimeout(self.read_timeout)
        return connection


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def _should_retry(status: int, headers: dict) -> bool:
    advice = headers.get("stripe-should-retry")
    if advice in ("true", "false"):
        return advice == "true"
    return status == 409 or status >= 500


def _error(status: int, raw: bytes) -> StripeError:
    try:
        error = json.loads(raw).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    if status == 429 or (status == 400 and error.get("code") == "rate_limit"):
        kind = "rate_limit"
    elif status in (400, 404):
        kind = "idempotency" if error.get("type") == "idempotency_error" else "invalid_request"
    else:
        kind = {401: "authentication", 402: "card", 403: "permission"}.get(status, "api")
    return StripeError(kind, status, error)


def encode(params: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding, as the SDK's: nested maps as `a[b]`, lists as `a[0]`, booleans as
    `true`/`false`."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            pairs += encode(value, name)
        elif isinstance(value, list | tuple):
            for index, element in enumerate(value):
                if isinstance(element, dict):
                    pairs += encode(element, f"{name}[{index}]")
                else:
                    pairs.append((f"{name}[{index}]", _scalar(element)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
