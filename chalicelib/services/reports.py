"""The sales report: figures of a date range in one currency, summed from the daily counters the
stream relay keeps (chalicelib/counters.py, repository/reports.py). Its reads grow with the days
asked for and the products sold on them, never with the table: a 30-day report is one or two
Queries (one per calendar month) and one BatchGetItem for the top products' titles.
"""

from datetime import date, timedelta

from chalicelib.counters import DAY_FIELDS
from chalicelib.models import round_half_up
from chalicelib.repository import recommendations, reports

MAX_DAYS = 366
TOP_PRODUCTS = 10


def sales(currency: str, start: date, end: date) -> dict:
    """The report of `start`..`end` (inclusive, UTC days) in `currency`: totals, top products (by
    revenue) and every day's figures, zeros included. Money in minor units of `currency`."""
    totals, product_days = reports.read_days(currency, start, end)
    by_day = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        figures = totals.get(day, {})
        by_day.append({"date": day.isoformat()} | {name: figures.get(name, 0) for name in DAY_FIELDS})
    summed = {name: sum(day[name] for day in by_day) for name in DAY_FIELDS}
    products: dict[str, dict] = {}
    for _, product_id, figures in product_days:
        product = products.setdefault(product_id, {"product_id": product_id, "units": 0, "revenue": 0})
        product["units"] += figures.get("units", 0)
        product["revenue"] += figures.get("revenue", 0)
    top = sorted(products.values(), key=lambda p: (-p["revenue"], -p["units"], p["product_id"]))[:TOP_PRODUCTS]
    titles = {pid: record.title for pid, record in recommendations.get_products([p["product_id"] for p in top]).items()}
    orders, carts = summed["orders"], summed["carts_created"]
    return {
        "currency": currency, "from": start.isoformat(), "to": end.isoformat(),
        **{name: summed[name] for name in ("orders", "revenue")},
        "average_order_value": round_half_up(summed["revenue"], orders) if orders else 0,
        "units": summed["units"], "carts_created": carts,
        "conversion_rate": round(orders / carts, 4) if carts else None,
        "recovered_revenue": summed["recovered_revenue"], "winback_revenue": summed["winback_revenue"],
        "refunds": summed["refunds"],
        "amount_paid": {"provider": summed["paid_provider"], "gift_card": summed["paid_gift_card"],
                        "store_credit": summed["paid_store_credit"]},
        "top_products": [{"product_id": p["product_id"], "title": titles.get(p["product_id"]), "units": p["units"],
                          "revenue": p["revenue"]} for p in top],
        "by_day": by_day,
    }
