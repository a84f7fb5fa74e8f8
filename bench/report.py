"""Summaries, the cost model, the markdown tables and the charts of `make bench`."""

import math
import statistics
from collections import Counter

from bench.shopper import ASYNC_STEPS, CLIENT_SIDE, FLOOR_STEP, FLOOR_WARM_STEP, KEYED_LINE_STEP

# On-demand list prices, us-east-1, as known to the author in 2026 (DynamoDB after its November 2024
# price cut). Check https://aws.amazon.com/pricing before relying on them.
PRICES = {
    "dynamodb_write_per_million": 0.625,   # write request units
    "dynamodb_read_per_million": 0.125,    # read request units
    "lambda_requests_per_million": 0.20,
    "lambda_gb_second": 0.0000166667,      # x86
    "api_gateway_rest_per_million": 3.50,  # first 333 million a month
    "sqs_per_million": 0.40,               # standard queue requests (each up to 64 KB)
    "ses_per_thousand": 0.10,
}
PRICE_NOTE = ("AWS list prices, us-east-1, on-demand, as of the author's knowledge (2026; DynamoDB after its "
              "2024-11 price cut): DynamoDB $0.625 per million write and $0.125 per million read request units, "
              "Lambda $0.20 per million requests + $0.0000166667 per GB-s, API Gateway REST $3.50 per million, "
              "SQS $0.40 per million requests, SES $0.10 per 1,000 emails. Free tiers, data transfer, CloudWatch "
              "and Stripe's fees are left out.")
# Lambda duration model: measured code time (in-process) + these latencies, which moto does not have.
AWS_CALL_SECONDS = 0.008
STRIPE_CALL_SECONDS = 0.300
LAMBDA_MEMORY_GB = 0.5  # lambda_memory_size 512 in .chalice/config.json


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = max(0, math.ceil(share * len(ordered)) - 1)
    return ordered[index]


def summarise(samples: list[dict]) -> list[dict]:
    """Per step, in the order steps first occur: count, AWS calls per request (by operation, from the
    first sample; steps whose calls vary report the mean), time percentiles, capacity."""
    steps: dict[str, list[dict]] = {}
    for sample in samples:
        steps.setdefault(sample["step"], []).append(sample)
    rows = []
    for step, group in steps.items():
        calls = Counter()
        for sample in group:
            calls.update(sample["calls"])
        count = len(group)
        rows.append({
            "step": step, "samples": count,
            "calls": {name: n / count for name, n in calls.items()},
            "calls_total": sum(calls.values()) / count,
            "median_ms": statistics.median(s["wall"] for s in group) * 1000,
            "p95_ms": percentile([s["wall"] for s in group], 0.95) * 1000,
            "aws_median_ms": statistics.median(s["aws"] for s in group) * 1000,
            "http_median_ms": statistics.median(s["http"] for s in group) * 1000,
            "own_median_ms": statistics.median(s["own"] for s in group) * 1000,
            "own_p95_ms": percentile([s["own"] for s in group], 0.95) * 1000,
            # The lower quartile: on a busy machine a 2 ms request is often preempted (~4 ms a slice),
            # which moves the median; the quartile shows what the code itself costs.
            "own_p25_ms": percentile([s["own"] for s in group], 0.25) * 1000,
            # Own time inside the Chalice app only (no chalice.test harness), and own time as measured until
            # 2026-12-02 (boto3's resource (de)serialisation counted as AWS time: only the floor has any).
            "own_app_median_ms": statistics.median(s.get("own_in_app", 0.0) for s in group) * 1000,
            "own_app_p25_ms": percentile([s.get("own_in_app", 0.0) for s in group], 0.25) * 1000,
            "own_old_median_ms": statistics.median(s["own"] - s.get("transform", 0.0) for s in group) * 1000,
            "own_old_p25_ms": percentile([s["own"] - s.get("transform", 0.0) for s in group], 0.25) * 1000,
            "read_units": sum(s["read_units"] for s in group) / count,
            "write_units": sum(s["write_units"] for s in group) / count,
            "http_calls": sum(s["http_calls"] for s in group) / count,
        })
    return rows


