"""Admin reports."""

import re
from datetime import date, timedelta
from typing import Annotated

from chalice import Blueprint
from pydantic import BeforeValidator, Field

from chalicelib import clock, config
from chalicelib.errors import InvalidRequest
from chalicelib.handlers.common import documented, parse_query, require_admin
from chalicelib.models.base import Model
from chalicelib.responses import SalesReport
from chalicelib.services import reports

bp = Blueprint(__name__)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Days a report may cover: counters start with the epoch, and a range must leave room for its
# calendar months' arithmetic before date.max.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9999, 11, 30)


def _day(value):
    if isinstance(value, str) and not DATE.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_day)]


class SalesReportQuery(Model):
    from_: Day | None = Field(None, alias="from", description="First UTC day; default: 29 days before `to`.")
    to: Day | None = Field(None, description="Last UTC day (inclusive); default: today. At most 366 days.")
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="Default: DEFAULT_CURRENCY.")


def _within(day: date, param: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidRequest(f"{param} must be a day from {FIRST_DAY} to {LAST_DAY}.", param=param)
    return day


def report_days(from_: date | None, to: date | None) -> tuple[date, date]:
    """The UTC days from..to of a report (inclusive; default the last 30 days). Raises InvalidRequest
    naming the parameter: a day out of range, from after to, or more than MAX_DAYS days."""
    end = _within(to or clock.now().date(), "to")
    start = _within(from_ or max(end - timedelta(days=29), FIRST_DAY), "from")
    if start > end:
        raise InvalidRequest("from must not be after to.", param="from")
    if (end - start).days + 1 > reports.MAX_DAYS:
        raise InvalidRequest(f"A report covers at most {reports.MAX_DAYS} days.", param="to")
    return start, end


@bp.route("/admin/reports/sales", methods=["GET"])
@documented(SalesReport, query=SalesReportQuery, summary="Sales figures of a date range in one currency")
def sales_report():
    """`GET /admin/reports/sales?from=YYYY-MM-DD&to=YYYY-MM-DD&currency=EUR`: the figures of the UTC
    days from..to (inclusive, at most 366; default the last 30 days up to today) in one currency
    (default DEFAULT_CURRENCY): currencies are never added together, so a shop selling in several
    asks once per currency. Money in that currency's minor units:

        {currency, from, to, orders, revenue, average_order_value, units, carts_created,
         conversion_rate (orders / carts_created, null without carts), recovered_revenue,
         winback_revenue (orders using a win-back code), refunds,
         top_products: [{product_id, title, units, revenue}] (10, by revenue),
         by_day: [{date, orders, revenue, units, carts_created, recovered_revenue, winback_revenue,
                 refunds}]}
    """
    request = bp.current_request
    require_admin(request)
    query = parse_query(SalesReportQuery, request)
    settings = config.settings()
    currency = query.currency or settings.default_currency
    if currency not in settings.currencies:
        raise InvalidRequest(f"currency must be one of {', '.join(settings.currencies)}.", param="currency")
    return reports.sales(currency, *report_days(query.from_, query.to))
