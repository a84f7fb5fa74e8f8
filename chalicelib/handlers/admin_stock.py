"""Stock adjustments with a reason, and the stock ledger of a SKU."""

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import Field, model_validator

from chalicelib.errors import Conflict, ResourceMissing
from chalicelib.handlers.common import documented, parse, parse_query, require_admin
from chalicelib.models import Request, Text
from chalicelib.models.base import Model
from chalicelib.services import stock_ledger

bp = Blueprint(__name__)
Stock = Annotated[int, Field(ge=0, le=10_000_000)]


class AdjustmentIn(Request):
    on_hand: Stock | None = Field(None, description="The counted stock (a stock count). Give this or `delta`.")
    delta: Annotated[int, Field(ge=-10_000_000, le=10_000_000)] | None = Field(
        None, description="Units received (+) or written off (-). Give this or `on_hand`.")
    reason: Text = Field(description="Why: kept in the ledger.")
    low_stock_threshold: Stock | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.on_hand is None) == (self.delta is None):
            raise ValueError("give exactly one of on_hand and delta")
        return self


class StockSnapshot(Model):
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int | None = None


class LedgerEntry(Model):
    id: str
    sku: str
    at: str
    reason: str
    actor: str = Field(description="Who: `staff:<email>` (a staff account), `admin_key:<first 8 hex of the key's "
                                   "SHA-256>` (the all-scope key) or `key:<name>` (a scoped API key).")
    before: StockSnapshot
    after: StockSnapshot


class LedgerPage(Model):
    data: list[LedgerEntry]
    next_cursor: str | None


class LedgerQuery(Model):
    limit: int = Field(20, ge=1, le=100, description="Items per page.")
    cursor: str | None = Field(None, max_length=1024, description="`next_cursor` of the previous page.")


@bp.route("/admin/inventory/{sku}/adjustments", methods=["POST"])
@documented(LedgerEntry, status=201, request=AdjustmentIn, summary="Adjust a SKU's stock with a reason",
            errors=[ResourceMissing, Conflict], tag="admin")
def adjust_stock(sku):
    """Count (`on_hand`) or move (`delta`: received +, written off -) a SKU's stock, with a reason,
    optionally setting its low-stock threshold. The change and its ledger entry (who, why, stock
    before and after) are one transaction. 409 `invalid_state` when on_hand would fall below what
    orders reserved; 400 naming `delta` when it would fall below 0."""
    request = bp.current_request
    principal = require_admin(request)
    body = parse(AdjustmentIn, request)
    entry = stock_ledger.adjust(sku, body.reason, principal.actor, on_hand=body.on_hand, delta=body.delta,
                                low_stock_threshold=body.low_stock_threshold)
    return Response(LedgerEntry.model_validate(entry).model_dump(mode="json"), status_code=201)


@bp.route("/admin/inventory/{sku}/ledger", methods=["GET"])
@documented(LedgerPage, query=LedgerQuery, errors=[ResourceMissing], summary="A SKU's stock ledger, newest first",
            tag="admin")
def stock_ledger_entries(sku):
    """Every adjustment of the SKU made through `POST /admin/inventory/{sku}/adjustments`, newest first."""
    request = bp.current_request
    require_admin(request)
    query = parse_query(LedgerQuery, request)
    data, next_cursor = stock_ledger.entries(sku, query.limit, query.cursor)
    return {"data": [LedgerEntry.model_validate(e).model_dump(mode="json") for e in data], "next_cursor": next_cursor}
