"""Count the AWS API calls a block of code makes, by service and operation.

    with count_calls() as calls:
        api.get(f"/carts/{cart_id}")
    calls.by_operation() == {("dynamodb", "GetItem"): 1, ("dynamodb", "BatchGetItem"): 1}

The counter listens to botocore's `before-call.<service>.<operation>` event, which fires once per
API call (a retried call counts once; `before-send` would count every HTTP attempt). `install()`
adds the listener to botocore's built-in handlers, so every session created from then on hands it
to every client it creates (moto's `mock_aws` swaps in a fresh boto3 default session, which gets
it too), and registers it on the current boto3 default session. A client created before
`install()` is not seen: pass it to `watch()`. The module installs itself on import.

Run `python -m bench.aws_calls` to print, for each cart route, the AWS calls one request makes and
its median in-process time against moto built from infra/template.yaml.
"""

import argparse
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import boto3
from botocore import handlers

EVENT = "before-call"
_MARK = "bench.aws_calls.counted"
_active: list["Calls"] = []


class Calls(Counter):
    """Calls counted by (service, operation), e.g. ("dynamodb", "GetItem")."""

    def by_operation(self) -> dict[tuple[str, str], int]:
        return dict(self)

    def total(self) -> int:
        return sum(self.values())

    def describe(self) -> str:
        return ", ".join(f"{service} {operation} ×{n}" for (service, operation), n in self.items()) or "none"


def _record(model, context=None, **_) -> None:
    # The listener can reach a client twice (built-in handler and default-session registration);
    # the per-call context dict makes it count each call once.
    if context is not None:
        if context.get(_MARK):
            return
        context[_MARK] = True
    key = (model.service_model.service_name, model.name)
    for calls in _active:
        calls[key] += 1


def install() -> None:
    """Count the calls of every client created from now on, in any session. Safe to call again."""
    spec = (EVENT, _record, handlers.REGISTER_FIRST)
    if spec not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append(spec)
    if boto3.DEFAULT_SESSION is not None:
        boto3.DEFAULT_SESSION.events.register_first(EVENT, _record, unique_id=_MARK)


def watch(client) -> None:
    """Count the calls of a client that was created before `install()`."""
    client.meta.events.register_first(EVENT, _record, unique_id=_MARK)


@contextmanager
def count_calls() -> Iterator[Calls]:
    """The AWS calls made inside the block (blocks may nest; each counts what ran inside it)."""
    install()
    calls = Calls()
    _active.append(calls)
    try:
        yield calls
    finally:
        _active.remove(calls)


install()


# --- the cart routes, measured ---------------------------------------------------------------------


