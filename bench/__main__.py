"""`make bench`: the scripted shopper against the floor, growth with the table's size, cold start,
package size, the flash-sale simulation, load.

    python -m bench                      (BENCH_SHOPPERS=30, BENCH_SIZES=1000,100000,
                                          BENCH_SEARCH_SIZES=10000,50000,200000,
                                          BENCH_LOAD_USERS=50, BENCH_LOAD_REQUESTS=3000;
                                          BENCH_LOAD_REQUESTS=0 skips the load run)

Everything runs in-process against moto (chalice.test.Client) with localstripe as a child process,
except the load run, which starts the local stack (`python -m devstack`) on free loopback ports.
The floor (bench/minimal_app.py: a bare Chalice route doing one GetItem) is measured between the
shoppers on the same table; the cold start in fresh interpreters against a moto server
(bench/cold_start.py); the flash sale is a pure-Python simulation (bench/flash_sale.py). Results go
to bench/results/ (gitignored): results.json, results.md and the charts; the markdown is printed too.
See README "Benchmarks and reliability".
"""

import contextlib
import io
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

import tests.conftest  # noqa: F401 - the fake AWS credentials and region, before boto3 is used
from bench import cold_start, flash_sale, load, report, shopper
from bench import search as search_bench

RESULTS = Path(__file__).resolve().parent / "results"


def _measure_size(stripe: str, size: int, shoppers: int) -> dict:
    seeding = tqdm(total=size, desc=f"seed {size:,} items", unit="item", disable=not size, leave=False, mininterval=2)
    with seeding as bar, shopper.world(stripe, history=size, progress=bar.update) as shop:
        rng = random.Random(size)
        # The app prints CloudWatch metrics (EMF) to stdout, as Lambda wants; not here.
        with contextlib.redirect_stdout(io.StringIO()):
            for _ in tqdm(range(shoppers), desc=f"shoppers at {size:,}", unit="order", file=sys.stderr, mininterval=2):
                shopper.shop_once(shop, rng)
                shopper.floor_once(shop)
            shopper.stale_orders_and_idle_carts(shop, 10)
            schedules = shopper.admin_and_schedules(shop)
        samples = [s.to_json() for s in shop.samples]
        seed_seconds = shop.seed_seconds
    summary = report.summarise(samples)
    return {"size": size, "shoppers": shoppers, "samples": samples, "schedules": schedules,
            "seed_seconds": seed_seconds, "summary": summary, "floor": report.against_floor(summary)}


def main() -> int:
    started = time.perf_counter()
    shoppers = int(os.environ.get("BENCH_SHOPPERS", "30"))
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,100000").split(",") if s.strip()]
    load_users = int(os.environ.get("BENCH_LOAD_USERS", "50"))
    load_requests = int(os.environ.get("BENCH_LOAD_REQUESTS", "3000"))
    RESULTS.mkdir(exist_ok=True)
    results: dict = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "shoppers": shoppers,
                     "sizes": sizes, "prices": report.PRICES, "price_note": report.PRICE_NOTE}

    with shopper.localstripe() as stripe:
        worlds = [_measure_size(stripe, size, shoppers) for size in sizes]
    results["worlds"] = worlds
    base = worlds[0]
    results["per_order"] = report.per_order(base["samples"], shoppers)
    if len(worlds) > 1:
        results["growth"] = report.growth(base["summary"], worlds[-1]["summary"])

    print("cold start: import + first request in fresh interpreters (app and the floor)...", file=sys.stderr)
    cold_runs = int(os.environ.get("BENCH_COLD_RUNS", "7"))
    results["cold_start"] = cold_start.measure(cold_runs)
    results["package"] = shopper.package_size()
    if "path" in results["package"]:  # the same probes on the deployment package, as Lambda loads it
        zipped = os.path.join(shopper.ROOT, results["package"]["path"])
        results["cold_start_packaged"] = {
            "with its bytecode": cold_start.measure(cold_runs, package=zipped),
            "without bytecode (as chalice packages it)": cold_start.measure(cold_runs, package=zipped,
                                                                           strip_bytecode=True)}
    results["flash_sale"] = flash_sale.run((1, 4, 16))
    results["flash_sale_onset"] = flash_sale.onset()
    search_sizes = [int(s) for s in os.environ.get("BENCH_SEARCH_SIZES", "10000,50000,200000").split(",") if s.strip()]
    print(f"search index at {search_sizes} products...", file=sys.stderr)
    results["search"] = [search_bench.measure(size) for size in search_sizes]

    if load_requests:
        print(f"load run: {load_users} users, {load_requests} requests against python -m devstack...", file=sys.stderr)
        with tempfile.TemporaryDirectory() as outbox, load.LocalStack(outbox) as stack:
            outcome = load.run(stack.api, stack.admin_key, load_users, load_requests, time_limit=150)
        results["load"] = outcome.summary()
        results["load_table"] = outcome.table()

    results["wall_seconds"] = time.perf_counter() - started
    markdown = render(results)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=1, default=str))
    (RESULTS / "results.md").write_text(markdown)
    small, large = sizes[0], sizes[-1]
    charts = report.charts(base["summary"], results.get("growth", []), RESULTS, small, large)
    charts += report.more_charts(base["floor"], results["cold_start"], results["flash_sale"], RESULTS)
    print(markdown)
    print(f"\nwrote {RESULTS}/results.json, results.md, {', '.join(charts)} in {results['wall_seconds']:.0f} s")
    return 1 if results.get("load", {}).get("problems") else 0


