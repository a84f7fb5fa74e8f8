"""The webhook provider: POST each event to a 3PL's endpoint, signed the way Stripe signs webhooks.

    POST FULFILMENT_WEBHOOK_URL
    Content-Type: application/json
    Commerce-Event-Id: <event id>              (stable across retries: de-duplicate on it)
    Commerce-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

    <the event exactly as queued: {"id", "type", "occurred_at", "data": {"order": {...}, ...}}>

The receiver recomputes the HMAC over the raw body with the shared secret
(FULFILMENT_WEBHOOK_SECRET, from SSM in a deployed stage), compares in constant time and rejects a
timestamp older than a few minutes. Any 2xx is acceptance; any other status, a redirect, a timeout
(FULFILMENT_WEBHOOK_TIMEOUT seconds) or a network error raises HandOverFailed so the message is
retried through the queue. Uses urllib only: no dependency for one POST.
"""

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from chalicelib import config
from chalicelib.fulfilment import HandOverFailed


def signature(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Following a redirect would re-send (or, for 302, drop) a signed body to a place nobody
    # configured; treat it as a failure instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def hand_over(event: dict, body: str) -> str | None:
    """POST the event; returns the receiver's status as a reference. Raises HandOverFailed."""
    settings = config.settings()
    url = settings.fulfilment_webhook_url
    if urlsplit(url).scheme not in {"http", "https"}:
        raise HandOverFailed(f"FULFILMENT_WEBHOOK_URL must be an http(s) URL, not {url!r}")
    secret = config.secret("FULFILMENT_WEBHOOK_SECRET")
    if not secret:
        raise HandOverFailed("FULFILMENT_WEBHOOK_SECRET is not set; refusing to send an unsigned webhook")
    raw = body.encode()
    request = urllib.request.Request(url, data=raw, method="POST", headers={  # noqa: S310 - scheme checked above
        "Content-Type": "application/json", "User-Agent": "commerce-fulfilment/1",
        "Commerce-Event-Id": event["id"], "Commerce-Signature": signature(secret, raw, int(time.time()))})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.fulfilment_webhook_timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise HandOverFailed(f"fulfilment webhook answered {error.code} for {event['id']}") from error
    except (urllib.error.URLError, OSError) as error:  # refused, DNS, TLS, timeout
        raise HandOverFailed(f"fulfilment webhook unreachable for {event['id']}: {error}") from error
    if not 200 <= status < 300:
        raise HandOverFailed(f"fulfilment webhook answered {status} for {event['id']}")
    return str(status)
