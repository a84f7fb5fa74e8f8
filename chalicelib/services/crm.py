"""The shop's customer view (CRM): figures kept from the stream, segments moved on by a daily sweep,
and the win-back offered once per lapse.

- **From the stream** (`record_order_change`, called by the relay): a paid order adds one order and
  its total to its customer (the id derived from the order's email, models/customers.py); money
  refunded later comes off the lifetime value. Each change is applied once: its marker is written in
  the same transaction (repository/crm.py), so a redelivered record counts nothing twice.
- **By time** (`sweep`, a schedule): no Scan. Each customer has an index item under the UTC day of
  their last order; on day D the sweep Queries the buckets of D − 60 (now at risk) and D − 120 (now
  lapsed), from the day after its last run (at most LOOKBACK days back). A new order moves the item,
  so a bucket holds exactly the customers whose *last* order was that day.
- **Win-back**: a customer who becomes lapsed and consents to marketing (their PROFILE) gets one
  single-use, expiring discount code (`WB-...`) written in the same transaction as the lapse; the
  relay sees it appear and queues the WinBackOffered email (events.py). One per lapse: a later
  order starts a new one. An order that uses the code counts as win-back revenue (counters.py).
"""

import secrets
from datetime import date, datetime, timedelta

from chalicelib import clock, config
from chalicelib.errors import UpstreamUnavailable, not_found
from chalicelib.models import DiscountRecord
from chalicelib.models.crm import (
    AT_RISK_DAYS,
    LAPSED_DAYS,
    WINBACK_PREFIX,
    AdminCustomer,
    CustomerStats,
    WinBack,
    apply_fact,
    lapse_due,
    order_facts,
    segment_of,
)
from chalicelib.models.customers import customer_id_for
from chalicelib.models.orders import Order, OrderRecord
from chalicelib.repository import crm
from chalicelib.repository import customers as accounts_repo
from chalicelib.retry import retried
from chalicelib.services import store_credit

LOOKBACK = timedelta(days=7)  # the longest outage of the sweep it catches up on
PAGE = 100
DETAIL_ORDERS = 20
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _busy() -> Exception:
    return UpstreamUnavailable("The customer's figures kept changing; please retry.")


def record_order_change(old: OrderRecord | None, new: OrderRecord | None, changed_at: datetime) -> int:
    """Apply one committed change of an order to its customer's figures, once however often it is
    delivered. Returns how many facts were applied now."""
    applied = 0
    for fact in order_facts(old, new, changed_at):
        def attempt(fact=fact) -> bool:
            before = crm.get(fact.customer_id)
            if before is None and fact.paid_at is None:
                return False  # a refund of an order counted before the CRM existed: nothing to take from
            after = apply_fact(before, fact, clock.now(), config.settings().vip_threshold)
            paid = (fact.order_id, clock.iso(fact.paid_at)) if fact.paid_at else None
            return crm.save(before, after, marker=fact.marker, paid_order=paid)
        applied += retried(attempt, crm.StatsChanged, _busy)
    return applied


def _winback_code(customer_id: str, now: datetime) -> DiscountRecord:
    settings = config.settings()
    code = WINBACK_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))  # 60 bits
    return DiscountRecord(id=clock.new_id("disc"), code=code, kind="percent", value=settings.winback_percent,
                          usage_limit=1, per_customer_limit=1, ends_at=now + timedelta(days=settings.winback_days),
                          customer_id=customer_id, created_at=now)


def move_on(customer_id: str, now: datetime) -> tuple[bool, bool]:
    """Put a customer into the segment `now` says (at risk, lapsed...), offering the win-back when
    they just lapsed and consent. Returns (moved, offered). Safe to repeat and to race: written on
    the version read."""
    def attempt() -> tuple[bool, bool]:
        stats = crm.get(customer_id)
        if stats is None:
            return False, False
        after = stats.model_copy(update={"segment": segment_of(stats, now, config.settings().vip_threshold)})
        code = None
        if lapse_due(after) and crm.consents(customer_id):
            code = _winback_code(customer_id, now)
            after = after.model_copy(update={"winback": WinBack(
                code=code.code, percent=code.value, ends_at=code.ends_at, offered_at=now,
                last_order_at=after.last_order_at)})
        if after.segment == stats.segment and code is None:
            return False, False
        crm.save(stats, after, winback=code)
        return after.segment != stats.segment, code is not None
    return retried(attempt, crm.StatsChanged, _busy)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def sweep(now: datetime | None = None) -> dict:
    """Move the customers whose last order just became AT_RISK_DAYS / LAPSED_DAYS old, for every day
    since the last run; returns {"moved", "offered"}. Safe to run twice or concurrently; the position
    moves only once every bucket was read."""
    now = now or clock.now()
    today = now.date()
    last = crm.sweep_position()
    first = max(date.fromisoformat(last) + timedelta(days=1) if last else today, today - LOOKBACK)
    moved = offered = 0
    for day in _days(first, today) if first <= today else []:
        for age in (AT_RISK_DAYS, LAPSED_DAYS):
            cursor = None
            while True:
                ids, cursor = crm.last_ordered_on((day - timedelta(days=age)).isoformat(), PAGE, cursor)
                for customer_id in ids:
                    did_move, did_offer = move_on(customer_id, now)
                    moved += did_move
                    offered += did_offer
                if not cursor:
                    break
    if first <= today:
        crm.save_sweep_position(today.isoformat())
    return {"moved": moved, "offered": offered}