def render(results: dict) -> str:
    worlds = results["worlds"]
    base = worlds[0]
    one = results["per_order"]
    parts = [f"# make bench ({results['started_at']}, {results['shoppers']} shoppers, wall time "
             f"{results['wall_seconds']:.0f} s)", "",
             f"## Per operation ({base['size']:,} orders and carts in the table; in-process, moto, localstripe)", "",
             "Times are wall times of one request through chalice.test.Client. *in AWS* is the time inside "
             "botocore calls (moto's work included), *Stripe* the HTTP calls to localstripe, *code* the rest: "
             "our code, pydantic, Chalice's routing. RRU/WRU: estimated DynamoDB request units (bench/meter.py).", "",
             report.operations_table(base["summary"]), "",
             f"## Against the floor ({base['size']:,} items; same run, same table, same chalice.test.Client)", "",
             "The floor is bench/minimal_app.py, a bare Chalice route doing one GetItem, measured as a route is: "
             "once per shopper, between two of its routes. *own* = wall − AWS calls − provider calls; boto3's "
             "resource (de)serialisation inside the floor's call counts as its own time, as ours does "
             "(bench/meter.py). *own in app*: the same inside Chalice.__call__ only (no chalice.test event, "
             "context and route matching). *as until 2026-12-02*: against the floor then measured (3 calls in a "
             "row after each shopper, its (de)serialisation counted as AWS time). The peer "
             "(aws-samples/aws-serverless-shopping-cart) is not measured: it cannot be downloaded here.", "",
             report.floor_table(base["floor"], results.get("growth")), "",
             f"## Per order (a shopper from browsing to a consumed OrderPaid; {one['orders']} orders)", "",
             report.order_table(one), "",
             "Lambda GB-s is modelled: measured code time + "
             f"{report.AWS_CALL_SECONDS * 1000:.0f} ms per AWS call + {report.STRIPE_CALL_SECONDS * 1000:.0f} ms per "
             f"Stripe call, at {report.LAMBDA_MEMORY_GB * 1024:.0f} MB. " + report.PRICE_NOTE, ""]
    if "growth" in results:
        small, large = worlds[0]["size"], worlds[-1]["size"]
        parts += [f"## Growth: {small:,} → {large:,} orders and carts in the table", "",
                  report.growth_table(results["growth"], small, large), "",
                  "Schedules at each size: "
                  + "; ".join(f"{w['size']:,}: {json.dumps(w['schedules'])}" for w in worlds),
                  ""]
    if len(worlds) > 1:
        large_floor = {row["op"]: row for row in worlds[-1]["floor"]}
        parts += [f"Against the floor at {worlds[-1]['size']:,} items, own × floor (median; p25) and its ratio to "
                  f"the same at {base['size']:,}: "
                  + "; ".join(f"{row['op']} {large_floor[row['op']]['ratio']:.2f}×; "
                              f"{large_floor[row['op']]['p25_ratio']:.2f}× "
                              f"({large_floor[row['op']]['ratio'] / row['ratio']:.2f}; "
                              f"{large_floor[row['op']]['p25_ratio'] / row['p25_ratio']:.2f})"
                              for row in base["floor"][1:] if row["op"] in large_floor), ""]
    seeded = [w for w in worlds if w["size"]]
    if seeded:
        parts += ["Seeding (BatchWriteItem, 25 items a request, bench/seed.py): "
                  + "; ".join(f"{w['size']:,} items in {w['seed_seconds']:.0f} s" for w in seeded), ""]
    cold = results["cold_start"]
    parts += [f"## Cold start: import + first request in a fresh interpreter (median of {cold['runs']})", "",
              "A moto server and localstripe on loopback; the handler gets an API Gateway event as from the Lambda "
              "runtime; aiohttp and httpx blocked, as they are absent from the Lambda package.", "",
              cold_start.table(cold), ""]
    for variant, measured in results.get("cold_start_packaged", {}).items():
        parts += [f"The same from the unzipped deployment.zip, {variant}; nothing written, as Lambda's /var/task "
                  "is read-only; the floor beside the package's chalice, sources only:", "",
                  cold_start.table(measured), ""]
    parts += ["## Flash sale on one SKU (bench/flash_sale.py, a discrete-event model of DynamoDB's per-item limits)",
              "", flash_sale.table(results["flash_sale"]), "", "Where TransactionConflict starts on one item:", "",
              flash_sale.onset_table(results["flash_sale_onset"])]
    parts += ["", "## Search (bench/search.py: synthetic products, the SQLite FTS5 index in process)", "",
              search_bench.table(results["search"])]
    package = results["package"]
    parts += ["", "## Deployment package", ""]
    if "error" in package:
        parts.append(f"infra/package.py failed: {package['error'][-500:]}")
    else:
        parts.append(f"`{package['path']}`: {package['zipped_bytes'] / 1e6:.1f} MB zipped, "
                     f"{package['unzipped_bytes'] / 1e6:.1f} MB unzipped, {package['files']} files "
                     "(Lambda's limits: 50 MB zipped, 250 MB unzipped). Largest, zipped: "
                     + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in package["largest_zipped"].items())
                     + ".")
    if "load" in results:
        parts += ["", "## Load run (python -m devstack on loopback)", "", results["load_table"], ""]
        if results["load"]["problems"]:
            parts += ["**Problems:**", *[f"- {p}" for p in results["load"]["problems"]]]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.exit(main())
