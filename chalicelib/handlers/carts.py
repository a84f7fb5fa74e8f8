"""Storefront cart routes."""

from typing import Annotated

from chalice import Blueprint
from pydantic import Field

from chalicelib import accounts, idempotency
from chalicelib.errors import (
    DISCOUNT_REFUSALS,
    CartChanged,
    CartCheckedOut,
    CurrencyMismatch,
    DiscountUnknown,
    Forbidden,
    OutOfStock,
    ResourceMissing,
    TooManyLines,
    Unauthenticated,
    UnknownShippingMethod,
    UnknownSku,
)
from chalicelib.handlers.common import documented, parse
from chalicelib.models import Address, Cart, Currency, Email, GiftCardLine, Quantity, Request, Sku
from chalicelib.services import cart_tenders, carts

bp = Blueprint(__name__)


class CreateCart(Request):
    currency: Currency | None = None
    email: Email | None = None


class AddLine(Request):
    sku: Sku
    quantity: Quantity
    gift_card: GiftCardLine | None = Field(None, description="Required for a gift-card SKU: its recipient.")


class SetQuantity(Request):
    quantity: Annotated[int, Field(ge=0, le=999)]


class UpdateCart(Request):
    email: Email | None = None
    shipping_address: Address | None = None
    shipping_method: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    discount_code: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    use_store_credit: bool | None = Field(None, description="Spend the signed-in holder's store credit on this "
                                                             "cart (needs their bearer token).")


# What every change of a cart can raise.
CHANGING = (ResourceMissing, CartCheckedOut, CartChanged)
CART = {"cart_id": "$response.body#/id"}
LINE = {"cart_id": "$response.body#/id", "sku": "$response.body#/lines/0/sku"}


@bp.route("/carts", methods=["POST"])
@documented(Cart, status=201, request=CreateCart, summary="Create a cart",
            links={"get_cart": CART, "add_line": CART, "update_cart": CART})
def create_cart():
    request = bp.current_request
    body = parse(CreateCart, request)
    return idempotency.answer(carts.create(body.currency, body.email, idempotency.key_of(request)), 201)


@bp.route("/carts/{cart_id}", methods=["GET"])
@documented(Cart, errors=[ResourceMissing], summary="Get a cart, priced now")
def get_cart(cart_id):
    return idempotency.answer(carts.get(cart_id))


@bp.route("/carts/{cart_id}", methods=["PATCH"])
@documented(Cart, request=UpdateCart, summary="Set the email, address, shipping method or discount code",
            errors=[*CHANGING, UnknownShippingMethod, DiscountUnknown, *DISCOUNT_REFUSALS.values(), Unauthenticated,
                    Forbidden],
            links={"add_line": CART, "checkout_cart": CART})
def update_cart(cart_id):
    request = bp.current_request
    body = parse(UpdateCart, request)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    use_credit = changes.pop("use_store_credit", None)
    if use_credit is not None:
        customer_id = accounts.from_request(request).customer_id
        answer = cart_tenders.use_store_credit(cart_id, use_credit, customer_id)
        if not changes:
            return answer.model_dump(mode="json")
    if "shipping_address" in changes and changes["shipping_address"] is not None:
        changes["shipping_address"] = changes["shipping_address"].model_dump()
    return idempotency.answer(carts.update(cart_id, **changes))


@bp.route("/carts/{cart_id}/lines", methods=["POST"])
@documented(Cart, request=AddLine, summary="Add a SKU (to the quantity already in the cart)",
            errors=[*CHANGING, UnknownSku, CurrencyMismatch, TooManyLines, OutOfStock],
            links={"set_quantity": LINE, "remove_line": LINE, "update_cart": CART})
def add_line(cart_id):
    request = bp.current_request
    body = parse(AddLine, request)
    return idempotency.answer(carts.add_line(cart_id, body.sku, body.quantity, idempotency.key_of(request),
                                             gift_card=body.gift_card))


@bp.route("/carts/{cart_id}/lines/{sku}", methods=["PATCH"])
@documented(Cart, request=SetQuantity, summary="Set a line's quantity (0 removes it)",
            errors=[*CHANGING, UnknownSku, CurrencyMismatch, OutOfStock])
def set_quantity(cart_id, sku):
    body = parse(SetQuantity, bp.current_request)
    return idempotency.answer(carts.set_quantity(cart_id, sku, body.quantity))


@bp.route("/carts/{cart_id}/lines/{sku}", methods=["DELETE"])
@documented(Cart, summary="Remove a line", errors=CHANGING)
def remove_line(cart_id, sku):
    return idempotency.answer(carts.remove_line(cart_id, sku))
