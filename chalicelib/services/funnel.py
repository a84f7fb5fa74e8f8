"""The checkout funnel: carts created → checkouts (orders placed) → paid, per UTC day, from the
daily counters the stream relay keeps (chalicelib/counters.py). Counts, not money, so every
currency's counters are added up: one Query per currency and calendar month touched."""

from datetime import date, timedelta

from chalicelib import config
from chalicelib.repository import reports

STEPS = {"carts_created": "carts_created", "checkouts": "checkouts", "paid": "orders"}


def funnel(start: date, end: date) -> dict:
    per_day = {start + timedelta(days=n): dict.fromkeys(STEPS, 0) for n in range((end - start).days + 1)}
    for currency in config.settings().currencies:
        totals, _ = reports.read_days(currency, start, end)
        for day, figures in totals.items():
            for step, counter in STEPS.items():
                per_day[day][step] += figures.get(counter, 0)
    by_day = [{"date": day.isoformat()} | steps for day, steps in sorted(per_day.items())]
    summed = {step: sum(day[step] for day in by_day) for step in STEPS}
    carts = summed["carts_created"]
    return {"from": start.isoformat(), "to": end.isoformat(), **summed,
            "conversion_rate": round(summed["paid"] / carts, 4) if carts else None, "by_day": by_day}
