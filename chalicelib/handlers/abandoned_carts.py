"""Storefront route of the abandoned-cart reminder: its link restores the cart."""

from typing import Annotated

from chalice import Blueprint
from pydantic import StringConstraints

from chalicelib.cart_links import MAX_TOKEN_LENGTH
from chalicelib.errors import InvalidToken, ResourceMissing
from chalicelib.handlers.common import documented, parse
from chalicelib.models import Cart, Request
from chalicelib.services import abandoned_carts

bp = Blueprint(__name__)


class RestoreIn(Request):
    token: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TOKEN_LENGTH)]


@bp.route("/carts/restore", methods=["POST"])
@documented(Cart, request=RestoreIn, summary="Restore a cart from a reminder email's link",
            errors=[InvalidToken, ResourceMissing])
def restore_cart():
    body = parse(RestoreIn, bp.current_request)
    return abandoned_carts.restore(body.token).model_dump(mode="json")
