"""A soak run on loopback: N shoppers doing full purchases against the local stack, with faults.

It starts `python -m devstack` (what `make run` runs) on free 127.0.0.1 ports with fault injection
on, then each virtual user (a thread with its own HTTP session) repeats a purchase until the time or
the request budget is spent: list products, read one, cart with email, two lines (one with an
Idempotency-Key), address and shipping, checkout (Idempotency-Key), pay at localstripe with a test
card as the browser does, read the order. Faults:

- dropped webhooks (LOCALSTRIPE_DROP_WEBHOOKS): localstripe says paid, the webhook never comes; the
  reconciliation schedule must settle the order (its period and wait are shortened to `--period`);
- duplicate charges: for a share of orders a second PaymentIntent for the same order succeeds; one of
  the two (whichever webhook came second) must be refunded whole, and the shop emailed;
- DynamoDB timeouts (DEVSTACK_DYNAMODB_TIMEOUTS): a share of the app's DynamoDB calls lose their
  answer, before or after taking effect, and botocore retries them.

After the load it waits for the pipeline (up to `--settle` seconds, at least two periods) and
reports requests, 5xx, dropped connections, p50/p95 overall and for checkout, orders paid at
localstripe vs paid in the API, duplicates refunded, and the moto server's RSS at the start, every
minute and at the end.

    python -m bench.soak --users 50 --seconds 300          (make soak; SOAK_USERS, SOAK_SECONDS)

tests/reliability/test_soak.py runs a short one in `make test`.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.report import percentile
from devstack import launcher

ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}
STRIPE_AUTH = ("sk_test_soak", "")
CHECKOUT = "POST /carts/{id}/checkout"


@dataclass
class Soak:
    users: int
    seconds: float = 0.0
    latencies: dict = field(default_factory=dict)  # kind -> [seconds]
    statuses: Counter = field(default_factory=Counter)  # (kind, status, code) -> n
    paid_at_provider: dict = field(default_factory=dict)  # order id -> payment id
    duplicates: dict = field(default_factory=dict)  # order id -> the second payment's id
    rss_mb: list = field(default_factory=list)  # (seconds since start, MB)
    outcome: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    def count(self, wanted) -> int:
        return sum(n for (_, status, _), n in self.statuses.items() if wanted(status))

    def summary(self) -> dict:
        everything = [s for values in self.latencies.values() for s in values]
        checkout = self.latencies.get(CHECKOUT, [])
        ms = lambda values, q: round(percentile(values, q) * 1000) if values else None  # noqa: E731
        return {"users": self.users, "seconds": round(self.seconds, 1), "requests": self.count(lambda s: True),
                "server_errors": self.count(lambda s: s >= 500), "dropped": self.count(lambda s: s == 0),
                "p50_ms": ms(everything, 0.5), "p95_ms": ms(everything, 0.95),
                "checkout_p50_ms": ms(checkout, 0.5), "checkout_p95_ms": ms(checkout, 0.95),
                "paid_at_provider": len(self.paid_at_provider), **self.outcome,
                "duplicate_charges": len(self.duplicates), "moto_rss_mb": self.rss_mb,
                "statuses": {f"{k} {s}{' ' + c if c else ''}": n for (k, s, c), n in sorted(self.statuses.items())},
                "problems": self.problems}

    def table(self) -> str:
        s = self.summary()
        rss = ", ".join(f"{t / 60:.0f} min {mb:.0f} MB" for t, mb in self.rss_mb)
        return "\n".join([
            f"{s['requests']} requests from {s['users']} users in {s['seconds']} s: 5xx {s['server_errors']}, "
            f"dropped {s['dropped']}; p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms; checkout p50 "
            f"{s['checkout_p50_ms']} ms, p95 {s['checkout_p95_ms']} ms",
            f"orders paid at localstripe {s['paid_at_provider']}, paid in the API {s.get('paid_in_api')}, "
            f"unpaid but paid {s.get('paid_but_unpaid')}; duplicate charges {s['duplicate_charges']}, refunded "
            f"{s.get('duplicates_refunded')} ({s.get('duplicates_unseen_dropped_webhook')} unseen: webhook dropped)",
            f"webhooks {s.get('webhooks')}; DynamoDB faults {s.get('dynamodb_faults')}",
            f"moto server RSS: {rss}"])


def moto_pid(stack: launcher.LocalStack) -> int | None:
    """The moto server child of the stack's process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == stack.process.pid and b"devstack.motoserver" in cmdline:
            return int(entry.name)
    return None


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def stack_env(period: int, drop: float, dynamodb_timeouts: float) -> dict[str, str]:
    return {"PUMP_SCHEDULE_SECONDS": str(period), "RECONCILE_AFTER_SECONDS": str(period),
            "LOCALSTRIPE_DROP_WEBHOOKS": str(drop), "LOCALSTRIPE_WEBHOOK_RETRY_DELAYS": "1,2,4,8",
            "DEVSTACK_DYNAMODB_TIMEOUTS": str(dynamodb_timeouts)}


