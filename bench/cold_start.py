"""The first request after a cold start (bench only): import + first request in a fresh interpreter.

For each probe a new Python process imports the handler module (`app`, or bench/minimal_app.py for
the floor) and hands it one API Gateway proxy event, as the Lambda runtime would; the probe times the
import and the call together and apart. The world is a moto *server* (a child process: a fresh
interpreter cannot share an in-process moto) and localstripe, both on loopback, built once by this
process from infra/template.yaml. Every probe gets its own cart, so each first request does its real
work (a first line into an empty cart; a checkout of a ready cart, with an Idempotency-Key).

The Lambda package has neither aiohttp nor httpx (requirements.txt); the development venv has both,
and the stripe SDK imports them when it finds them, which would add ~100 ms that Lambda never pays.
The probe blocks them, as they are absent in Lambda.

    python -m bench.cold_start [--runs 7] [--clock process_time]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ABSENT_IN_LAMBDA = ("aiohttp", "httpx")

PROBE = """
import json, sys, time
for name in {absent!r}:
    sys.modules[name] = None
event = json.loads(sys.stdin.read())
started = time.{clock}()
import {module} as handler_module
{preload}
imported = time.{clock}()
from botocore.client import BaseClient  # loaded by the import above; the wrappers cost nothing measurable
spent = {{"aws": 0.0, "aws_calls": 0, "provider": 0.0, "provider_calls": 0}}
def timed(original, kind):
    def call(*args, **kwargs):
        began = time.{clock}()
        try:
            return original(*args, **kwargs)
        finally:
            spent[kind] += time.{clock}() - began
            spent[kind + "_calls"] += 1
    return call
BaseClient._make_api_call = timed(BaseClient._make_api_call, "aws")
if "{module}" == "app":
    from chalicelib.payments import stripe_http
    stripe_http.Client._send = timed(stripe_http.Client._send, "provider")
class Context:
    function_name = "api_handler"; function_version = "$LATEST"; memory_limit_in_mb = 512
    aws_request_id = "cold-start-probe"; invoked_function_arn = ""; log_group_name = log_stream_name = ""
    def get_remaining_time_in_millis(self):
        return 30000
answer = handler_module.app(event, Context())
finished = time.{clock}()
print(json.dumps({{"import": imported - started, "call": finished - imported, "status": answer["statusCode"],
                  "stripe_loaded": "stripe" in sys.modules, **spent}}))
