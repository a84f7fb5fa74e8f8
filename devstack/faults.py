"""Fault injection in the local stack's own process (the API and the event pump's handlers).

DEVSTACK_DYNAMODB_TIMEOUTS=<fraction between 0 and 1>: that share of the app's DynamoDB calls time
out, as a read timeout does on a loaded network: half of them before the request reached DynamoDB,
half after it took effect (the answer is lost). botocore then retries them as it does a real
timeout (the app's clients: standard mode, 4 attempts), so the app sees its own write again on the
retry (an Idempotency-Key claim, a conditional update) and must not trip over it. No time is spent
waiting: the fault is the lost answer, not the wait.

Installed on boto3's default session before the app makes its clients, so every client the app
makes carries it (the pump's own clients, streams and SQS, do not); switched on by `activate()` once
the stack is built and seeded.
"""

import logging
import os
import random
import threading
import time

log = logging.getLogger("devstack.faults")
COUNTS = {"calls": 0, "timeouts_before": 0, "timeouts_after": 0}
_lock = threading.Lock()
_active = threading.Event()


def activate() -> None:
    _active.set()
    if dynamodb_timeout_fraction():
        threading.Thread(target=_report, daemon=True, name="faults").start()


def _report(every: float = 10.0) -> None:
    while True:
        time.sleep(every)
        with _lock:
            counts = dict(COUNTS)
        log.warning("fault injection so far: %d of %d DynamoDB calls timed out (%d after taking effect)",
                    counts["timeouts_before"] + counts["timeouts_after"], counts["calls"], counts["timeouts_after"])


def dynamodb_timeout_fraction() -> float:
    fraction = float(os.environ.get("DEVSTACK_DYNAMODB_TIMEOUTS", "0") or 0)
    if not 0 <= fraction < 1:
        raise ValueError(f"DEVSTACK_DYNAMODB_TIMEOUTS={fraction} is not a fraction in [0, 1)")
    return fraction


def install() -> None:
    fraction = dynamodb_timeout_fraction()
    if not fraction:
        return
    import boto3
    import urllib3
    from botocore.exceptions import ReadTimeoutError

    http = urllib3.PoolManager(maxsize=16)
    rng = random.Random()

    def lose_the_answer(request=None, **kwargs):
        if not _active.is_set():
            return None
        with _lock:
            COUNTS["calls"] += 1
            roll = rng.random()
        if roll >= fraction:
            return None  # botocore sends it as usual
        took_effect = roll < fraction / 2
        if took_effect:  # DynamoDB got it and acted; the answer never came back
            http.request(request.method, request.url, body=request.body, headers=dict(request.headers),
                         retries=False, timeout=30)
        with _lock:
            COUNTS["timeouts_after" if took_effect else "timeouts_before"] += 1
        raise ReadTimeoutError(endpoint_url=request.url)

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION._session.register("before-send.dynamodb", lose_the_answer,
                                            unique_id="devstack-dynamodb-timeouts")
    log.warning("fault injection: %.1f%% of the app's DynamoDB calls time out (DEVSTACK_DYNAMODB_TIMEOUTS)",
                fraction * 100)