def per_order(samples: list[dict], orders: int) -> dict:
    """What one order costs, all steps of the shoppers together (the admin listing and the schedules
    are not per order), and the AWS bill per 1,000 orders under PRICES."""
    shopper = [s for s in samples if not s["step"].startswith(("GET /admin", "schedule ", "floor"))]
    calls = Counter()
    for sample in shopper:
        calls.update(sample["calls"])
    api_requests = sum(1 for s in shopper if s["step"] not in ASYNC_STEPS + CLIENT_SIDE)
    invocations = api_requests + sum(1 for s in shopper if s["step"] in ASYNC_STEPS[:1] + ASYNC_STEPS[2:])
    lambda_seconds = 0.0
    for sample in shopper:
        if sample["step"] in CLIENT_SIDE or sample["step"] == ASYNC_STEPS[1]:
            continue
        aws = sum(sample["calls"].values())
        billed = sample["own"] + aws * AWS_CALL_SECONDS + sample["http_calls"] * STRIPE_CALL_SECONDS
        lambda_seconds += math.ceil(billed * 1000) / 1000  # billed per millisecond
    sqs = sum(n for name, n in calls.items() if name.startswith("sqs "))
    emails = sum(n for name, n in calls.items() if name.startswith(("sesv2 SendEmail", "ses SendEmail")))
    reads = sum(s["read_units"] for s in shopper)
    writes = sum(s["write_units"] for s in shopper)
    one = {
        "orders": orders,
        "aws_calls": sum(calls.values()) / orders,
        "calls": {name: n / orders for name, n in sorted(calls.items())},
        "api_requests": api_requests / orders,
        "lambda_invocations": invocations / orders,
        "lambda_gb_seconds": lambda_seconds * LAMBDA_MEMORY_GB / orders,
        "read_units": reads / orders,
        "write_units": writes / orders,
        "sqs_requests": sqs / orders,
        "emails": emails / orders,
    }
    thousand = {
        "DynamoDB writes": one["write_units"] * 1000 * PRICES["dynamodb_write_per_million"] / 1e6,
        "DynamoDB reads": one["read_units"] * 1000 * PRICES["dynamodb_read_per_million"] / 1e6,
        "Lambda requests": one["lambda_invocations"] * 1000 * PRICES["lambda_requests_per_million"] / 1e6,
        "Lambda duration": one["lambda_gb_seconds"] * 1000 * PRICES["lambda_gb_second"],
        "API Gateway": one["api_requests"] * 1000 * PRICES["api_gateway_rest_per_million"] / 1e6,
        "SQS": one["sqs_requests"] * 1000 * PRICES["sqs_per_million"] / 1e6,
        "SES": one["emails"] * 1000 * PRICES["ses_per_thousand"] / 1000,
    }
    one["cost_per_1000_orders"] = thousand | {"total": sum(thousand.values())}
    return one


def growth(small: list[dict], large: list[dict]) -> list[dict]:
    """Per step present at both sizes: the large/small ratio of median time, code time, calls and units."""
    by_step = {row["step"]: row for row in small}
    rows = []
    for row in large:
        base = by_step.get(row["step"])
        if base is None:
            continue

        def ratio(name, row=row, base=base):
            return row[name] / base[name] if base[name] else (1.0 if not row[name] else math.inf)

        rows.append({"step": row["step"], "median_ratio": ratio("median_ms"), "aws_ratio": ratio("aws_median_ms"),
                     "own_ratio": ratio("own_median_ms"), "calls_ratio": ratio("calls_total"),
                     "read_units_ratio": ratio("read_units"), "write_units_ratio": ratio("write_units"),
                     "small_median_ms": base["median_ms"], "large_median_ms": row["median_ms"],
                     "own_p25_ratio": ratio("own_p25_ms"),
                     "small_own_ms": base["own_median_ms"], "large_own_ms": row["own_median_ms"]})
    return rows


