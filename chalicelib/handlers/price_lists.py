"""Admin routes for B2B price lists (chalicelib/services/price_lists.py): per currency, assigned to companies,
per-SKU volume tiers, minimum quantity and step; replaced whole by PUT or by a CSV import."""

from typing import Annotated

from chalice import Blueprint
from pydantic import Field

from chalicelib.errors import ResourceExists, ResourceMissing
from chalicelib.handlers.common import PageQuery, admin_body, created, documented, page, parse_query, require_admin
from chalicelib.models import Request
from chalicelib.models.companies import PriceList, PriceListIn
from chalicelib.responses import PriceListPage
from chalicelib.services import price_lists

bp = Blueprint(__name__)
COLUMNS = ", ".join(f"`{c}`" for c in price_lists.CSV_COLUMNS)


class PriceListImportIn(Request):
    csv: Annotated[str, Field(min_length=1, max_length=60_000,
                              description=f"The CSV text (UTF-8): a header row of {COLUMNS} (the last two "
                                          "optional), then one row per tier; prices in minor units.")]


@bp.route("/admin/price-lists", methods=["POST"])
@documented(PriceList, status=201, request=PriceListIn, errors=[ResourceExists],
            summary="Create a price list (per currency; tiers per SKU; assigned to companies)")
def create_price_list():
    """Each SKU's `tiers` start at min_quantity 1 (its list price) and rise; `min_quantity` and `step` are the
    quantities a buyer may order (a cart line breaking them is a 400 naming `lines.N.quantity`). A company
    has at most one price list per currency (another one is a 409 naming `companies.N`)."""
    return created(price_lists.create(admin_body(PriceListIn, bp.current_request)))


@bp.route("/admin/price-lists", methods=["GET"])
@documented(PriceListPage, query=PageQuery, summary="List price lists, newest first")
def list_price_lists():
    require_admin(bp.current_request)
    query = parse_query(PageQuery, bp.current_request)
    return page(*price_lists.list_price_lists(query.limit, query.cursor))


@bp.route("/admin/price-lists/{price_list_id}", methods=["GET"])
@documented(PriceList, errors=[ResourceMissing], summary="A price list")
def get_price_list(price_list_id):
    require_admin(bp.current_request)
    return price_lists.get(price_list_id).model_dump(mode="json")


@bp.route("/admin/price-lists/{price_list_id}", methods=["PUT"])
@documented(PriceList, request=PriceListIn, errors=[ResourceMissing, ResourceExists],
            summary="Replace a price list (companies left out lose it)")
def replace_price_list(price_list_id):
    body = admin_body(PriceListIn, bp.current_request)
    return price_lists.replace(price_list_id, body).model_dump(mode="json")


@bp.route("/admin/price-lists/{price_list_id}/import", methods=["POST"])
@documented(PriceList, request=PriceListImportIn, errors=[ResourceMissing],
            summary="Replace a price list's prices from CSV")
def import_price_list(price_list_id):
    """One row per tier: `sku,min_quantity,price[,sku_min_quantity,step]` (e.g. `BOLT-M8,10,1100`). A bad row is
    a 400 naming `rows.<n>.<column>` (rows counted from 1 after the header) and nothing changes. Importing the
    same file again gives the same prices."""
    require_admin(bp.current_request)
    body = admin_body(PriceListImportIn, bp.current_request)
    return price_lists.import_csv(price_list_id, body.csv).model_dump(mode="json")
