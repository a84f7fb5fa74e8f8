"""Checkout route."""

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import StringConstraints

from chalicelib import observability
from chalicelib.errors import (
    DISCOUNT_REFUSALS,
    CartChanged,
    CommerceError,
    DiscountUnknown,
    OutOfStock,
    PaymentDeclined,
    ResourceMissing,
)
from chalicelib.handlers.common import documented, parse
from chalicelib.models import Request
from chalicelib.responses import Checkout
from chalicelib.services import checkout

bp = Blueprint(__name__)


class CheckoutIn(Request):
    payment_method: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,255}$")] | None = None


@bp.route("/carts/{cart_id}/checkout", methods=["POST"])
@documented(Checkout, status=(201, 200), request=CheckoutIn, summary="Check the cart out",
            errors=[ResourceMissing, OutOfStock, CartChanged, PaymentDeclined, DiscountUnknown,
                    *DISCOUNT_REFUSALS.values()],
            links={"get_order": {"order_id": "$response.body#/order/id",
                                 "header.X-Order-Token": "$response.body#/order_token"},
                   **{target: {"order_id": "$response.body#/order/id"}
                      for target in ("admin_get_order", "create_shipment", "cancel_order", "refund_order")}})
def checkout_cart(cart_id):
    """One order per cart: 201 with the new order, 200 with the same order on a repeat. Needs lines, an email,
    a shipping address and method (a 400 names the missing `param`); reserves the stock (a 409 `out_of_stock`
    names the line, and then nothing is reserved). With a `payment_method` (Stripe's `pm_...`) the payment is
    confirmed at once."""
    body = parse(CheckoutIn, bp.current_request)
    try:
        result = checkout.complete(cart_id, body.payment_method)
    except CommerceError as error:
        observability.metric("CheckoutFailed", reason=error.code)
        raise
    return Response(result.to_json(), status_code=201 if result.created else 200)