# The operations of issue 12, their steps and the goal for own time against the floor's (None: no goal).
FLOOR_OPS = (
    ("add line, no key", "POST /carts/{id}/lines", 1.5),
    ("add line with Idempotency-Key", KEYED_LINE_STEP, 1.5),
    ("set quantity", "PATCH /carts/{id}/lines/{sku}", 1.5),
    ("read cart", "GET /carts/{id}", 1.5),
    ("checkout with key", "POST /carts/{id}/checkout", 3.0),
    ("webhook", "POST /webhooks/stripe", None),
    ("POST /carts", "POST /carts", 1.5),
)


def against_floor(rows: list[dict]) -> list[dict]:
    """Per operation of FLOOR_OPS: calls, median, own time and own time / the floor's own time.

    `ratio`/`p25_ratio`: against the floor measured like the routes (one call between two routes, boto3's
    resource (de)serialisation counted as its own time, as ours is); `app_ratio`/`app_p25_ratio`: the same
    without the chalice.test harness (own time inside Chalice.__call__ only); `old_ratio`/`old_p25_ratio`:
    as measured until 2026-12-02 (the floor 3 calls in a row after each shopper, its (de)serialisation
    counted as AWS time), when that floor was measured."""
    by_step = {row["step"]: row for row in rows}
    floor = by_step[FLOOR_STEP]
    warm = by_step.get(FLOOR_WARM_STEP)

    def ratios(row: dict) -> dict:
        found = {"ratio": row["own_median_ms"] / floor["own_median_ms"],
                 "p25_ratio": row["own_p25_ms"] / floor["own_p25_ms"],
                 "own_app_ms": row["own_app_median_ms"], "own_app_p25_ms": row["own_app_p25_ms"],
                 "app_ratio": row["own_app_median_ms"] / floor["own_app_median_ms"],
                 "app_p25_ratio": row["own_app_p25_ms"] / floor["own_app_p25_ms"]}
        if warm is not None:
            found.update(old_ratio=row["own_old_median_ms"] / warm["own_old_median_ms"],
                         old_p25_ratio=row["own_old_p25_ms"] / warm["own_old_p25_ms"])
        return found

    found = [{"op": "floor (1 GetItem)", "step": FLOOR_STEP, "calls": floor["calls_total"], "provider_calls": 0,
              "median_ms": floor["median_ms"], "own_ms": floor["own_median_ms"],
              "own_p25_ms": floor["own_p25_ms"], "goal": None, **ratios(floor)}]
    if warm is not None:
        found[0].update(warm_own_ms=warm["own_old_median_ms"], warm_own_p25_ms=warm["own_old_p25_ms"])
    for op, step, goal in FLOOR_OPS:
        row = by_step.get(step)
        if row is None:
            continue
        found.append({"op": op, "step": step, "calls": row["calls_total"], "provider_calls": row["http_calls"],
                      "median_ms": row["median_ms"], "own_ms": row["own_median_ms"],
                      "own_p25_ms": row["own_p25_ms"], "goal": goal, **ratios(row)})
    return found


# --- markdown -----------------------------------------------------------------------------------


def _calls_text(calls: dict) -> str:
    parts = []
    for name, n in calls.items():
        service, operation = name.split(" ", 1)
        amount = f"{n:g}" if n == int(n) else f"{n:.2f}"
        parts.append(f"{operation} ×{amount}" if service == "dynamodb" else f"{service} {operation} ×{amount}")
    return ", ".join(parts) or "–"


def operations_table(rows: list[dict]) -> str:
    lines = ["| step | n | AWS calls | by operation | median ms | p95 ms | in AWS ms | Stripe ms "
             "| code ms (median / p95) | RRU | WRU |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['step']} | {r['samples']} | {r['calls_total']:g} | {_calls_text(r['calls'])} "
                     f"| {r['median_ms']:.1f} | {r['p95_ms']:.1f} | {r['aws_median_ms']:.1f} "
                     f"| {r['http_median_ms']:.1f} | {r['own_median_ms']:.1f} / {r['own_p95_ms']:.1f} "
                     f"| {r['read_units']:g} | {r['write_units']:g} |")
    return "\n".join(lines)