def _measure(request: Callable[[], object], prepare: Callable[[], None] | None, repetitions: int):
    """(calls of one request, median seconds): one untimed warm-up, then `repetitions` timed runs.
    Raises if the calls differ between runs: the table would then mislead."""
    counted, timings = [], []
    for run in range(repetitions + 1):
        if prepare:
            prepare()
        with count_calls() as calls:
            started = time.perf_counter()
            answer = request()
            elapsed = time.perf_counter() - started
        if answer.status_code >= 400:
            raise RuntimeError(f"request failed: {answer.status_code} {answer.data}")
        if run:
            counted.append(calls)
            timings.append(elapsed)
    if any(calls != counted[0] for calls in counted):
        raise RuntimeError(f"calls differ between runs: {[c.describe() for c in counted]}")
    return counted[0], statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=50)
    repetitions = parser.parse_args().repetitions

    import logging

    from chalice.test import Client
    from moto import mock_aws

    from tests.conftest import ADDRESS, Api, build_world, make_cart, make_product

    logging.getLogger("commerce").setLevel(logging.CRITICAL)
    with mock_aws():
        build_world()
        from app import app

        # Stage "test" is not in .chalice/config.json, so no deployed stage's environment (SSM parameter
        # names) replaces the one build_world() set, as in the tests' `client` fixture.
        with Client(app, stage_name="test") as test_client:
            api = Api(test_client)
            make_product(api, sku_prefix="TEE", sizes=("S", "M", "L"), on_hand=1_000_000)

            cart_id = make_cart(api)["id"]
            api.post(f"/carts/{cart_id}/lines", {"sku": "TEE-S", "quantity": 1})
            api.post(f"/carts/{cart_id}/lines", {"sku": "TEE-M", "quantity": 1})
            quantities = iter(range(2, 10**6))
            replayed: dict[str, str] = {}

            def first_attempt() -> None:
                replayed.update(_fresh_key())
                api.post(f"/carts/{cart_id}/lines", {"sku": "TEE-M", "quantity": 1}, headers=replayed)

            routes = [
                ("POST /carts", lambda: api.post("/carts", {}), None),
                ("GET /carts/{id}", lambda: api.get(f"/carts/{cart_id}"), None),
                ("POST /carts/{id}/lines (to an existing line)",
                 lambda: api.post(f"/carts/{cart_id}/lines", {"sku": "TEE-M", "quantity": 1}),
                 lambda: api.patch(f"/carts/{cart_id}/lines/TEE-M", {"quantity": 1})),
                ("POST /carts/{id}/lines (a new, third line)",
                 lambda: api.post(f"/carts/{cart_id}/lines", {"sku": "TEE-L", "quantity": 1}),
                 lambda: api.delete(f"/carts/{cart_id}/lines/TEE-L") if _has(api, cart_id, "TEE-L") else None),
                ("PATCH /carts/{id}/lines/{sku}",
                 lambda: api.patch(f"/carts/{cart_id}/lines/TEE-S", {"quantity": next(quantities) % 5 + 1}), None),
                ("DELETE /carts/{id}/lines/{sku} (of three)", lambda: api.delete(f"/carts/{cart_id}/lines/TEE-L"),
                 lambda: api.post(f"/carts/{cart_id}/lines", {"sku": "TEE-L", "quantity": 1})),
                ("PATCH /carts/{id} email", lambda: api.patch(f"/carts/{cart_id}", {"email": "ada@example.com"}),
                 None),
                ("PATCH /carts/{id} shipping_address",
                 lambda: api.patch(f"/carts/{cart_id}", {"shipping_address": ADDRESS}), None),
                ("PATCH /carts/{id} shipping_method",
                 lambda: api.patch(f"/carts/{cart_id}", {"shipping_method": "standard"}), None),
                ("POST /carts with Idempotency-Key", lambda: api.post("/carts", {}, headers=_fresh_key()), None),
                ("POST /carts/{id}/lines with Idempotency-Key",
                 lambda: api.post(f"/carts/{cart_id}/lines", {"sku": "TEE-M", "quantity": 1}, headers=_fresh_key()),
                 lambda: api.patch(f"/carts/{cart_id}/lines/TEE-M", {"quantity": 1})),
                ("POST /carts/{id}/lines replayed (same Idempotency-Key)",
                 lambda: api.post(f"/carts/{cart_id}/lines", {"sku": "TEE-M", "quantity": 1}, headers=replayed),
                 first_attempt),
            ]
            print(f"AWS calls per request and median in-process time over {repetitions} runs "
                  "(chalice.test.Client, in-process moto; the cart holds 2 lines; no Idempotency-Key "
                  "unless the row says so).\n")
            print("| route | AWS calls | by operation | median ms |")
            print("| --- | ---: | --- | ---: |")
            for name, request, prepare in routes:
                calls, median = _measure(request, prepare, repetitions)
                print(f"| `{name}` | {calls.total()} | {calls.describe()} | {median * 1000:.2f} |")


def _fresh_key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _has(api, cart_id: str, sku: str) -> bool:
    return any(line["sku"] == sku for line in api.get(f"/carts/{cart_id}").data["lines"])


if __name__ == "__main__":
    main()
