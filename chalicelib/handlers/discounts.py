"""Admin routes for discount codes."""

from datetime import UTC
from typing import Annotated

from chalice import Blueprint, Response
from pydantic import AwareDatetime, Field, StringConstraints

from chalicelib.errors import InvalidRequest
from chalicelib.handlers.common import PageQuery, documented, page_params, parse, require_admin
from chalicelib.models import MAX_MONEY, Currency, DiscountKind, DiscountRecord, Money, Request
from chalicelib.models.crm import WINBACK_PREFIX
from chalicelib.responses import Discount, DiscountPage
from chalicelib.services import discounts

bp = Blueprint(__name__)
Limit = Annotated[int, Field(ge=1, le=10_000_000)]


class DiscountIn(Request):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,32}$")]
    kind: DiscountKind
    value: Annotated[int, Field(ge=0, le=MAX_MONEY)] = 0
    currency: Currency | None = None
    min_subtotal: Money | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    usage_limit: Limit | None = None
    per_customer_limit: Limit | None = None


def _view(record: DiscountRecord) -> dict:
    return record.model_dump(mode="json")


@bp.route("/admin/discounts", methods=["POST"])
@documented(Discount, status=201, request=DiscountIn, summary="Create a discount code", errors=["resource_exists"])
def create_discount():
    require_admin(bp.current_request)
    body = parse(DiscountIn, bp.current_request)
    if body.code.upper().startswith(WINBACK_PREFIX):
        # The win-back sweep's personal codes: an order using one is counted as win-back revenue.
        raise InvalidRequest(f"Codes starting with {WINBACK_PREFIX} are reserved for win-back offers.", param="code")
    terms = body.model_dump()
    for name in ("starts_at", "ends_at"):
        if terms[name] is not None:
            terms[name] = terms[name].astimezone(UTC)
    return Response(_view(discounts.create(**terms)), status_code=201)


@bp.route("/admin/discounts", methods=["GET"])
@documented(DiscountPage, query=PageQuery, summary="List discount codes, newest first")
def list_discounts():
    require_admin(bp.current_request)
    limit, cursor = page_params(bp.current_request)
    records, next_cursor = discounts.list_discounts(limit, cursor)
    return {"data": [_view(r) for r in records], "next_cursor": next_cursor}