def floor_table(rows: list[dict], growth_rows: list[dict] | None = None) -> str:
    growth = {r["step"]: r for r in growth_rows or []}
    lines = ["| op | AWS calls | + provider | median ms | own ms (median) | own × floor | goal | own ms (p25) "
             "| p25 × floor | own in app ms (median) | in app × floor (median; p25) | as until 2026-12-02: × floor "
             "(median; p25) | own time, large / small table (median; p25) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        goal = "–" if r["goal"] is None else f"≤ {r['goal']:g}× {'✓' if r['ratio'] <= r['goal'] else '✗'}"
        grown = growth.get(r["step"])
        growth_text = f"{grown['own_ratio']:.2f}; {grown['own_p25_ratio']:.2f}" if grown else "–"
        old = f"{r['old_ratio']:.2f}; {r['old_p25_ratio']:.2f}" if "old_ratio" in r else "–"
        lines.append(f"| {r['op']} | {r['calls']:g} | {r['provider_calls']:g} | {r['median_ms']:.1f} "
                     f"| {r['own_ms']:.2f} | {r['ratio']:.2f} | {goal} | {r['own_p25_ms']:.2f} "
                     f"| {r['p25_ratio']:.2f} | {r['own_app_ms']:.2f} | {r['app_ratio']:.2f}; {r['app_p25_ratio']:.2f} "
                     f"| {old} | {growth_text} |")
    return "\n".join(lines)


def order_table(one: dict) -> str:
    cost = one["cost_per_1000_orders"]
    lines = ["| per order | value |", "| --- | ---: |",
             f"| AWS calls | {one['aws_calls']:.1f} |",
             f"| API requests (API Gateway + Lambda) | {one['api_requests']:.0f} |",
             f"| Lambda invocations (API, relay, consumers) | {one['lambda_invocations']:.0f} |",
             f"| Lambda GB-s (modelled) | {one['lambda_gb_seconds']:.3f} |",
             f"| DynamoDB read request units (estimated) | {one['read_units']:.1f} |",
             f"| DynamoDB write request units (estimated) | {one['write_units']:.1f} |",
             f"| SQS requests | {one['sqs_requests']:.1f} |",
             f"| emails | {one['emails']:.0f} |",
             "", "| AWS cost per 1,000 orders | USD |", "| --- | ---: |"]
    lines += [f"| {name} | {value:.4f} |" for name, value in cost.items() if name != "total"]
    lines.append(f"| **total** | **{cost['total']:.4f}** |")
    return "\n".join(lines)


def growth_table(rows: list[dict], small: int, large: int) -> str:
    lines = [f"| step | median ms at {small:,} | at {large:,} | time ratio | in-AWS ratio | code ms at {small:,} "
             f"| at {large:,} | code ratio | calls ratio | RRU ratio | WRU ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['step']} | {r['small_median_ms']:.1f} | {r['large_median_ms']:.1f} "
                     f"| {r['median_ratio']:.2f} | {r['aws_ratio']:.2f} | {r['small_own_ms']:.1f} "
                     f"| {r['large_own_ms']:.1f} | {r['own_ratio']:.2f} "
                     f"| {r['calls_ratio']:.2f} | {r['read_units_ratio']:.2f} | {r['write_units_ratio']:.2f} |")
    return "\n".join(lines)


# --- charts ---------------------------------------------------------------------------------------


def charts(rows: list[dict], growth_rows: list[dict], folder, small: int, large: int) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    names = [r["step"] for r in rows]
    aws = [r["aws_median_ms"] for r in rows]
    http = [r["http_median_ms"] for r in rows]
    own = [r["own_median_ms"] for r in rows]
    figure, axis = plt.subplots(figsize=(11, 0.42 * len(rows) + 1.5))
    axis.barh(names, aws, label="inside AWS calls (moto)", color="#4c72b0")
    axis.barh(names, http, left=aws, label="Stripe HTTP (localstripe)", color="#dd8452")
    axis.barh(names, own, left=[a + h for a, h in zip(aws, http, strict=True)], label="our code", color="#55a868")
    axis.invert_yaxis()
    axis.set_xlabel("median ms per request (in-process, moto)")
    axis.set_title(f"Time per operation ({small:,} orders and carts in the table)")
    axis.legend(loc="lower right")
    figure.tight_layout()
    path = folder / "time_per_operation.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    written.append(path.name)
    if growth_rows:
        names = [r["step"] for r in growth_rows]
        figure, axis = plt.subplots(figsize=(11, 0.42 * len(names) + 1.5))
        positions = range(len(names))
        height = 0.27
        axis.barh([p - height for p in positions], [r["calls_ratio"] for r in growth_rows], height,
                  label="AWS calls", color="#4c72b0")
        axis.barh(list(positions), [r["read_units_ratio"] if math.isfinite(r["read_units_ratio"]) else 0
                                    for r in growth_rows], height, label="read units", color="#8172b3")
        axis.barh([p + height for p in positions], [r["own_ratio"] for r in growth_rows], height,
                  label="our code's time", color="#55a868")
        axis.axvline(1.0, color="black", linewidth=0.8)
        axis.set_yticks(list(positions), names)
        axis.invert_yaxis()
        axis.set_xlabel(f"ratio: {large:,} / {small:,} items in the table (1 = no growth)")
        axis.set_title("Growth with the table's size")
        axis.legend(loc="lower right")
        figure.tight_layout()
        path = folder / "growth_ratio.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path.name)
    return written


def more_charts(floor_rows: list[dict], cold: dict, flash: list[dict], folder) -> list[str]:
    """own_vs_floor.png, cold_start.png, flash_sale.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    rows = floor_rows[1:]
    figure, axis = plt.subplots(figsize=(9, 0.5 * len(rows) + 1.6))
    axis.barh([r["op"] for r in rows], [r["ratio"] for r in rows], color="#55a868", label="own time / floor's")
    for index, r in enumerate(rows):
        if r["goal"] is not None:
            axis.plot([r["goal"]] * 2, [index - 0.4, index + 0.4], color="black", linewidth=2)
    axis.axvline(1.0, color="grey", linewidth=0.8)
    axis.invert_yaxis()
    axis.set_xlabel("own time (outside AWS and provider calls) / the floor's; black marks: the goal")
    axis.set_title("Own time per operation against the floor (one GetItem)")
    figure.tight_layout()
    written.append(_save(figure, plt, folder / "own_vs_floor.png"))

    probes = cold["probes"]
    names = list(probes)
    figure, axis = plt.subplots(figsize=(9, 0.6 * len(names) + 2.4))
    imports = [probes[n]["import_ms"] for n in names]
    axis.barh(names, imports, color="#4c72b0", label="import")
    axis.barh(names, [probes[n]["call_ms"] for n in names], left=imports, color="#dd8452", label="first call")
    axis.axvline(cold["checkout_goal_ms"], color="black", linestyle="--",
                 label="goal for the first checkout (1.3 × floor + one round trip)")
    axis.invert_yaxis()
    axis.set_xlabel("ms in a fresh interpreter (median)")
    axis.set_title("First request after a cold start")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8)
    figure.tight_layout()
    written.append(_save(figure, plt, folder / "cold_start.png"))

    figure, axis = plt.subplots(figsize=(7, 4))
    labels = [str(r["shards"]) for r in flash]
    axis.bar(labels, [r["checkouts_per_second"] for r in flash], color="#8172b3")
    for index, r in enumerate(flash):
        axis.text(index, r["checkouts_per_second"], f"{r['checkouts_per_second']:.0f}/s", ha="center", va="bottom")
    axis.set_xlabel("stock shard items of the hot SKU")
    axis.set_ylabel("completed checkouts per second")
    axis.set_title(f"Flash sale, simulated: {flash[0]['arrivals_per_second']:,.0f} buyers/s on one SKU")
    figure.tight_layout()
    written.append(_save(figure, plt, folder / "flash_sale.png"))
    return written


def _save(figure, plt, path) -> str:
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name
