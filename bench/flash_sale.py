"""A flash sale on one SKU: a discrete-event simulation of DynamoDB's per-item limits (pure Python).

moto serialises every request, so it cannot show what DynamoDB does when hundreds of buyers a second
check out the same SKU. This model can. What it models, per stock item (the SKU's stock, or one of
its N shard items):

- **conflicts**: a TransactWriteItems holds every item it writes from its start until it commits
  (`transaction_ms`, log-normal around the median). Another transaction that reaches a held item is
  cancelled with `TransactionConflict` after `cancel_ms`; it writes nothing.
- **the per-item write limit**: an item takes `item_wcu_per_second` write units a second (DynamoDB:
  ~1,000 per partition, and one item never spans partitions); a transactional write of an item up to
  1 KB costs 2. A write over the budget is throttled (the SDK retries it; here: one more attempt).
- **the checkout's retry** (chalicelib/services/checkout.py): it reads the cart and the stock again
  (`read_ms`), then tries the transaction; after a conflict it sleeps uniform(0, 50 ms × attempt)
  and tries again, `attempts` times in all, then answers 409 (counted as *gave up*).
- **shards**: the SKU's stock split over N shard items. A checkout reads the shards, picks one with
  enough stock at random and conditions its write on `available >= quantity` there; if the condition
  fails (another buyer took the units meanwhile) it falls back to another shard with enough stock.
  No shard ever goes below zero, so the sum cannot: no oversell by construction.

Buyers arrive as a Poisson stream (`arrivals_per_second`) for `seconds`; the result is the completed
checkouts per second, conflicts, throttles, give-ups and latency percentiles. Deterministic for a seed.

    python -m bench.flash_sale [--arrivals 1000] [--seconds 10] [--shards 1,4,16]
"""

import argparse
import heapq
import math
import random
from dataclasses import dataclass, field

TRANSACTION_WCU = 2  # a transactional write of an item up to 1 KB


@dataclass(frozen=True)
class Settings:
    shards: int = 1
    arrivals_per_second: float = 1000.0
    seconds: float = 10.0
    stock: int = 1_000_000
    quantity: int = 1
    transaction_ms: float = 20.0     # median of a TransactWriteItems in-region (order + cart + stock)
    transaction_sigma: float = 0.35  # log-normal spread of it
    cancel_ms: float = 8.0           # a cancelled transaction's answer
    read_ms: float = 6.0             # GetItem cart + BatchGetItem stock before each attempt
    attempts: int = 6                # chalicelib/services/checkout.py ATTEMPTS
    backoff_ms: float = 50.0         # sleep uniform(0, backoff_ms × attempt) after a failed attempt
    item_wcu_per_second: float = 1000.0
    seed: int = 12


@dataclass
class Result:
    settings: Settings
    completed: int = 0
    gave_up: int = 0
    sold_out: int = 0
    conflicts: int = 0
    throttles: int = 0
    fallbacks: int = 0
    sold: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def checkouts_per_second(self) -> float:
        return self.completed / self.settings.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0

    def summary(self) -> dict:
        buyers = self.completed + self.gave_up + self.sold_out
        return {"shards": self.settings.shards, "arrivals_per_second": self.settings.arrivals_per_second,
                "checkouts_per_second": self.checkouts_per_second, "completed": self.completed,
                "gave_up": self.gave_up, "sold_out": self.sold_out, "sold": self.sold,
                "conflicts_per_checkout": self.conflicts / buyers if buyers else 0.0,
                "throttles": self.throttles, "fallbacks": self.fallbacks,
                "p50_ms": self.percentile(0.5), "p99_ms": self.percentile(0.99)}


class _Item:
    """One stock item: units left, when the transaction holding it commits, its write budget."""

    def __init__(self, units: int, wcu: float):
        self.units = units
        self.held_until = 0.0
        self.tokens = wcu
        self.refilled_at = 0.0
        self.wcu = wcu

    def take_write_units(self, now: float, units: int) -> bool:
        self.tokens = min(self.wcu, self.tokens + (now - self.refilled_at) * self.wcu)
        self.refilled_at = now
        if self.tokens < units:
            return False
        self.tokens -= units
        return True


