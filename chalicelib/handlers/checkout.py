"""Checkout route."""

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import Field, StringConstraints

from chalicelib import accounts, idempotency, observability
from chalicelib.errors import (
    DISCOUNT_REFUSALS,
    CartChanged,
    CommerceError,
    CreditLimitExceeded,
    DiscountUnknown,
    EmailNotVerified,
    InvoiceNotAllowed,
    InvoicesOverdue,
    OutOfStock,
    PaymentDeclined,
    ResourceMissing,
    Unauthenticated,
)
from chalicelib.handlers.common import documented, parse
from chalicelib.models import Request
from chalicelib.responses import Checkout, PurchaseRequestAnswer
from chalicelib.services import checkout

bp = Blueprint(__name__)


class CheckoutIn(Request):
    payment_method: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,255}$")] | None = None
    marketing_consent: bool | None = Field(None, description="The shopper's answer to the marketing email "
                                                             "question (recorded with its time, source "
                                                             "`checkout`); absent: not asked.")


@bp.route("/carts/{cart_id}/checkout", methods=["POST"])
@documented(Checkout, status=(201, 200), request=CheckoutIn, summary="Check the cart out",
            other={202: PurchaseRequestAnswer},
            errors=[ResourceMissing, Unauthenticated, EmailNotVerified, OutOfStock, CartChanged, PaymentDeclined,
                    DiscountUnknown, InvoiceNotAllowed, InvoicesOverdue, CreditLimitExceeded,
                    *DISCOUNT_REFUSALS.values()],
            links={"get_order": {"order_id": "$response.body#/order/id",
                                 "header.X-Order-Token": "$response.body#/order_token"},
                   **{target: {"order_id": "$response.body#/order/id"}
                      for target in ("admin_get_order", "create_shipment", "cancel_order", "refund_order")}})
def checkout_cart(cart_id):
    """One order per cart: 201 with the new order, 200 with the same order on a repeat. Needs lines, an email,
    a shipping address and method (a 400 names the missing `param`); reserves the stock (a 409 `out_of_stock`
    names the line, and then nothing is reserved). With a `payment_method` (Stripe's `pm_...`) the payment is
    confirmed at once. A signed-in customer (`Authorization: Bearer <Cognito token>`) is recorded on the order
    as its `customer_id`; a guest order gets the customer id of its email. A company buyer's cart above their
    spending limit answers 202 `{"purchase_request": ...}` instead: nothing is reserved until an approver
    approves it (`POST /company/purchase-requests/{id}/approve`). With `payment_method` `invoice` (a buyer of a
    company with payment terms) the cart's gift cards and store credit pay first, as with a card, and the
    invoice (and the credit-limit check) is for what is left, the order's `amount_due`; an order they cover
    whole is paid at once, without an invoice."""
    request = bp.current_request
    body = parse(CheckoutIn, request)
    customer_id = accounts.from_request(request).customer_id if accounts.bearer_present(request) else None
    try:
        result = checkout.complete(cart_id, body.payment_method, idempotency.key_of(request), customer_id,
                                   body.marketing_consent)
    except checkout.ApprovalNeeded as needed:  # B2B: above the buyer's spending limit
        return Response({"purchase_request": needed.request.model_dump(mode="json")}, status_code=202)
    except CommerceError as error:
        observability.metric("CheckoutFailed", reason=error.code)
        raise
    if result.replayed:  # the order as it is now, with the status its first answer had
        return Response(result.to_text(), status_code=201,
                        headers={"Content-Type": idempotency.JSON, idempotency.REPLAYED_HEADER: "true"})
    return Response(result.to_text(), status_code=201 if result.created else 200,
                    headers={"Content-Type": idempotency.JSON})
