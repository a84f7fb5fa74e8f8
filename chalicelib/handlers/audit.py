"""The audit log of admin writes (chalicelib/audit.py writes it; the owner reads it here)."""

import csv
import io
import json
from datetime import date, timedelta
from typing import Annotated, Any

from chalice import Blueprint, Response
from pydantic import Field

from chalicelib.handlers.common import BlankIsAbsent, PageQuery, documented, page, parse_query, require_admin
from chalicelib.handlers.reports import Day, report_days
from chalicelib.models.base import Model
from chalicelib.responses import Page
from chalicelib.services import audit as audit_log

bp = Blueprint(__name__)
TAG = "audit"
CSV_FIELDS = ("id", "at", "actor", "action", "resource", "before", "after")
CSV_ROWS = 10_000


class AuditFilter(Model):
    """What the log and its CSV export filter on."""

    actor: Annotated[Annotated[str, Field(max_length=300, description="Exactly this actor: `staff:<email>` "
                                                                      "or `key:<name>`.")] | None,
                     BlankIsAbsent] = None
    resource: Annotated[Annotated[str, Field(max_length=300, description="Resources starting with this: "
                                                                         "`orders/ord_1`, `products`.")] | None,
                        BlankIsAbsent] = None
    from_: Annotated[Day | None, BlankIsAbsent] = Field(None, alias="from",
                                                        description="First UTC day; default: 29 days before `to`.")
    to: Annotated[Day | None, BlankIsAbsent] = Field(None, description="Last UTC day (inclusive); default: today. "
                                                                       "At most 366 days.")


class AuditQuery(AuditFilter, PageQuery):
    """A page of the filtered log."""


class AuditEntry(Model):
    id: str = Field(description="`aud_...`")
    actor: str = Field(description="Who: `staff:<email>` (a Cognito staff user) or `key:<name>` (an API key).")
    action: str = Field(description="The admin route called: `POST /admin/orders/{order_id}/refunds`.")
    resource: str = Field(description="The path under /admin/: `orders/ord_1/refunds`.")
    before: dict[str, Any] | None = Field(description="Per item written (its key), the changed fields before.")
    after: dict[str, Any] | None = Field(description="Per item written, the same fields after (null: deleted).")
    at: str


class AuditPage(Page[AuditEntry]):
    """A page of audit records, newest first."""


def _months(start: date, end: date) -> list[str]:
    months, day = [], end.replace(day=1)
    while day >= start.replace(day=1):
        months.append(f"{day:%Y-%m}")
        day = (day - timedelta(days=1)).replace(day=1)
    return months


def _cell(text: str) -> str:
    """A spreadsheet does not run a cell starting with = + - @ as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _records(query: AuditFilter, limit: int, cursor: str | None):
    start, end = report_days(query.from_, query.to)
    return audit_log.page(_months(start, end), f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}", query.actor,
                          query.resource, limit, cursor)


@bp.route("/admin/audit", methods=["GET"])
@documented(AuditPage, query=AuditQuery, summary="The audit log of admin writes (owner only)", tag=TAG)
def audit_entries():
    """Every admin write, newest first: who (`actor`), which route (`action`), on what (`resource`), when,
    and the fields it changed (`before`/`after`, per item written), filtered by actor, resource prefix
    and UTC days (default the last 30). Each record was written in the same transaction as its change."""
    request = bp.current_request
    require_admin(request)
    query = parse_query(AuditQuery, request)
    found, next_cursor = _records(query, query.limit, query.cursor)
    return page([AuditEntry.model_validate(entry) for entry in found], next_cursor)


@bp.route("/admin/audit.csv", methods=["GET"])
@documented({"type": "string", "description": "CSV with a header row: " + ", ".join(CSV_FIELDS)},
            query=AuditFilter, summary="The audit log as CSV (owner only)", tag=TAG, media_type="text/csv")
def audit_csv():
    """The records `GET /admin/audit` lists for the same filters, at most 10,000 rows (no paging: it takes no
    `limit` or `cursor`); before/after as JSON text."""
    request = bp.current_request
    require_admin(request)
    query = parse_query(AuditFilter, request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    cursor, rows = None, 0
    while rows < CSV_ROWS:
        found, cursor = _records(query, 100, cursor)
        for entry in found:
            writer.writerow([_cell(json.dumps(entry[f], sort_keys=True) if f in ("before", "after") else entry[f])
                             for f in CSV_FIELDS])
        rows += len(found)
        if not cursor:
            break
    return Response(out.getvalue(), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": 'attachment; filename="audit.csv"'})