def run(stack: launcher.LocalStack, users: int, seconds: float, max_requests: int, duplicates: float = 0.05,
        period: int = 10, settle: float = 90, seed: int = 0) -> Soak:
    admin = {"Authorization": f"Bearer {stack.admin_key}"}
    soak, lock, stop = Soak(users=users), threading.Lock(), threading.Event()
    product = requests.post(f"{stack.api}/admin/products", headers=admin, timeout=30, json={
        "title": "Soak tee", "description": "", "active": True,
        "variants": [{"sku": f"SOAK{uuid.uuid4().hex[:6].upper()}-{size}", "title": size, "price": 2500,
                      "currency": "EUR", "on_hand": 10_000_000} for size in ("S", "M", "L")]})
    product.raise_for_status()
    product = product.json()
    skus = [v["sku"] for v in product["variants"]]
    pid = moto_pid(stack)
    started = time.monotonic()
    deadline, budget = started + seconds, [max_requests]

    def sample_rss() -> None:
        while pid:
            with lock:
                soak.rss_mb.append((round(time.monotonic() - started), round(rss_mb(pid))))
            if stop.wait(60):
                return

    def call(session, kind: str, method: str, path: str, **kwargs):
        with lock:
            if budget[0] <= 0 or time.monotonic() > deadline:
                raise StopIteration
            budget[0] -= 1
        began = time.perf_counter()
        try:
            answer = session.request(method, f"{stack.api}{path}", timeout=60, **kwargs)
            status, body = answer.status_code, answer.json() if answer.content else {}
        except (requests.RequestException, ValueError) as error:
            status, body = 0, {"error": {"code": type(error).__name__}}
        code = body.get("error", {}).get("code") if status >= 400 and isinstance(body, dict) else None
        with lock:
            soak.latencies.setdefault(kind, []).append(time.perf_counter() - began)
            soak.statuses[(kind, status, code)] += 1
        return status, body

    def purchase(session, rng: random.Random, index: int) -> None:
        call(session, "GET /products", "GET", "/products")
        call(session, "GET /products/{id}", "GET", f"/products/{product['id']}")
        status, cart = call(session, "POST /carts", "POST", "/carts", json={"email": f"soak{index}@example.com"},
                            headers={"Idempotency-Key": str(uuid.uuid4())})
        if status != 201:
            return
        lines = f"/carts/{cart['id']}/lines"
        first, second = rng.sample(skus, 2)
        call(session, "POST /carts/{id}/lines", "POST", lines, json={"sku": first, "quantity": rng.randint(1, 3)})
        call(session, "POST /carts/{id}/lines", "POST", lines, json={"sku": second, "quantity": 1},
             headers={"Idempotency-Key": str(uuid.uuid4())})
        call(session, "PATCH /carts/{id}", "PATCH", f"/carts/{cart['id']}",
             json={"shipping_address": ADDRESS, "shipping_method": "standard"})
        status, checkout = call(session, CHECKOUT, "POST", f"/carts/{cart['id']}/checkout", json={},
                                headers={"Idempotency-Key": str(uuid.uuid4())})
        if status not in (200, 201):
            return
        order_id, payment_id = checkout["order"]["id"], checkout["payment"]["client_secret"].split("_secret_")[0]
        intent = _stripe(stack.stripe, f"/v1/payment_intents/{payment_id}/confirm", payment_method="pm_card_visa")
        if intent.get("status") == "succeeded":
            with lock:
                soak.paid_at_provider[order_id] = payment_id
            if rng.random() < duplicates:
                second = _stripe(stack.stripe, "/v1/payment_intents", amount=intent["amount"],
                                 currency=intent["currency"], **{"metadata[order_id]": order_id})
                if _stripe(stack.stripe, f"/v1/payment_intents/{second['id']}/confirm",
                           payment_method="pm_card_visa").get("status") == "succeeded":
                    with lock:
                        soak.duplicates[order_id] = second["id"]
        call(session, "GET /orders/{id}", "GET", f"/orders/{order_id}", headers={"X-Order-Token": checkout[
            "order_token"]})

    def user(index: int) -> None:
        rng, session = random.Random(seed * 1000 + index), requests.Session()
        try:
            while True:
                purchase(session, rng, index)
        except StopIteration:
            return

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    soak.seconds = time.monotonic() - started
    _settle(stack, soak, admin, max(settle, 2 * period + 20))
    stop.set()
    if pid:
        soak.rss_mb.append((round(time.monotonic() - started), round(rss_mb(pid))))
    return soak


def _stripe(base: str, path: str, **data) -> dict:
    answer = requests.post(f"{base}{path}", auth=STRIPE_AUTH, data=data, timeout=30)
    return answer.json() if answer.ok else {}


def _pending(stack, admin: dict) -> set[str] | None:
    """The ids of the orders pending payment; None if the API could not say (asked again later)."""
    ids, cursor = set(), None
    while True:
        answer = requests.get(f"{stack.api}/admin/orders", headers=admin, timeout=60, params={
            "status": "pending_payment", "limit": 100, **({"cursor": cursor} if cursor else {})})
        if not answer.ok:
            return None
        page = answer.json()
        ids |= {order["id"] for order in page["data"]}
        if not (cursor := page.get("next_cursor")):
            return ids