def forget(customer_id: str) -> bool:
    """Take an erased customer out of the shop's view: their figures, index items and segment count
    (accounts' erasure calls this before it deletes the partition). False when there was nothing to
    forget; safe to repeat and to race with the relay (written on the version read)."""
    def attempt() -> bool:
        stats = crm.get(customer_id)
        if stats is None:
            return False
        crm.forget(stats)
        return True
    return retried(attempt, crm.StatsChanged, _busy)


# The shop's reads and notes ------------------------------------------------------------------------


def _stats(customer_id: str) -> CustomerStats:
    stats = crm.get(customer_id) if customer_id.startswith("cus_") and len(customer_id) <= 64 else None
    if stats is None:
        raise not_found("customer")
    return stats


def customer(customer_id: str) -> dict:
    """A customer with their latest paid orders (newest first). Raises ResourceMissing."""
    stats = _stats(customer_id)
    orders = [Order.from_record(r).model_dump(mode="json") for r in crm.paid_orders(customer_id, DETAIL_ORDERS)]
    credit = store_credit.balance(customer_id)
    return AdminCustomer.from_stats(stats, credit).model_dump(mode="json") | {"orders": orders}


def give_credit(customer_id: str, currency: str, amount: int, reason: str, source_id: str) -> dict:
    """The shop gives (or, negative, takes back) store credit; answers the customer. A customer is one
    with a paid order or an account. Idempotent by `source_id`. Raises ResourceMissing, InvalidRequest,
    StoreCreditInsufficient."""
    stats = crm.get(customer_id) if customer_id.startswith("cus_") and len(customer_id) <= 64 else None
    if stats is None:
        profile = accounts_repo.get_profile(customer_id) if customer_id.startswith("cus_") else None
        if profile is None:
            raise not_found("customer")
        stats = CustomerStats(id=customer_id, email=profile.email, created_at=profile.created_at or clock.now())
    store_credit.grant(customer_id, currency, amount, reason, source_id)
    orders = [Order.from_record(r).model_dump(mode="json") for r in crm.paid_orders(customer_id, DETAIL_ORDERS)]
    credit = store_credit.balance(customer_id)
    return AdminCustomer.from_stats(stats, credit).model_dump(mode="json") | {"orders": orders}


def annotate(customer_id: str, tags: list[str] | None, note: str | None) -> dict:
    """Set the shop's tags and note of a customer. Raises ResourceMissing."""
    if tags is not None:
        tags = list(dict.fromkeys(tags))
    stats = crm.annotate(customer_id, tags, note) if customer_id.startswith("cus_") else None
    if stats is None:
        raise not_found("customer")
    return customer(customer_id)


def find(email: str) -> list[AdminCustomer]:
    """The customer with this email (one GetItem: the id is derived from it), as a list."""
    stats = crm.get(customer_id_for(email))
    return [AdminCustomer.from_stats(stats, store_credit.balance(stats.id))] if stats else []


def list_customers(sort: str, segment: str | None, limit: int, cursor: str | None
                   ) -> tuple[list[AdminCustomer], str | None]:
    if segment:
        found, next_cursor = crm.list_segment(segment, limit, cursor)
    else:
        found, next_cursor = crm.list_customers(sort, limit, cursor)
    credit = store_credit.balances_of([s.id for s in found])
    return [AdminCustomer.from_stats(s, credit.get(s.id)) for s in found], next_cursor


def segment_counts() -> list[dict]:
    counts = crm.segment_counts()
    return [{"id": segment, "count": max(0, counts.get(segment, 0))}
            for segment in ("new", "repeat", "vip", "at_risk", "lapsed")]


CSV_FIELDS = ("id", "email", "segment", "orders_count", "lifetime_value", "first_order_at", "last_order_at",
              "tags", "note")


def segment_csv(segment: str) -> str:
    """Every customer of a segment as CSV (one row each; lifetime value as `EUR 12900;USD 500`)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    cursor = None
    while True:
        found, cursor = crm.list_segment(segment, 100, cursor)
        for stats in found:
            row = AdminCustomer.from_stats(stats).model_dump(mode="json")
            row["lifetime_value"] = ";".join(f"{c} {v}" for c, v in sorted(stats.lifetime_value.items()))
            row["tags"] = ";".join(stats.tags)
            writer.writerow([_cell(row.get(name)) for name in CSV_FIELDS])
        if not cursor:
            return out.getvalue()


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
