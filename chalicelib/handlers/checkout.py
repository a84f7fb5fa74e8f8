"""Checkout route."""

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import StringConstraints

from chalicelib.handlers.common import parse
from chalicelib.models import Request
from chalicelib.services import checkout

bp = Blueprint(__name__)


class CheckoutIn(Request):
    payment_method: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,255}$")] | None = None


@bp.route("/carts/{cart_id}/checkout", methods=["POST"])
def checkout_cart(cart_id):
    body = parse(CheckoutIn, bp.current_request)
    result = checkout.complete(cart_id, body.payment_method)
    return Response(result.to_json(), status_code=201 if result.created else 200)