def _refunded(stack, payment_id: str) -> bool:
    intent = requests.get(f"{stack.stripe}/v1/payment_intents/{payment_id}", auth=STRIPE_AUTH, timeout=30).json()
    return all(c.get("amount_refunded") == c.get("amount") for c in intent["charges"]["data"])


def _deliveries(stack) -> dict:
    return requests.get(f"{stack.stripe}/_config/webhook_deliveries", timeout=30).json()


def _paid_in_api(stack, admin: dict, order_id: str) -> bool:
    order = requests.get(f"{stack.api}/admin/orders/{order_id}", headers=admin, timeout=60).json()
    return order.get("payment_status") == "paid" and order.get("amount_paid") == order.get("total")


def _settle(stack, soak: Soak, admin: dict, wait: float) -> None:
    """Wait (up to `wait` s) until no order paid at localstripe is pending in the API and every duplicate
    is refunded; then check every order paid at localstripe and record what is not settled."""
    from concurrent.futures import ThreadPoolExecutor

    deadline = time.monotonic() + wait
    unrefunded = dict(soak.duplicates)
    while True:
        pending = _pending(stack, admin)
        waiting = set(soak.paid_at_provider) if pending is None else pending & set(soak.paid_at_provider)
        # Whichever payment's webhook came second is the duplicate (the first one paid the order).
        unrefunded = {o: p for o, p in unrefunded.items()
                      if _refunded(stack, p) + _refunded(stack, soak.paid_at_provider[o]) != 1}
        dropped = set(_deliveries(stack)["dropped_objects"])
        # A duplicate whose webhook was dropped on purpose is never seen (Stripe would retry for days).
        unseen = {o for o, p in unrefunded.items() if {p, soak.paid_at_provider[o]} & dropped}
        if (not waiting and not set(unrefunded) - unseen) or time.monotonic() > deadline:
            break
        time.sleep(2)
    with ThreadPoolExecutor(8) as pool:
        paid = dict(zip(soak.paid_at_provider, pool.map(lambda o: _paid_in_api(stack, admin, o),
                                                        soak.paid_at_provider), strict=True))
    unpaid = [order_id for order_id, ok in paid.items() if not ok]
    webhooks = _deliveries(stack)
    del webhooks["dropped_objects"]
    soak.outcome = {"paid_in_api": len(soak.paid_at_provider) - len(unpaid), "paid_but_unpaid": len(unpaid),
                    "duplicates_refunded": len(soak.duplicates) - len(unrefunded),
                    "duplicates_unseen_dropped_webhook": len(unseen), "webhooks": webhooks,
                    "dynamodb_faults": _faults_line(stack.log)}
    if soak.count(lambda s: s >= 500):
        soak.problems.append(f"{soak.count(lambda s: s >= 500)} answers were 5xx")
    if soak.count(lambda s: s == 0):
        soak.problems.append(f"{soak.count(lambda s: s == 0)} requests got no answer (dropped or timed out)")
    if unpaid:
        soak.problems.append(f"{len(unpaid)} orders paid at localstripe are not paid in the API: {sorted(unpaid)[:5]}")
    if set(unrefunded) - unseen:
        soak.problems.append(f"{len(set(unrefunded) - unseen)} duplicate charges were not refunded")
    for (kind, status, code), n in soak.statuses.items():
        if 400 <= status < 500:
            soak.problems.append(f"{n}× {kind} answered {status} {code}")


def _faults_line(log: str) -> str | None:
    lines = [line for line in log.splitlines() if "fault injection" in line]
    return lines[-1].split("fault injection", 1)[1].strip(" :") if lines else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=int(os.environ.get("SOAK_USERS", "50")))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "300")))
    parser.add_argument("--requests", type=int, default=int(os.environ.get("SOAK_REQUESTS", "200000")))
    parser.add_argument("--drop-webhooks", type=float, default=0.1, help="share of webhooks dropped")
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of orders charged twice")
    parser.add_argument("--dynamodb-timeouts", type=float, default=0.01, help="share of DynamoDB calls timing out")
    parser.add_argument("--period", type=int, default=10, help="reconciliation period and wait, seconds")
    parser.add_argument("--json", default="bench/results/soak.json", help="the summary is written here")
    args = parser.parse_args()
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as outbox, launcher.LocalStack(
            outbox, admin_key="soak-admin-key", env=stack_env(args.period, args.drop_webhooks, args.dynamodb_timeouts),
            log_path=Path(args.json).with_suffix(".log")) as stack:
        soak = run(stack, args.users, args.seconds, args.requests, args.duplicates, args.period)
    print(soak.table())
    Path(args.json).write_text(json.dumps(soak.summary(), indent=2))
    if soak.problems:
        print("\n".join(["PROBLEMS:", *soak.problems[:20]]))
        sys.exit(1)


if __name__ == "__main__":
    main()
