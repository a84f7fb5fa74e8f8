"""Admin routes for discount codes."""

from chalice import Blueprint

from chalicelib.errors import ResourceExists, ResourceMissing
from chalicelib.handlers.common import (
    NoBody,
    PageQuery,
    admin_body,
    created,
    documented,
    page,
    parse_query,
    require_admin,
)
from chalicelib.models import DiscountTerms, Request
from chalicelib.responses import Discount, DiscountPage
from chalicelib.services import discounts

bp = Blueprint(__name__)


class DiscountIn(DiscountTerms, Request):
    pass  # the terms, as a request body: no unknown field


@bp.route("/admin/discounts", methods=["POST"])
@documented(Discount, status=201, request=DiscountIn, summary="Create a discount code", errors=[ResourceExists])
def create_discount():
    return created(discounts.create(admin_body(DiscountIn, bp.current_request)))


@bp.route("/admin/discounts", methods=["GET"])
@documented(DiscountPage, query=PageQuery, summary="List discount codes, newest first")
def list_discounts():
    require_admin(bp.current_request)
    query = parse_query(PageQuery, bp.current_request)
    records, next_cursor = discounts.list_discounts(query.limit, query.cursor)
    return page(records, next_cursor)



@bp.route("/admin/discounts/{code}/disable", methods=["POST"])
@documented(Discount, request=NoBody, errors=[ResourceMissing], summary="Disable a discount code (it ends now)")
def disable_discount(code):
    """The code ends now: carts and checkout refuse it as expired from then (`disabled_at` and `ends_at` set);
    disabling an ended code changes nothing. Its `times_used` stays."""
    admin_body(NoBody, bp.current_request)
    return discounts.disable(code).model_dump(mode="json")
