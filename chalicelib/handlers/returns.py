"""Returns (RMA) and exchanges: the customer asks to return lines of a shipped order (with its order token,
or signed in as its owner) and sees its returns; the shop lists them by status, approves or rejects,
records what arrived, and settles each return once (refund, store credit or exchange)."""

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import Field, StringConstraints

from chalicelib.errors import (
    Conflict,
    EmailNotVerified,
    InvalidRequest,
    OrderKeptChanging,
    OutOfStock,
    RefundExceedsPayment,
    ResourceMissing,
    ReturnExceedsShipment,
    ReturnWindowClosed,
    Unauthenticated,
    UnknownSku,
)
from chalicelib.handlers.common import (
    ORDER_TOKEN,
    PageQuery,
    admin_body,
    customer_order,
    documented,
    page,
    parse,
    parse_query,
    require_admin,
)
from chalicelib.models import MAX_QUANTITY, Quantity, Request, Sku
from chalicelib.models.returns import RefundMethod, Return, ReturnReason, ReturnStatus
from chalicelib.responses import ReturnList, ReturnPage
from chalicelib.services import exchanges, returns

bp = Blueprint(__name__)
ADMIN = "admin_returns"
CUSTOMER_ERRORS = [ResourceMissing, Unauthenticated, EmailNotVerified]
Lines = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
# A transaction holds at most 100 actions: receiving restocks each SKU with 2 (the stock and its ledger entry),
# an exchange reserves each SKU with 1 or more (shards); 40 lines keep every return transaction inside it.
MAX_LINES = 40


class ReturnLineIn(Request):
    sku: Sku
    quantity: Quantity
    reason: ReturnReason


class ReturnIn(Request):
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=MAX_LINES)]
    comment: Annotated[str, Field(max_length=1000)] | None = None


class DecisionIn(Request):
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = None


class ReceivedLineIn(Request):
    sku: Sku
    quantity: Lines = Field(description="Units that arrived (0: none).")
    restock: bool = Field(description="Back to stock (true) or written off (false).")


class ReceiveIn(Request):
    lines: Annotated[list[ReceivedLineIn], Field(min_length=1, max_length=MAX_LINES)]


class ExchangeLineIn(Request):
    sku: Sku
    quantity: Quantity


class SettleIn(Request):
    method: RefundMethod
    exchange_lines: Annotated[list[ExchangeLineIn], Field(min_length=1, max_length=MAX_LINES)] | None = Field(
        None, description="With `exchange` (required then): the SKUs of the exchange order.")


class ReturnsQuery(PageQuery):
    status: ReturnStatus = Field("requested", description="Returns in this state, oldest first.")


@bp.route("/orders/{order_id}/returns", methods=["POST"])
@documented(Return, status=201, request=ReturnIn, optional_headers=ORDER_TOKEN,
            summary="Ask to return lines of a shipped order",
            errors=[*CUSTOMER_ERRORS, InvalidRequest, ReturnWindowClosed, ReturnExceedsShipment, OrderKeptChanging])
def request_return(order_id):
    request = bp.current_request
    body = parse(ReturnIn, request)
    order = customer_order(request, order_id)
    found = returns.request(order.id, [(line.sku, line.quantity, line.reason) for line in body.lines], body.comment)
    return Response(found.model_dump(mode="json"), status_code=201)


@bp.route("/orders/{order_id}/returns", methods=["GET"])
@documented(ReturnList, errors=CUSTOMER_ERRORS, optional_headers=ORDER_TOKEN,
            summary="An order's returns, oldest first")
def order_returns(order_id):
    order = customer_order(bp.current_request, order_id)
    return {"data": [found.model_dump(mode="json") for found in returns.for_order(order.id)]}


@bp.route("/admin/returns", methods=["GET"])
@documented(ReturnPage, query=ReturnsQuery, summary="Returns by status, oldest first", tag=ADMIN)
def list_returns():
    request = bp.current_request
    require_admin(request)
    query = parse_query(ReturnsQuery, request)
    return page(*returns.list_by_status(query.status, query.limit, query.cursor))


@bp.route("/admin/returns/{return_id}/approve", methods=["POST"])
@documented(Return, request=DecisionIn, errors=[ResourceMissing, Conflict, OrderKeptChanging], tag=ADMIN,
            summary="Approve a return (numbered; instructions emailed; a return request to fulfilment)")
def approve_return(return_id):
    body = admin_body(DecisionIn, bp.current_request)
    return returns.approve(return_id, body.message).model_dump(mode="json")


@bp.route("/admin/returns/{return_id}/reject", methods=["POST"])
@documented(Return, request=DecisionIn, errors=[ResourceMissing, Conflict, OrderKeptChanging], tag=ADMIN,
            summary="Reject a return with a message (emailed)")
def reject_return(return_id):
    body = admin_body(DecisionIn, bp.current_request)
    return returns.reject(return_id, body.message).model_dump(mode="json")


@bp.route("/admin/returns/{return_id}/receive", methods=["POST"])
@documented(Return, request=ReceiveIn, tag=ADMIN, summary="Record the goods received: restock or write off per line",
            errors=[ResourceMissing, InvalidRequest, Conflict, ReturnExceedsShipment, OrderKeptChanging])
def receive_return(return_id):
    body = admin_body(ReceiveIn, bp.current_request)
    return returns.receive(return_id, [(line.sku, line.quantity, line.restock) for line in body.lines]).model_dump(
        mode="json")


@bp.route("/admin/returns/{return_id}/refund", methods=["POST"])
@documented(Return, request=SettleIn, tag=ADMIN,
            summary="Settle a return once: refund, store credit or an exchange order",
            errors=[ResourceMissing, InvalidRequest, UnknownSku, Conflict, OutOfStock, RefundExceedsPayment,
                    OrderKeptChanging])
def settle_return(return_id):
    body = admin_body(SettleIn, bp.current_request)
    if body.method == "exchange":
        if not body.exchange_lines:
            raise InvalidRequest("An exchange needs exchange_lines.", param="exchange_lines")
        settled = exchanges.exchange(return_id, [(line.sku, line.quantity) for line in body.exchange_lines])
    elif body.exchange_lines:
        raise InvalidRequest("exchange_lines go with the method exchange only.", param="exchange_lines")
    else:
        settled = returns.refund(return_id, body.method)
    return settled.model_dump(mode="json")
