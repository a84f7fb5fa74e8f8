"""A bounded load run on loopback against the local stack (`python -m devstack` on free ports).

Virtual users (threads, each with its own `requests.Session`) run journeys until a fixed number of
requests is spent or a time limit passes: browsing (list, product), filling a cart (create, add,
change, read) and buying a product with limited stock (cart with email, add one unit, address and
shipping, checkout with an Idempotency-Key). Afterwards it checks what must hold under any load:
no 5xx and no dropped connection, every refusal a 409 `out_of_stock`, no more orders than units,
and the limited SKU's stock adds up (available = stock - units in orders).

    python -m bench.load --users 50 --requests 3000         (also part of `make bench`)

tests/reliability/test_load.py runs a smaller one in `make test`.
"""

import argparse
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

from bench.report import percentile
from devstack import launcher

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}
ADMIN_KEY = "load-run-admin-key"


class LocalStack(launcher.LocalStack):
    """The local stack for the load run: the admin key above, schedules out of the way."""

    def __init__(self, outbox: str, timeout: float = 90.0):
        super().__init__(outbox, admin_key=ADMIN_KEY, env={"PUMP_SCHEDULE_SECONDS": "3600"}, ready_timeout=timeout)


@dataclass
class Result:
    users: int
    planned: int
    seconds: float = 0.0
    latencies: dict = field(default_factory=dict)  # kind -> [seconds]
    statuses: Counter = field(default_factory=Counter)  # (kind, status, code)
    orders: list = field(default_factory=list)
    limited_stock: int = 0
    final_available: int | None = None
    orders_holding_limited: int | None = None
    problems: list = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def server_errors(self) -> int:
        return sum(n for (_, status, _), n in self.statuses.items() if status >= 500 or status == 0)

    def summary(self) -> dict:
        everything = [s for values in self.latencies.values() for s in values]
        kinds = {kind: {"requests": len(v), "p50_ms": percentile(v, 0.5) * 1000, "p95_ms": percentile(v, 0.95) * 1000,
                        "p99_ms": percentile(v, 0.99) * 1000, "max_ms": max(v) * 1000}
                 for kind, v in sorted(self.latencies.items())}
        return {"users": self.users, "requests": self.requests, "seconds": self.seconds,
                "requests_per_second": self.requests / self.seconds if self.seconds else 0.0,
                "p50_ms": percentile(everything, 0.5) * 1000, "p95_ms": percentile(everything, 0.95) * 1000,
                "p99_ms": percentile(everything, 0.99) * 1000, "server_errors": self.server_errors(),
                "statuses": {f"{k} {s}{' ' + c if c else ''}": n for (k, s, c), n in sorted(self.statuses.items())},
                "limited_stock": self.limited_stock, "orders_of_limited_product": len(self.orders),
                "final_available": self.final_available, "orders_holding_limited": self.orders_holding_limited,
                "problems": self.problems, "by_kind": kinds}

    def table(self) -> str:
        summary = self.summary()
        lines = [f"{summary['requests']} requests from {self.users} users in {self.seconds:.1f} s "
                 f"({summary['requests_per_second']:.0f}/s); p50 {summary['p50_ms']:.0f} ms, "
                 f"p95 {summary['p95_ms']:.0f} ms, p99 {summary['p99_ms']:.0f} ms; 5xx: {summary['server_errors']}; "
                 f"orders of the limited product: {len(self.orders)} of {self.limited_stock} units",
                 "", "| request | n | p50 ms | p95 ms | p99 ms | max ms |",
                 "| --- | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {kind} | {row['requests']} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['p99_ms']:.0f} "
                  f"| {row['max_ms']:.0f} |" for kind, row in summary["by_kind"].items()]
        return "\n".join(lines)


class _Budget:
    def __init__(self, requests_total: int, deadline: float):
        self.left, self.deadline, self.lock = requests_total, deadline, threading.Lock()

    def take(self, n: int) -> bool:
        with self.lock:
            if self.left < n or time.monotonic() > self.deadline:
                return False
            self.left -= n
            return True


