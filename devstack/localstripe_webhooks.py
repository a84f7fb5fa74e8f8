"""Webhook delivery as Stripe does it, in place of localstripe's single attempt.

Stripe (https://docs.stripe.com/webhooks#retries) retries an event whose endpoint answered anything
but 2xx, or did not answer in time, with exponential back-off (for up to three days live; three times
over a few hours in a sandbox), signing every attempt anew with the time of that attempt. localstripe
posts once and forgets, so a webhook that met a 5xx locally was simply lost, which production never
does. Here each event is attempted, then attempted again after each delay of
LOCALSTRIPE_WEBHOOK_RETRY_DELAYS (seconds, comma-separated; default "5,30,120": the sandbox's three
retries with its hours scaled down to seconds and minutes) until the endpoint answers 2xx; after the
last one it is given up, as Stripe does. An attempt that has no answer after
LOCALSTRIPE_WEBHOOK_TIMEOUT seconds (default 20; Stripe publishes no figure) counts as failed.

Fault injection: LOCALSTRIPE_DROP_WEBHOOKS=<fraction between 0 and 1> drops that share of events
before any attempt: the provider says paid, the webhook never arrives (what the payment
reconciliation schedule must then settle).

`GET /_config/webhook_deliveries` answers the counts: events, delivered, attempts, failed_attempts,
dropped, given_up; and `dropped_objects`, the ids of the objects whose events were dropped (the
last 10,000), so a soak run can tell a dropped event from a lost one.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import os
import random
import time

log = logging.getLogger("localstripe.webhooks")

DROPPED_OBJECTS: list[str] = []
STATS = {"events": 0, "delivered": 0, "attempts": 0, "failed_attempts": 0, "dropped": 0, "given_up": 0}


def retry_delays() -> list[float]:
    raw = os.environ.get("LOCALSTRIPE_WEBHOOK_RETRY_DELAYS", "5,30,120")
    return [float(part) for part in raw.split(",") if part.strip()]


def drop_fraction() -> float:
    fraction = float(os.environ.get("LOCALSTRIPE_DROP_WEBHOOKS", "0") or 0)
    if not 0 <= fraction <= 1:
        raise ValueError(f"LOCALSTRIPE_DROP_WEBHOOKS={fraction} is not a fraction between 0 and 1")
    return fraction


def install(server, webhooks) -> None:
    from aiohttp import web

    delays, drop, timeout = retry_delays(), drop_fraction(), float(os.environ.get("LOCALSTRIPE_WEBHOOK_TIMEOUT", "20"))

    async def send(event) -> None:
        STATS["events"] += 1
        if drop and random.random() < drop:
            STATS["dropped"] += 1
            DROPPED_OBJECTS.append(event.data["object"].get("id"))
            del DROPPED_OBJECTS[:-10_000]
            log.warning('webhook "%s" %s dropped (LOCALSTRIPE_DROP_WEBHOOKS)', event.type, event.id)
            return
        payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
        await asyncio.sleep(1)  # as localstripe: the API answer goes out before its event
        endpoints = [hook for hook in webhooks._webhooks.values() if hook.events is None or event.type in hook.events]
        await asyncio.gather(*(_deliver(hook, event, payload, delays, timeout) for hook in endpoints))

    webhooks._send_webhook = send  # schedule_webhook looks it up at call time

    async def deliveries(request):
        return web.json_response({**STATS, "dropped_objects": DROPPED_OBJECTS})

    server.app.router.add_get("/_config/webhook_deliveries", deliveries)


async def _deliver(hook, event, payload: bytes, delays: list[float], timeout: float) -> None:
    import aiohttp

    for attempt, delay in enumerate([0.0, *delays]):
        await asyncio.sleep(delay)
        now = int(time.time())  # Stripe signs each attempt with its own time
        signature = hmac.new(hook.secret.encode(), b"%d.%s" % (now, payload), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": f"t={now},v1={signature}"}
        STATS["attempts"] += 1
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                    session.post(hook.url, data=payload, headers=headers) as answer:
                if 200 <= answer.status < 300:
                    STATS["delivered"] += 1
                    return
                outcome = f"answered {answer.status}"
        except (TimeoutError, aiohttp.ClientError) as error:
            outcome = f"failed: {error!r}"
        STATS["failed_attempts"] += 1
        log.warning('webhook "%s" %s attempt %d %s', event.type, event.id, attempt + 1, outcome)
    STATS["given_up"] += 1
    log.error('webhook "%s" %s given up after %d attempts', event.type, event.id, len(delays) + 1)
