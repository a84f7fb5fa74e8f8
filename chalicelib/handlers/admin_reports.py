"""Admin reads the back office (admin/) shows and integrations use alike: the checkout funnel and
the stock levels of a list of SKUs."""

from typing import Annotated

from chalice import Blueprint
from pydantic import Field

from chalicelib.errors import InvalidRequest
from chalicelib.handlers.common import documented, parse_query, require_admin
from chalicelib.handlers.reports import Day, report_days
from chalicelib.models import StockLevel
from chalicelib.models.base import Model
from chalicelib.services import funnel, inventory

bp = Blueprint(__name__)
MAX_SKUS = 100


class FunnelQuery(Model):
    from_: Day | None = Field(None, alias="from", description="First UTC day; default: 29 days before `to`.")
    to: Day | None = Field(None, description="Last UTC day (inclusive); default: today. At most 366 days.")


class FunnelDay(Model):
    date: str
    carts_created: int
    checkouts: int
    paid: int


class Funnel(Model):
    """Carts created → checkouts (orders placed) → paid, all currencies together."""

    model_config = {"populate_by_name": True}

    from_: str = Field(alias="from")
    to: str
    carts_created: int
    checkouts: int
    paid: int
    conversion_rate: float | None = Field(description="paid / carts_created; null without carts.")
    by_day: list[FunnelDay]


class StockQuery(Model):
    skus: Annotated[str, Field(min_length=1, max_length=5000, pattern=r"^[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*$",
                               description=f"Comma-separated SKUs, at most {MAX_SKUS}.")]


class StockLevelPage(Model):
    data: list[StockLevel]


@bp.route("/admin/reports/funnel", methods=["GET"])
@documented(Funnel, query=FunnelQuery, summary="The checkout funnel of a date range", tag="reports")
def funnel_report():
    """`GET /admin/reports/funnel?from=YYYY-MM-DD&to=YYYY-MM-DD`: carts created, checkouts (orders
    placed) and paid orders of the UTC days from..to (inclusive, at most 366; default the last 30
    days), every currency together, with each day's figures. Counted by the stream relay as changes
    commit: a checkout counts on the day its order was placed, a paid order on the day it was paid."""
    request = bp.current_request
    require_admin(request)
    query = parse_query(FunnelQuery, request)
    figures = funnel.funnel(*report_days(query.from_, query.to))
    return Funnel.model_validate(figures).model_dump(mode="json", by_alias=True)


@bp.route("/admin/inventory", methods=["GET"])
@documented(StockLevelPage, query=StockQuery, summary="Stock levels of a list of SKUs", tag="admin")
def stock_levels():
    """`GET /admin/inventory?skus=TEE-S,TEE-M`: on hand, reserved, available and the low-stock
    threshold of each SKU that exists among those named (one BatchGetItem), in the order asked."""
    request = bp.current_request
    require_admin(request)
    skus = list(dict.fromkeys(parse_query(StockQuery, request).skus.split(",")))
    if len(skus) > MAX_SKUS:
        raise InvalidRequest(f"At most {MAX_SKUS} SKUs at a time.", param="skus")
    return {"data": [level.model_dump(mode="json") for level in inventory.stock_levels(skus)]}