"""

# The other choice measured alongside: the stripe SDK imported (and its client built) during init.
SDK_AT_INIT = "import stripe; stripe.StripeClient('sk_test_init', http_client=stripe.RequestsClient())"
PROBES = (  # (name, module, route, method, what else init does)
    ("floor: import + first GetItem", "bench.minimal_app", "/items/{item_id}", "GET", ""),
    ("import + first GET /products", "app", "/products", "GET", ""),
    ("import + first add line", "app", "/carts/{cart_id}/lines", "POST", ""),
    ("import + first checkout (with Idempotency-Key)", "app", "/carts/{cart_id}/checkout", "POST", ""),
    ("the same, stripe SDK imported during init", "app", "/carts/{cart_id}/checkout", "POST", SDK_AT_INIT),
)


def _event(route: str, method: str, params: dict, body: dict | None, headers: dict | None = None) -> dict:
    path = route.format(**params)
    headers = {"Content-Type": "application/json", "Host": "api.example.com", **(headers or {})}
    return {"resource": route, "path": path, "httpMethod": method, "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": params or None, "stageVariables": None,
            "requestContext": {"resourcePath": route, "httpMethod": method, "path": f"/api{path}", "stage": "api",
                               "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "127.0.0.1"}},
            "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False}


def _probe(module: str, event: dict, env: dict, preload: str = "", clock: str = "perf_counter",
           cwd: str = ROOT) -> dict:
    script = PROBE.format(module=module, absent=ABSENT_IN_LAMBDA, preload=preload, clock=clock)
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, input=json.dumps(event),
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] >= 400:
        raise RuntimeError(f"{module} {event['path']}: {result['status']} {done.stdout[-500:]}")
    return result


def _provider_round_trip(stripe: str, key: str, runs: int = 15) -> float:
    """Median seconds of one create-PaymentIntent at localstripe over a fresh connection each time,
    as the first checkout of a container opens one."""
    import time

    import requests

    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        with requests.Session() as session:
            session.post(f"{stripe}/v1/payment_intents", auth=(key, ""), timeout=10,
                         data={"amount": 1000, "currency": "eur", "payment_method_types[]": "card"}).raise_for_status()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _unpacked(package: str, scratch: str, strip_bytecode: bool) -> tuple[str, str]:
    """(the app's folder, the floor's folder) for probes of the deployment package `package`."""
    app_dir, floor_dir = os.path.join(scratch, "app"), os.path.join(scratch, "floor")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(app_dir)
    if strip_bytecode:
        for folder, _, _ in os.walk(app_dir):
            if os.path.basename(folder) == "__pycache__":
                shutil.rmtree(folder)
    shutil.copytree(os.path.join(app_dir, "chalice"), os.path.join(floor_dir, "chalice"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(ROOT, "bench", "minimal_app.py"), floor_dir)
    return app_dir, floor_dir


def measure(runs: int = 7, clock: str = "perf_counter", package: str | None = None,
            strip_bytecode: bool = False) -> dict:
    """Per probe, the median (and every run) of import, first call and both, in ms; the provider's
    round trip; and the goal: first checkout <= 1.3 x the floor's import + first call + one round trip.
    With `package`, the probes import the deployment package as Lambda would (module docstring)."""
    with tempfile.TemporaryDirectory() as scratch:
        where = _unpacked(package, scratch, strip_bytecode) if package else None
        return _measure(runs, clock, where)


def _measure(runs: int, clock: str, where: tuple[str, str] | None) -> dict:
    from chalice.test import Client

    from bench.shopper import SECRET_KEY, WEBHOOK_SECRET, localstripe
    from devstack.processes import Child, free_port
    from tests.conftest import ADDRESS, Api, build_world, make_product, reset_clients

    moto = Child("devstack.motoserver", free_port(), "moto server").start()
    saved = dict(os.environ)
    try:
        moto.wait_until_listening()
        with localstripe() as stripe:
            os.environ.update(AWS_ENDPOINT_URL=moto.url, STRIPE_API_BASE=stripe, STRIPE_SECRET_KEY=SECRET_KEY,
                              STRIPE_PUBLISHABLE_KEY="pk_test_bench", STRIPE_WEBHOOK_SECRETS=WEBHOOK_SECRET,
                              EMAIL_SENDER="shop@example.com", FULFILMENT_PROVIDER="manual")
            build_world(stack="commerce-cold", stage="test")
            from app import app

            with Client(app, stage_name="test") as test_client:
                api = Api(test_client)
                make_product(api, sku_prefix="TEE", sizes=("S", "M"), on_hand=1_000_000)

                def cart(ready: bool) -> str:
                    cart_id = api.post("/carts", {}).data["id"]
                    if ready:
                        api.post(f"/carts/{cart_id}/lines", {"sku": "TEE-S", "quantity": 1})
                        api.patch(f"/carts/{cart_id}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                                        "shipping_method": "standard"})
                    return cart_id

                events = {
                    PROBES[0][0]: lambda: _event(PROBES[0][2], "GET", {"item_id": "cold"}, None),
                    PROBES[1][0]: lambda: _event(PROBES[1][2], "GET", {}, None),
                    PROBES[2][0]: lambda: _event(PROBES[2][2], "POST", {"cart_id": cart(False)},
                                                 {"sku": "TEE-M", "quantity": 1}),
                    PROBES[3][0]: lambda: _event(PROBES[3][2], "POST", {"cart_id": cart(True)}, {},
                                                 {"Idempotency-Key": str(uuid.uuid4())}),
                    PROBES[4][0]: lambda: _event(PROBES[4][2], "POST", {"cart_id": cart(True)}, {},
                                                 {"Idempotency-Key": str(uuid.uuid4())}),
                }
                env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

                def placed(module: str) -> tuple[str, str]:  # (module, folder) in the tree or the package
                    if where is None:
                        return module, ROOT
                    return ("minimal_app", where[1]) if module == PROBES[0][1] else (module, where[0])

                if where is None:  # the tree's bytecode caches warm (a package carries its own, or none)
                    for name, module, _, _, preload in PROBES:
                        _probe(module, events[name](),
                               {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}, preload)
                runs_by_probe: dict[str, list[dict]] = {name: [] for name, *_ in PROBES}
                for _ in range(runs):  # alternated, so a busy moment hits every probe alike
                    for name, module, _, _, preload in PROBES:
                        module, folder = placed(module)
                        runs_by_probe[name].append(_probe(module, events[name](), env, preload, clock, folder))
            round_trip = _provider_round_trip(stripe, SECRET_KEY)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_clients()
        moto.stop()
    result: dict = {"runs": runs, "provider_round_trip_ms": round_trip * 1000, "probes": {},
                    "imported_from": "package" if where else "tree"}
    for name, probes in runs_by_probe.items():
        result["probes"][name] = {
            "import_ms": statistics.median(p["import"] for p in probes) * 1000,
            "call_ms": statistics.median(p["call"] for p in probes) * 1000,
            "total_ms": statistics.median(p["import"] + p["call"] for p in probes) * 1000,
            "aws_ms": statistics.median(p["aws"] for p in probes) * 1000,
            "aws_calls": probes[0]["aws_calls"],
            "provider_ms": statistics.median(p["provider"] for p in probes) * 1000,
            "provider_calls": probes[0]["provider_calls"],
            "own_ms": statistics.median(p["import"] + p["call"] - p["aws"] - p["provider"] for p in probes) * 1000,
            "runs_ms": [round((p["import"] + p["call"]) * 1000, 1) for p in probes],
            "stripe_loaded": any(p["stripe_loaded"] for p in probes),
        }
    floor = result["probes"][PROBES[0][0]]["total_ms"]
    floor_own = result["probes"][PROBES[0][0]]["own_ms"]
    for row in result["probes"].values():
        row["ratio_to_floor"] = row["total_ms"] / floor
        row["own_ratio_to_floor"] = row["own_ms"] / floor_own
    checkout = result["probes"][PROBES[3][0]]["total_ms"]
    result["sdk_at_init_extra_import_ms"] = result["probes"][PROBES[4][0]]["import_ms"] - result["probes"][
        PROBES[3][0]]["import_ms"]
    result["checkout_goal_ms"] = 1.3 * floor + result["provider_round_trip_ms"]
    result["checkout_goal_met"] = checkout <= result["checkout_goal_ms"]
    return result


def table(result: dict) -> str:
    lines = ["| first request in a fresh interpreter | import ms | first call ms | total ms | × floor "
             "| of which AWS ms (calls) | provider ms (calls) | own ms | own × floor | stripe imported "
             "| runs (total ms) |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for name, row in result["probes"].items():
        lines.append(f"| {name} | {row['import_ms']:.0f} | {row['call_ms']:.0f} | {row['total_ms']:.0f} "
                     f"| {row['ratio_to_floor']:.2f} | {row['aws_ms']:.0f} ({row['aws_calls']}) "
                     f"| {row['provider_ms']:.0f} ({row['provider_calls']}) | {row['own_ms']:.0f} "
                     f"| {row['own_ratio_to_floor']:.2f} | {'yes' if row['stripe_loaded'] else 'no'} "
                     f"| {', '.join(f'{v:.0f}' for v in row['runs_ms'])} |")
    lines += ["", f"Provider round trip (create a PaymentIntent at localstripe, new connection): "
              f"{result['provider_round_trip_ms']:.0f} ms. Goal for the first checkout: 1.3 × floor + one round "
              f"trip = {result['checkout_goal_ms']:.0f} ms: "
              f"{'met' if result['checkout_goal_met'] else 'NOT met'}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--clock", choices=("perf_counter", "process_time"), default="perf_counter",
                        help="process_time: each probe's CPU time, less disturbed by a busy machine")
    parser.add_argument("--package", help="a deployment.zip (make package): probe it as Lambda would")
    parser.add_argument("--strip-bytecode", action="store_true", help="without the package's precompiled modules")
    import tests.conftest  # noqa: F401 - fake credentials and region before boto3 is used

    arguments = parser.parse_args()
    print(table(measure(arguments.runs, arguments.clock, arguments.package, arguments.strip_bytecode)))


if __name__ == "__main__":
    main()
