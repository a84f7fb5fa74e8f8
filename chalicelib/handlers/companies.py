"""B2B companies: the shop's admin routes (companies, their buyers) and the buyer's own (`/company`, with a
Cognito token like `/me`). A buyer only ever sees the company of their own membership: another company's
data is the same 404 as none at all."""

from chalice import Blueprint

from chalicelib import accounts
from chalicelib.errors import (
    CartChanged,
    Conflict,
    EmailNotVerified,
    Forbidden,
    OutOfStock,
    ResourceExists,
    ResourceMissing,
    Unauthenticated,
)
from chalicelib.handlers.common import (
    PageQuery,
    admin_body,
    created,
    documented,
    page,
    parse,
    parse_query,
    require_admin,
)
from chalicelib.models.companies import (
    Buyer,
    BuyerIn,
    Company,
    CompanyChange,
    CompanyIn,
    CompanyView,
    Decision,
    PurchaseRequest,
)
from chalicelib.responses import CompanyPage, OrderPage, PurchaseRequestPage
from chalicelib.services import companies, purchase_requests

bp = Blueprint(__name__)
SIGNED_IN = [Unauthenticated, EmailNotVerified]


@bp.route("/admin/companies", methods=["POST"])
@documented(Company, status=201, request=CompanyIn, summary="Create a company (a B2B customer)")
def create_company():
    """The VAT id is checked for format (an EU id: its country's format, by its prefix; Greece is EL)."""
    return created(companies.create(admin_body(CompanyIn, bp.current_request)))


@bp.route("/admin/companies", methods=["GET"])
@documented(CompanyPage, query=PageQuery, summary="List companies, newest first")
def list_companies():
    require_admin(bp.current_request)
    query = parse_query(PageQuery, bp.current_request)
    return page(*companies.list_companies(query.limit, query.cursor))


@bp.route("/admin/companies/{company_id}", methods=["GET"])
@documented(CompanyView, errors=[ResourceMissing], summary="A company with its buyers")
def get_company(company_id):
    require_admin(bp.current_request)
    return companies.admin_view(company_id).model_dump(mode="json")


@bp.route("/admin/companies/{company_id}", methods=["PATCH"])
@documented(Company, request=CompanyChange, errors=[ResourceMissing], summary="Change a company")
def change_company(company_id):
    body = admin_body(CompanyChange, bp.current_request)
    return companies.change(company_id, body).model_dump(mode="json")


@bp.route("/admin/companies/{company_id}/buyers", methods=["POST"])
@documented(Buyer, status=201, request=BuyerIn, errors=[ResourceMissing, ResourceExists],
            summary="Add a buyer or approver (the account with that email) to a company")
def add_buyer(company_id):
    """The buyer signs in with a Cognito account of that (verified) email. Adding them again changes their
    role and spending limit; a buyer of another company is a 409."""
    return created(companies.add_buyer(company_id, admin_body(BuyerIn, bp.current_request)))


def _customer_id() -> str:
    return accounts.from_request(bp.current_request).customer_id


@bp.route("/company", methods=["GET"])
@documented(CompanyView, errors=[*SIGNED_IN, ResourceMissing], summary="The signed-in buyer's company")
def get_my_company():
    return companies.view(_customer_id()).model_dump(mode="json")


@bp.route("/company/orders", methods=["GET"])
@documented(OrderPage, query=PageQuery, errors=[*SIGNED_IN, ResourceMissing],
            summary="The company's orders (by any of its buyers), newest first")
def list_company_orders():
    customer_id = _customer_id()
    query = parse_query(PageQuery, bp.current_request)
    return page(*companies.order_page(customer_id, query.limit, query.cursor))


@bp.route("/company/purchase-requests", methods=["GET"])
@documented(PurchaseRequestPage, query=PageQuery, errors=[*SIGNED_IN, ResourceMissing],
            summary="The company's purchase requests (checkouts above a buyer's spending limit), newest first")
def list_purchase_requests():
    customer_id = _customer_id()
    query = parse_query(PageQuery, bp.current_request)
    return page(*purchase_requests.list_requests(customer_id, query.limit, query.cursor))


@bp.route("/company/purchase-requests/{request_id}/approve", methods=["POST"])
@documented(PurchaseRequest, request=Decision,
            errors=[*SIGNED_IN, ResourceMissing, Forbidden, Conflict, CartChanged, OutOfStock],
            summary="Approve a purchase request: the buyer's cart is checked out now (approvers only)")
def approve_purchase_request(request_id):
    """The order is placed as the buyer's checkout would have (stock reserved now; `order_id` in the answer)
    and the buyer is emailed. Two approvals at once place one order. Out of stock: 409, the request stays
    pending."""
    customer_id = _customer_id()
    body = parse(Decision, bp.current_request)
    return purchase_requests.approve(customer_id, request_id, body.message).model_dump(mode="json")


@bp.route("/company/purchase-requests/{request_id}/reject", methods=["POST"])
@documented(PurchaseRequest, request=Decision, errors=[*SIGNED_IN, ResourceMissing, Forbidden, Conflict],
            summary="Reject a purchase request with a message (approvers only); the buyer is emailed")
def reject_purchase_request(request_id):
    customer_id = _customer_id()
    body = parse(Decision, bp.current_request)
    return purchase_requests.reject(customer_id, request_id, body.message).model_dump(mode="json")