def simulate(settings: Settings) -> Result:
    rng = random.Random(settings.seed)
    n = settings.shards
    items = [_Item(settings.stock // n + (1 if i < settings.stock % n else 0), settings.item_wcu_per_second)
             for i in range(n)]
    result = Result(settings)
    events: list[tuple[float, int, str, dict]] = []
    sequence = 0

    def at(when: float, kind: str, buyer: dict) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (when, sequence, kind, buyer))

    now = 0.0
    while True:  # the arrivals
        now += rng.expovariate(settings.arrivals_per_second)
        if now >= settings.seconds:
            break
        at(now, "read", {"arrived": now, "attempt": 0, "tried": set()})
    median = settings.transaction_ms / 1000

    while events:
        now, _, kind, buyer = heapq.heappop(events)
        if kind == "read":  # read cart + shards, then start the transaction on a shard with enough stock
            candidates = [i for i, item in enumerate(items)
                          if item.units >= settings.quantity and i not in buyer["tried"]]
            if not candidates:
                result.sold_out += 1
                continue
            buyer["shard"] = rng.choice(candidates)
            at(now + settings.read_ms / 1000, "transact", buyer)
        elif kind == "transact":
            item = items[buyer["shard"]]
            if item.held_until > now:
                result.conflicts += 1
                _retry(settings, rng, result, buyer, now + settings.cancel_ms / 1000, at)
            elif not item.take_write_units(now, TRANSACTION_WCU):
                result.throttles += 1
                _retry(settings, rng, result, buyer, now + settings.cancel_ms / 1000, at)
            else:
                duration = median * math.exp(rng.gauss(0, settings.transaction_sigma))
                item.held_until = now + duration
                at(now + duration, "commit", buyer)
        elif kind == "commit":
            item = items[buyer["shard"]]
            if item.units >= settings.quantity:  # the condition, checked when the transaction applies
                item.units -= settings.quantity
                result.completed += 1
                result.sold += settings.quantity
                result.latencies_ms.append((now - buyer["arrived"]) * 1000)
            else:  # another shard may still have units: fall back at once, no back-off
                result.fallbacks += 1
                buyer["tried"].add(buyer["shard"])
                at(now, "read", buyer)
    if any(item.units < 0 for item in items) or result.sold > settings.stock:
        raise AssertionError("oversold")
    return result


def _retry(settings: Settings, rng: random.Random, result: Result, buyer: dict, now: float, at) -> None:
    buyer["attempt"] += 1
    if buyer["attempt"] >= settings.attempts:
        result.gave_up += 1
        return
    at(now + rng.uniform(0, settings.backoff_ms * buyer["attempt"]) / 1000, "read", buyer)


def run(shard_counts=(1, 4, 16), **overrides) -> list[dict]:
    return [simulate(Settings(shards=n, **overrides)).summary() for n in shard_counts]


def onset(rates=(1, 2, 5, 10, 20, 40, 80), seconds: float = 60.0) -> list[dict]:
    """One stock item under rising demand: where TransactionConflict starts and where it caps."""
    return [simulate(Settings(shards=1, arrivals_per_second=rate, seconds=seconds)).summary() for rate in rates]


def onset_table(rows: list[dict]) -> str:
    lines = ["| buyers/s on one item | checkouts/s | conflicts per buyer | gave up | p99 ms |",
             "| ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['arrivals_per_second']:g} | {r['checkouts_per_second']:.1f} | {r['conflicts_per_checkout']:.2f} "
              f"| {r['gave_up']:,} | {r['p99_ms']:.0f} |" for r in rows]
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    lines = ["| shards | buyers/s offered | checkouts/s | gave up (409 after 6 attempts) | conflicts per buyer "
             "| throttled | fallbacks | p50 ms | p99 ms |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['shards']} | {r['arrivals_per_second']:,.0f} | {r['checkouts_per_second']:,.0f} "
                     f"| {r['gave_up']:,} | {r['conflicts_per_checkout']:.2f} | {r['throttles']:,} "
                     f"| {r['fallbacks']:,} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrivals", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--shards", default="1,4,16")
    parser.add_argument("--stock", type=int, default=1_000_000)
    args = parser.parse_args()
    shards = [int(n) for n in args.shards.split(",")]
    print(table(run(shards, arrivals_per_second=args.arrivals, seconds=args.seconds, stock=args.stock)))


if __name__ == "__main__":
    main()
