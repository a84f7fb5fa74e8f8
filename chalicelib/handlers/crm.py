"""The shop's customer view: customers (newest, by last order, by segment, by email), a customer's
detail with orders, tags and notes, segment counts and a segment's CSV export."""

from typing import Annotated, Literal

from chalice import Blueprint, Response
from pydantic import Field, StringConstraints, model_validator

from chalicelib import clock
from chalicelib.errors import InvalidRequest, ResourceMissing, StoreCreditInsufficient, not_found
from chalicelib.handlers.common import PageQuery, admin_body, documented, page, parse, parse_query, require_admin
from chalicelib.models import MAX_MONEY, Currency, Request
from chalicelib.models.crm import SEGMENTS, Segment, Tag
from chalicelib.responses import AdminCustomerDetail, AdminCustomerPage, SegmentCounts
from chalicelib.services import crm

bp = Blueprint(__name__)
TAG = "customers"


class CustomersQuery(PageQuery):
    sort: Literal["newest", "last_order"] | None = Field(
        None, description="`newest` (default; by first order) or `last_order` (latest first). A segment's "
                          "customers are always by last order.")
    email: Annotated[str, Field(min_length=3, max_length=254, description="Exact email (case-insensitive): "
                                                                          "the one customer, or none.")] | None = None
    segment: Segment | None = Field(None, description="Only the customers of this segment.")


class CustomerNotes(Request):
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def tags_or_note(self):
        if self.tags is None and self.note is None:
            raise ValueError("give tags or note")
        return self


@bp.route("/admin/customers", methods=["GET"])
@documented(AdminCustomerPage, query=CustomersQuery, summary="List customers", tag=TAG)
def list_customers():
    """Customers (everyone with a paid order, guests included: the id is derived from the email).
    `email` finds one customer exactly (the others are then ignored); `segment` lists its customers
    by last order (with `sort=newest` a 400). AdminCustomer also carries `created_at` (first paid order)."""
    request = bp.current_request
    require_admin(request)
    query = parse_query(CustomersQuery, request)
    if query.email is not None:
        return page(crm.find(query.email), None)
    if query.segment and query.sort == "newest":
        raise InvalidRequest("A segment's customers are listed by last order.", param="sort")
    found, next_cursor = crm.list_customers(query.sort or "newest", query.segment, query.limit, query.cursor)
    return page(found, next_cursor)


@bp.route("/admin/customers/{customer_id}", methods=["GET"])
@documented(AdminCustomerDetail, errors=[ResourceMissing], summary="Get a customer with their orders", tag=TAG)
def get_customer(customer_id):
    require_admin(bp.current_request)
    return crm.customer(customer_id)


@bp.route("/admin/customers/{customer_id}", methods=["PATCH"])
@documented(AdminCustomerDetail, request=CustomerNotes, errors=[ResourceMissing],
            summary="Set a customer's tags and internal note", tag=TAG)
def annotate_customer(customer_id):
    require_admin(bp.current_request)
    body = parse(CustomerNotes, bp.current_request)
    return crm.annotate(customer_id, body.tags, body.note)


class CreditChange(Request):
    currency: Currency
    amount: Annotated[int, Field(ge=-MAX_MONEY, le=MAX_MONEY, description="Minor units; negative takes credit back "
                                                                            "(never below 0: a 409).")]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


@bp.route("/admin/customers/{customer_id}/credit", methods=["POST"])
@documented(AdminCustomerDetail, request=CreditChange, errors=[ResourceMissing, StoreCreditInsufficient],
            summary="Give or take back a customer's store credit", tag=TAG)
def give_credit(customer_id):
    """Store credit in one currency, with a reason written to the customer's credit ledger. Sent again
    with the same `Idempotency-Key`, it answers the first answer and changes nothing."""
    body = admin_body(CreditChange, bp.current_request)
    return crm.give_credit(customer_id, body.currency, body.amount, body.reason, clock.new_id("cred"))


@bp.route("/admin/segments", methods=["GET"])
@documented(SegmentCounts, summary="Customers per segment", tag=TAG)
def segment_counts():
    require_admin(bp.current_request)
    return {"data": crm.segment_counts()}


@bp.route("/admin/segments/{segment_id}/customers.csv", methods=["GET"])
@documented({"type": "string", "description": "CSV with a header row: " + ", ".join(crm.CSV_FIELDS)},
            errors=[ResourceMissing], summary="A segment's customers as CSV", tag=TAG, media_type="text/csv")
def segment_csv(segment_id):
    require_admin(bp.current_request)
    if segment_id not in SEGMENTS:
        raise not_found("segment")
    return Response(crm.segment_csv(segment_id), status_code=200,
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{segment_id}-customers.csv"'})
