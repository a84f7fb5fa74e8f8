"""Abandoned carts: one reminder per cart left idle, and the signed link that brings it back.

A cart with an email and at least one sellable line that nobody changed for ABANDONED_CART_MINUTES
(60) and that was not checked out gets one CartAbandoned email. `sweep` (a schedule, every 15
minutes) reads the idle index (repository/carts.py) from where it stopped last time up to
now − ABANDONED_CART_MINUTES, a few hour partitions, never a Scan. It marks each idle cart reminded
with a conditional write (so overlapping sweeps remind a cart once); the stream relay sees
`reminded_at` appear and queues the email, whose id is per cart (the email consumer sends it once).
The email links to `STOREFRONT_URL/cart.html?restore=<token>` (chalicelib/cart_links.py); `restore`
checks the token, marks the cart `recovered` and returns it. Checkout copies `recovered` to the
order, and the sales report counts such orders' revenue as recovered.
"""

from datetime import datetime, timedelta

from chalicelib import cart_links, clock, config
from chalicelib.models import Cart, SkuRecord
from chalicelib.repository import carts, catalog
from chalicelib.services import carts as cart_service

# How far back the first sweep looks (and the longest outage of the schedule it catches up on).
LOOKBACK = timedelta(hours=24)
PAGE = 100


def _hours(start: str, end: str) -> list[str]:
    """Every hour (`YYYY-MM-DDTHH`) from the one of `start` to the one of `end`, both ISO."""
    moment = datetime.fromisoformat(start[:13] + ":00:00+00:00")
    last = end[:13]
    hours = []
    while (hour := clock.iso(moment)[:13]) <= last:
        hours.append(hour)
        moment += timedelta(hours=1)
    return hours


def _reminder(item: dict, skus: dict[str, SkuRecord]) -> dict | None:
    """What the email shows: the lines that can still be bought, at today's prices; None if none."""
    lines = []
    for line in item.get("lines") or []:
        sku = skus.get(line["sku"])
        price = sku.price_in(item["currency"]) if sku is not None and sku.active else None
        if price is None:
            continue
        quantity = line["quantity"]
        lines.append({"sku": sku.sku, "product_id": sku.product_id, "title": sku.line_title, "quantity": quantity,
                      "unit_price": price, "line_total": price * quantity})
    return {"lines": lines, "subtotal": sum(line["line_total"] for line in lines)} if lines else None


def _remind(items: list[dict], now: datetime) -> int:
    candidates = [item for item in items
                  if item.get("status") == "open" and item.get("email") and item.get("lines")
                  and not item.get("reminded_at") and item.get("expires_at", 0) > now.timestamp()]
    skus = catalog.get_skus(list({line["sku"] for item in candidates for line in item["lines"]}))
    reminded = 0
    for item in candidates:
        reminder = _reminder(item, skus)
        if reminder and carts.mark_reminded(item["id"], item["version"], clock.iso(now), reminder):
            reminded += 1
    return reminded


def sweep() -> int:
    """Remind every cart idle since the last sweep's position and now − ABANDONED_CART_MINUTES;
    returns how many were reminded now. Safe to run twice or concurrently (each cart once), and to
    retry after a failure or a timeout: the position moves only when every hour was read, and the
    next run finds only the carts not reminded yet (a reminded cart leaves the index)."""
    now = clock.now()
    cutoff = now - timedelta(minutes=config.settings().abandoned_cart_minutes)
    end = clock.iso(cutoff)
    start = max(carts.sweep_position() or "", clock.iso(cutoff - LOOKBACK))
    if start >= end:
        return 0
    reminded = 0
    for hour in _hours(start, end):
        cursor = None
        while True:
            items, cursor = carts.list_idle(hour, start, end, PAGE, cursor)
            reminded += _remind(items, now)
            if not cursor:
                break
    carts.save_sweep_position(end)
    return reminded


def restore(token: str) -> Cart:
    """The cart a reminder link stands for, marked recovered if it is still open. Idempotent.
    Raises InvalidRequest (`invalid_token`: tampered or expired), ResourceMissing (the cart is gone)."""
    cart_id = cart_links.cart_of(token, clock.now())
    carts.mark_recovered(cart_id)
    return cart_service.get(cart_id)