def run(api: str, admin_key: str, users: int, requests_total: int, limited_stock: int = 20,
        time_limit: float = 120.0, seed: int = 0) -> Result:
    """Run the load and check its invariants (recorded in `Result.problems`, empty when all hold)."""
    import random

    admin = {"Authorization": f"Bearer {admin_key}"}
    run_id = uuid.uuid4().hex[:6].upper()
    regular = requests.post(f"{api}/admin/products", headers=admin, timeout=30, json={
        "title": "Load tee", "description": "", "active": True,
        "variants": [{"sku": f"LOAD{run_id}-{size}", "title": size, "price": 2500, "currency": "EUR",
                      "on_hand": 1_000_000} for size in ("S", "M", "L")]})
    limited = requests.post(f"{api}/admin/products", headers=admin, timeout=30, json={
        "title": "Limited print", "description": "", "active": True,
        "variants": [{"sku": f"LTD{run_id}", "title": "A2", "price": 9000, "currency": "EUR",
                      "on_hand": limited_stock}]})
    regular.raise_for_status()
    limited.raise_for_status()
    regular, limited = regular.json(), limited.json()
    limited_sku = limited["variants"][0]["sku"]
    result = Result(users=users, planned=requests_total, limited_stock=limited_stock)
    lock = threading.Lock()
    budget = _Budget(requests_total, time.monotonic() + time_limit)

    def call(session, kind: str, method: str, path: str, **kwargs):
        started = time.perf_counter()
        try:
            answer = session.request(method, f"{api}{path}", timeout=30, **kwargs)
            status = answer.status_code
            body = answer.json() if answer.content else {}
        except (requests.RequestException, ValueError) as error:
            answer, status, body = None, 0, {"error": {"code": type(error).__name__}}
        elapsed = time.perf_counter() - started
        code = body.get("error", {}).get("code") if isinstance(body, dict) and status >= 400 else None
        with lock:
            result.latencies.setdefault(kind, []).append(elapsed)
            result.statuses[(kind, status, code)] += 1
        return status, body

    def user(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        session = requests.Session()
        skus = [v["sku"] for v in regular["variants"]]
        while True:
            roll = rng.random()
            if roll < 0.4:
                if not budget.take(2):
                    return
                call(session, "GET /products", "GET", "/products")
                call(session, "GET /products/{id}", "GET", f"/products/{rng.choice([regular, limited])['id']}")
            elif roll < 0.75:
                if not budget.take(4):
                    return
                status, cart = call(session, "POST /carts", "POST", "/carts", json={})
                if status != 201:
                    continue
                sku = rng.choice(skus)
                call(session, "POST /carts/{id}/lines", "POST", f"/carts/{cart['id']}/lines",
                     json={"sku": sku, "quantity": rng.randint(1, 3)})
                call(session, "PATCH /carts/{id}/lines/{sku}", "PATCH", f"/carts/{cart['id']}/lines/{sku}",
                     json={"quantity": rng.randint(1, 5)})
                call(session, "GET /carts/{id}", "GET", f"/carts/{cart['id']}")
            else:
                if not budget.take(4):
                    return
                status, cart = call(session, "POST /carts", "POST", "/carts",
                                    json={"email": f"buyer{index}@example.com"})
                if status != 201:
                    continue
                status, _ = call(session, "POST /carts/{id}/lines (limited)", "POST", f"/carts/{cart['id']}/lines",
                                 json={"sku": limited_sku, "quantity": 1})
                if status != 200:
                    continue
                call(session, "PATCH /carts/{id}", "PATCH", f"/carts/{cart['id']}",
                     json={"shipping_address": ADDRESS, "shipping_method": "standard"})
                status, checkout = call(session, "POST /carts/{id}/checkout", "POST", f"/carts/{cart['id']}/checkout",
                                        json={}, headers={"Idempotency-Key": str(uuid.uuid4())})
                if status in (200, 201):
                    with lock:
                        result.orders.append(checkout["order"]["id"])

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + 60)
    result.seconds = time.perf_counter() - started
    _check(result, api, admin, limited, limited_sku)
    return result


def _check(result: Result, api: str, admin: dict, limited: dict, limited_sku: str) -> None:
    problems = result.problems
    if result.server_errors():
        problems.append(f"{result.server_errors()} answers were 5xx or dropped connections")
    for (kind, status, code), n in result.statuses.items():
        if status >= 400 and status < 500 and code != "out_of_stock":
            problems.append(f"{n}× {kind} answered {status} {code}")
    if len(result.orders) != len(set(result.orders)):
        problems.append("an order id was handed out twice")
    if len(result.orders) > result.limited_stock:
        problems.append(f"oversold: {len(result.orders)} orders for {result.limited_stock} units")
    product = requests.get(f"{api}/products/{limited['id']}", timeout=30).json()
    result.final_available = product["variants"][0]["available"]
    if result.final_available != result.limited_stock - len(result.orders):
        problems.append(f"available {result.final_available} != {result.limited_stock} - {len(result.orders)} orders")
    holding, cursor = 0, None
    while True:
        page = requests.get(f"{api}/admin/orders", headers=admin, timeout=30,
                            params={"status": "pending_payment", "limit": 100,
                                    **({"cursor": cursor} if cursor else {})})
        page.raise_for_status()
        page = page.json()
        holding += sum(line["quantity"] for order in page["data"] for line in order["lines"]
                       if line["sku"] == limited_sku)
        cursor = page["next_cursor"]
        if not cursor:
            break
    result.orders_holding_limited = holding
    if holding != len(result.orders):
        problems.append(f"{holding} units of {limited_sku} in orders, but {len(result.orders)} checkouts answered 201")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=int(os.environ.get("BENCH_LOAD_USERS", "50")))
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_LOAD_REQUESTS", "3000")))
    parser.add_argument("--stock", type=int, default=20)
    parser.add_argument("--json", help="also write the summary to this file")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as outbox, LocalStack(outbox) as stack:
        result = run(stack.api, stack.admin_key, args.users, args.requests, args.stock)
    print(result.table())
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result.summary(), file, indent=2)
    if result.problems:
        print("\n".join(["PROBLEMS:", *result.problems]))
        sys.exit(1)


if __name__ == "__main__":
    main()
