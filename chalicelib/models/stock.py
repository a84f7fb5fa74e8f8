"""Stock split over shard items, for a SKU so hot that its one item would serialise checkouts: pure
rules, no I/O.

A SKU with `shards` = N keeps its stock in N items: shard 0 is the SKU item itself, shards 1..N-1
are items of their own, each with on_hand, reserved and available. Checkout reserves from one shard
with enough available, chosen at random, so concurrent buyers rarely meet on one item; every
reservation is conditioned on its shard's `available >= quantity`, so no shard, and hence no sum,
goes below zero: no oversell by construction. Reads sum the shards.

Release and shipping go back to the shards the order reserved from (recorded on the order, as
`stock_shards`). Only the sums are exact: after a change of the shard count an order may give back
to a shard other than the one that now holds its reservation, so one shard's `reserved` can differ
from what its orders hold while the SKU's total stays right.
"""

import random
from dataclasses import dataclass

from chalicelib.models import ShardLevel

Plan = list[tuple[int, int]]  # (shard, quantity) pairs


def plan_reservation(levels: list[ShardLevel], quantity: int, rng: random.Random | None = None) -> Plan | None:
    """Where to reserve `quantity`: one shard with enough available, chosen at random; when no
    single shard has enough, the fewest shards that together have it (fullest first); None when
    the shards together are short."""
    rng = rng or random
    enough = [level.shard for level in levels if level.available >= quantity]
    if enough:
        return [(rng.choice(enough), quantity)]
    plan, left = [], quantity
    for level in sorted(levels, key=lambda level: -level.available):
        if left <= 0 or level.available <= 0:
            break
        take = min(level.available, left)
        plan.append((level.shard, take))
        left -= take
    return plan if left <= 0 else None


def replan(recorded: dict[str, Plan], wanted: dict[str, int], levels: dict[str, list[ShardLevel]]) -> dict[str, Plan]:
    """Where to reserve again what an order had reserved on shards (`recorded`, by SKU) and gave
    back (a late payment for an expired order): on the shards that have it now (`levels`; none for a
    SKU folded back into one item, which then takes it all); where they are short, where it was
    (that reservation fails and the payment is refunded)."""
    plans = {}
    for sku, plan in recorded.items():
        quantity = wanted.get(sku, 0)
        fresh = plan_reservation(levels[sku], quantity) if levels.get(sku) else [(0, quantity)]
        plans[sku] = fresh or plan
    return plans


def spread(recorded: Plan, quantity: int, taken: int = 0) -> Plan:
    """`quantity` of what an order reserved (`recorded`) given back (released or shipped), shard by
    shard in the recorded order, after the `taken` units earlier moves gave back (its shipments so far)."""
    moves, left = [], quantity
    for shard, reserved in recorded:
        gone = min(reserved, taken)
        taken -= gone
        take = min(reserved - gone, left)
        if take > 0:
            moves.append((shard, take))
            left -= take
    if left > 0:  # more than recorded (should not happen): the first shard takes the rest
        moves.append((recorded[0][0] if recorded else 0, left))
    return _merged(moves)


def _merged(moves: Plan) -> Plan:
    merged: dict[int, int] = {}
    for shard, quantity in moves:
        merged[shard] = merged.get(shard, 0) + quantity
    return list(merged.items())


@dataclass(frozen=True)
class ShardChange:
    """What one shard item becomes. `existed`: it is there now; `keep`: it is there afterwards.
    The change is written as a difference (`on_hand_by`, ...) so that reservations made meanwhile
    on a kept shard are not lost; a shard that goes is deleted only as it was read."""

    shard: int
    existed: bool
    keep: bool
    before: ShardLevel
    after: ShardLevel

    def by(self, field: str) -> int:
        return getattr(self.after, field) - getattr(self.before, field)


class BelowReserved(ValueError):
    """The new on_hand is below what orders have reserved."""

    def __init__(self, reserved: int):
        super().__init__(f"{reserved} units are reserved by orders")
        self.reserved = reserved


def rebalance(levels: list[ShardLevel], count: int, on_hand: int | None = None) -> list[ShardChange]:
    """The shards after setting the SKU's total `on_hand` (None keeps it) and its shard count to
    `count`: what is reserved stays on its shard (a shard that goes hands it to shard 0), what is
    available is spread evenly over the shards. Units are neither made nor lost: the sums of
    on_hand, reserved and available are those asked for. Raises BelowReserved."""
    levels = sorted(levels, key=lambda level: level.shard)
    reserved = sum(level.reserved for level in levels)
    total = sum(level.on_hand for level in levels) if on_hand is None else on_hand
    if total < reserved:
        raise BelowReserved(reserved)
    before = {level.shard: level for level in levels}
    kept_reserved = {shard: (before[shard].reserved if shard in before else 0) for shard in range(count)}
    kept_reserved[0] += sum(level.reserved for level in levels if level.shard >= count)
    available = total - reserved
    changes = []
    for shard in range(max(count, max(before, default=0) + 1)):
        old = before.get(shard, ShardLevel(shard=shard))
        if shard >= count:
            changes.append(ShardChange(shard, shard in before, False, old, ShardLevel(shard=shard)))
            continue
        free = available // count + (1 if shard < available % count else 0)
        new = ShardLevel(shard=shard, on_hand=kept_reserved[shard] + free, reserved=kept_reserved[shard],
                         available=free)
        changes.append(ShardChange(shard, shard in before, True, old, new))
    return changes
