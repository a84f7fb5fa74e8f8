"""Counters the stream relay keeps from committed changes: daily sales figures per currency and
bought-together pairs. Pure rules, no I/O: which increments one change of an item stands for.
`repository/reports.apply` writes each `Tally` once (its `marker` is the change's stable id).

| change (old image → new image)                  | counts                                                     |
| ----------------------------------------------- | ---------------------------------------------------------- |
| order: status becomes `paid`                    | day (of `paid_at`): orders +1, revenue +total, units +Σ    |
|                                                 | quantities, recovered_revenue +total if `recovered`,       |
|                                                 | winback_revenue +total if its discount code is a win-back  |
|                                                 | code (`WB-...`, services/crm.py);                          |
|                                                 | paid_provider / paid_gift_card / paid_store_credit: the    |
|                                                 | revenue split by what paid it (order.tenders);             |
|                                                 | per product and day: units, revenue (Σ line totals);       |
|                                                 | per pair of distinct products: bought together +1          |
| order: `amount_refunded` grows                  | day (of the change): refunds +growth                       |
| cart: created (no old image)                    | day (of `created_at`): carts_created +1                     |
| order: placed (no old image)                    | day (of `created_at`): checkouts +1 (the funnel's middle)  |

Money is counted per currency and never added across currencies. Revenue is the order total
(shipping and tax included, discounts deducted); a product's revenue is its line totals. Refunds
count the money returned on any order of the currency, on the day it was returned.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from chalicelib.models import CartRecord, Record
from chalicelib.models.crm import WINBACK_PREFIX
from chalicelib.models.orders import OrderRecord

# Pairs grow with the square of an order's distinct products: learn from the first ones only.
MAX_PAIR_PRODUCTS = 20
DAY_FIELDS = ("orders", "revenue", "units", "carts_created", "recovered_revenue", "winback_revenue", "refunds",
              "paid_provider", "paid_gift_card", "paid_store_credit")
# Counted on the same day items but not part of the sales report (GET /admin/reports/funnel reads it).
FUNNEL_FIELDS = ("checkouts",)


@dataclass
class Tally:
    """Increments one change stands for, applied once under `marker`."""

    marker: str
    # (currency, day) -> {field: delta}; field one of DAY_FIELDS
    days: dict[tuple[str, date], dict[str, int]] = field(default_factory=dict)
    # (currency, day, product_id) -> {"units": delta, "revenue": delta}
    products: dict[tuple[str, date, str], dict[str, int]] = field(default_factory=dict)
    # (product_id, bought with product_id) -> delta
    pairs: dict[tuple[str, str], int] = field(default_factory=dict)


def day_of(moment: datetime | None, fallback: datetime) -> date:
    """The UTC day of a moment, else of `fallback`."""
    moment = moment or fallback
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def tallies(old: Record | None, new: Record | None, changed_at: datetime) -> list[Tally]:
    """The tallies of one committed change (its images as domain models, repository/stream.py);
    `changed_at` is when it was committed (the stream record's ApproximateCreationDateTime)."""
    if isinstance(new, OrderRecord):
        return order_tallies(old, new, changed_at)
    if isinstance(new, CartRecord) and not old:
        return [Tally(f"cart.{new.id}.created",
                      days={(new.currency, day_of(new.created_at, changed_at)): {"carts_created": 1}})]
    return []


def order_tallies(old: OrderRecord | None, new: OrderRecord, changed_at: datetime) -> list[Tally]:
    found = []
    currency, order_id = new.currency, new.id
    if old is None:
        found.append(Tally(f"order.{order_id}.placed",
                           days={(currency, day_of(new.created_at, changed_at)): {"checkouts": 1}}))
    if new.status == "paid" and (old is None or old.status != "paid"):
        day = day_of(new.paid_at, changed_at)
        figures = {"orders": 1, "revenue": new.total, "units": sum(line.quantity for line in new.lines)}
        # What paid it: the provider, gift cards, store credit (revenue = their sum).
        by_card = sum(t.amount for t in new.tenders if t.method == "gift_card")
        by_credit = sum(t.amount for t in new.tenders if t.method == "store_credit")
        figures |= {"paid_provider": new.total - by_card - by_credit, "paid_gift_card": by_card,
                    "paid_store_credit": by_credit}
        if new.recovered:
            figures["recovered_revenue"] = new.total
        if (new.discount_code or "").upper().startswith(WINBACK_PREFIX):
            figures["winback_revenue"] = new.total
        tally = Tally(f"order.{order_id}.paid", days={(currency, day): figures})
        for line in new.lines:
            counts = tally.products.setdefault((currency, day, line.product_id), {"units": 0, "revenue": 0})
            counts["units"] += line.quantity
            counts["revenue"] += line.line_total
        products = list(dict.fromkeys(line.product_id for line in new.lines))[:MAX_PAIR_PRODUCTS]
        tally.pairs = {(a, b): 1 for a in products for b in products if a != b}
        found.append(tally)
    refunded, was_refunded = new.amount_refunded, old.amount_refunded if old else 0
    if refunded > was_refunded:
        # amount_refunded only grows, so each value is reached by one change: a stable marker.
        found.append(Tally(f"order.{order_id}.refunded.{refunded}",
                           days={(currency, day_of(None, changed_at)): {"refunds": refunded - was_refunded}}))
    return found
