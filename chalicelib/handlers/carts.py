"""Storefront cart routes."""

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import Field

from chalicelib.handlers.common import parse
from chalicelib.models import Address, Currency, Email, Quantity, Request, Sku
from chalicelib.services import carts

bp = Blueprint(__name__)


class CreateCart(Request):
    currency: Currency | None = None
    email: Email | None = None


class AddLine(Request):
    sku: Sku
    quantity: Quantity


class SetQuantity(Request):
    quantity: Annotated[int, Field(ge=0, le=999)]


class UpdateCart(Request):
    email: Email | None = None
    shipping_address: Address | None = None
    shipping_method: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    discount_code: Annotated[str, Field(min_length=1, max_length=64)] | None = None


@bp.route("/carts", methods=["POST"])
def create_cart():
    body = parse(CreateCart, bp.current_request)
    return Response(carts.create(body.currency, body.email).model_dump(mode="json"), status_code=201)


@bp.route("/carts/{cart_id}", methods=["GET"])
def get_cart(cart_id):
    return carts.get(cart_id).model_dump(mode="json")


@bp.route("/carts/{cart_id}", methods=["PATCH"])
def update_cart(cart_id):
    body = parse(UpdateCart, bp.current_request)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if "shipping_address" in changes and changes["shipping_address"] is not None:
        changes["shipping_address"] = changes["shipping_address"].model_dump()
    return carts.update(cart_id, **changes).model_dump(mode="json")


@bp.route("/carts/{cart_id}/lines", methods=["POST"])
def add_line(cart_id):
    body = parse(AddLine, bp.current_request)
    return carts.add_line(cart_id, body.sku, body.quantity).model_dump(mode="json")


@bp.route("/carts/{cart_id}/lines/{sku}", methods=["PATCH"])
def set_quantity(cart_id, sku):
    body = parse(SetQuantity, bp.current_request)
    return carts.set_quantity(cart_id, sku, body.quantity).model_dump(mode="json")


@bp.route("/carts/{cart_id}/lines/{sku}", methods=["DELETE"])
def remove_line(cart_id, sku):
    return carts.remove_line(cart_id, sku).model_dump(mode="json")
