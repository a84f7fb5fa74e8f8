"""Admin reports."""

import re
from datetime import date, timedelta

from chalice import Blueprint
from pydantic import BaseModel, Field

from chalicelib import clock, config
from chalicelib.errors import InvalidRequest
from chalicelib.handlers.common import documented, require_admin
from chalicelib.responses import SalesReport
from chalicelib.services import reports

bp = Blueprint(__name__)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SalesReportQuery(BaseModel):
    from_: date | None = Field(None, alias="from", description="First UTC day; default: 29 days before `to`.")
    to: date | None = Field(None, description="Last UTC day (inclusive); default: today. At most 366 days.")
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="Default: DEFAULT_CURRENCY.")


def _date(params: dict, name: str, default: date) -> date:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        if not DATE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be a date as YYYY-MM-DD.", param=name) from None


@bp.route("/admin/reports/sales", methods=["GET"])
@documented(SalesReport, query=SalesReportQuery, summary="Sales figures of a date range in one currency")
def sales_report():
    """`GET /admin/reports/sales?from=YYYY-MM-DD&to=YYYY-MM-DD&currency=EUR`: the figures of the UTC
    days from..to (inclusive, at most 366; default the last 30 days up to today) in one currency
    (default DEFAULT_CURRENCY): currencies are never added together, so a shop selling in several
    asks once per currency. Money in that currency's minor units:

        {currency, from, to, orders, revenue, average_order_value, units, carts_created,
         conversion_rate (orders / carts_created, null without carts), recovered_revenue, refunds,
         top_products: [{product_id, title, units, revenue}] (10, by revenue),
         by_day: [{date, orders, revenue, units, carts_created, recovered_revenue, refunds}]}
    """
    request = bp.current_request
    require_admin(request)
    params = request.query_params or {}
    settings = config.settings()
    currency = params.get("currency") or settings.default_currency
    if currency not in settings.currencies:
        raise InvalidRequest(f"currency must be one of {', '.join(settings.currencies)}.", param="currency")
    end = _date(params, "to", clock.now().date())
    start = _date(params, "from", end - timedelta(days=29))
    if start > end:
        raise InvalidRequest("from must not be after to.", param="from")
    if (end - start).days + 1 > reports.MAX_DAYS:
        raise InvalidRequest(f"A report covers at most {reports.MAX_DAYS} days.", param="to")
    return reports.sales(currency, start, end)
