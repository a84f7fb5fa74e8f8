"""Orders: the customer's order page, and the shop's admin routes (list, read, ship, cancel, refund)."""

from typing import Annotated

from chalice import Blueprint
from pydantic import Field, StringConstraints

from chalicelib.errors import (
    Conflict,
    EmailNotVerified,
    OrderKeptChanging,
    OverShipment,
    RefundExceedsPayment,
    ResourceMissing,
    Unauthenticated,
    UpstreamUnavailable,
)
from chalicelib.handlers.common import (
    ORDER_TOKEN,
    BlankIsAbsent,
    PageQuery,
    admin_body,
    created,
    customer_order,
    documented,
    page,
    parse,
    parse_query,
    require_admin,
    within_refund_limit,
)
from chalicelib.models import MAX_MONEY, Quantity, Request, Sku, Text
from chalicelib.models.base import Model
from chalicelib.models.orders import Order, OrderStatus, ShipmentLine
from chalicelib.responses import OrderPage, OrderPayment
from chalicelib.services import emails, order_payments, orders

bp = Blueprint(__name__)
ADMIN = "admin_orders"  # the OpenAPI tag of the shop's order routes


@bp.route("/orders/{order_id}", methods=["GET"])
@documented(Order, errors=[ResourceMissing, Unauthenticated, EmailNotVerified],
            summary="Get an order (the customer's order page)",
            optional_headers=ORDER_TOKEN)
def get_order(order_id):
    return customer_order(bp.current_request, order_id).model_dump(mode="json")


@bp.route("/orders/{order_id}/payment", methods=["GET"])
@documented(OrderPayment, errors=[ResourceMissing, Unauthenticated, EmailNotVerified, Conflict, UpstreamUnavailable],
            summary="Pay an order that waits for its payment (e.g. the difference of a dearer exchange)",
            optional_headers={"X-Order-Token": "The order's token (the checkout answer's `order_token`, or the link "
                                               "in the exchange email); without the right one the order is a 404. "
                                               "A signed-in owner may send `Authorization: Bearer <Cognito token>` "
                                               "instead."})
def get_order_payment(order_id):
    """While the order is `pending_payment`: its PaymentIntent's client secret and live status and the amount due,
    for Stripe.js to confirm in the browser as after checkout; the provider's webhook then marks the order paid. An
    order paid, cancelled or in review, or whose payment was cancelled, is a 409 `invalid_state`; another
    customer's order a 404."""
    return order_payments.pending(customer_order(bp.current_request, order_id))


Reason = Annotated[str, Field(max_length=500)]


class OrdersQuery(PageQuery):
    status: Annotated[OrderStatus | None, BlankIsAbsent] = Field(
        None, description="Only orders in this state.")


class ShipmentLineIn(Request):
    sku: Sku
    quantity: Quantity


class ShipmentIn(Request):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    tracking_number: Text
    lines: Annotated[list[ShipmentLineIn], Field(min_length=1, max_length=100)] | None = None


class CancelIn(Request):
    reason: Reason | None = None


class RefundIn(Request):
    amount: Annotated[int, Field(ge=1, le=MAX_MONEY)]
    reason: Reason | None = None


@bp.route("/admin/orders", methods=["GET"])
@documented(OrderPage, query=OrdersQuery, summary="List orders, newest first", tag=ADMIN)
def list_orders():
    request = bp.current_request
    require_admin(request)
    query = parse_query(OrdersQuery, request)
    return page(*orders.list_recent(query.status, query.limit, query.cursor))


@bp.route("/admin/orders/{order_id}", methods=["GET"])
@documented(Order, errors=[ResourceMissing], summary="Get an order", tag=ADMIN)
def admin_get_order(order_id):
    require_admin(bp.current_request)
    return orders.get(order_id).model_dump(mode="json")


class SentEmail(Model):
    event_id: str
    type: str = Field(description="The event the email told of: OrderPaid, ShipmentCreated, RefundCreated...")
    subject: str
    to: str
    sent_at: str


class SentEmails(Model):
    data: list[SentEmail]


@bp.route("/admin/orders/{order_id}/emails", methods=["GET"])
@documented(SentEmails, errors=[ResourceMissing], summary="The emails sent about an order, oldest first", tag=ADMIN)
def order_emails(order_id):
    """For the order's timeline: each email sent about it (confirmation, shipment, refund, cancellation,
    replies), as long as its delivery record is kept (30 days)."""
    require_admin(bp.current_request)
    orders.get(order_id)  # 404 for an unknown order
    return {"data": emails.sent_about(order_id)}


@bp.route("/admin/orders/{order_id}/shipments", methods=["POST"])
@documented(Order, status=201, request=ShipmentIn, summary="Record a shipment (all unshipped lines if no lines)",
            errors=[ResourceMissing, Conflict, OverShipment, OrderKeptChanging], tag=ADMIN)
def create_shipment(order_id):
    body = admin_body(ShipmentIn, bp.current_request)
    lines = [ShipmentLine(sku=line.sku, quantity=line.quantity) for line in body.lines] if body.lines else None
    return created(orders.ship(order_id, body.carrier, body.tracking_number, lines))


@bp.route("/admin/orders/{order_id}/cancel", methods=["POST"])
@documented(Order, request=CancelIn, summary="Cancel an order (stock released; a paid order refunded in full)",
            errors=[ResourceMissing, Conflict, OrderKeptChanging], tag=ADMIN)
def cancel_order(order_id):
    body = admin_body(CancelIn, bp.current_request)
    return orders.cancel(order_id, body.reason).model_dump(mode="json")


@bp.route("/admin/orders/{order_id}/refunds", methods=["POST"])
@documented(Order, status=201, request=RefundIn, summary="Refund part of a paid order",
            errors=[ResourceMissing, Conflict, RefundExceedsPayment, OrderKeptChanging], tag=ADMIN)
def refund_order(order_id):
    principal = require_admin(bp.current_request)
    body = parse(RefundIn, bp.current_request)
    within_refund_limit(principal, body.amount, order_id)
    return created(orders.refund(order_id, body.amount, body.reason))
