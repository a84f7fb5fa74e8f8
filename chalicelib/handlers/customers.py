"""The signed-in customer's routes (`/me`, header `Authorization: Bearer <Cognito ID or access token>`) and
the one-click unsubscribe. Every `/me` route acts on the customer of the verified token, never on an id
from the path: another customer's address, order or cart is the same 404 as an unknown one."""

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import Field, StringConstraints

from chalicelib import accounts, unsubscribe
from chalicelib.errors import (
    CartChanged,
    CartCheckedOut,
    EmailNotVerified,
    InvalidRequest,
    InvalidToken,
    ResourceMissing,
    TooManyAddresses,
    Unauthenticated,
)
from chalicelib.handlers.common import PageQuery, documented, page, parse, parse_query
from chalicelib.models import Address, Cart, Country, OptionalText, Request, Text
from chalicelib.models.base import Model
from chalicelib.models.customers import Customer, SavedAddress
from chalicelib.responses import OrderPage
from chalicelib.services import customers

bp = Blueprint(__name__)
SIGNED_IN = [Unauthenticated, EmailNotVerified]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()/.-]{2,29}$")]


class ProfileIn(Request):
    name: Text | None = None
    phone: Phone | None = None
    marketing_consent: bool | None = None


class AddressIn(Address):
    default: bool = False


class AddressChange(Request):
    name: Text | None = None
    line1: Text | None = None
    line2: OptionalText | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None = None
    region: OptionalText | None = None
    country: Country | None = None
    default: bool | None = None


class AttachCart(Request):
    cart_id: Annotated[str, Field(min_length=1, max_length=64)]


class UnsubscribeQuery(Model):
    """The one-click link's query (parsed like PageQuery: Chalice hands a MultiDict, which strict models refuse)."""


    token: Annotated[str, Field(min_length=1, max_length=512, description="The token of the email's link.")]


ADDRESSES = {"type": "object", "required": ["data"],
             "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/SavedAddress"}}}}
EXPORT = {"type": "object", "description": "Everything held about the customer: profile, addresses, the shop's "
                                           "other records of them, and their orders."}


def _me():
    signed_in = accounts.from_request(bp.current_request)
    return signed_in.customer_id, signed_in


@bp.route("/me", methods=["GET"])
@documented(Customer, errors=SIGNED_IN, summary="The signed-in customer's profile")
def get_me():
    customer_id, signed_in = _me()
    return customers.profile(customer_id, signed_in.email).model_dump(mode="json")


@bp.route("/me", methods=["PATCH"])
@documented(Customer, request=ProfileIn, errors=SIGNED_IN,
            summary="Change name, phone or marketing consent (recorded with its time and source)")
def update_me():
    customer_id, signed_in = _me()
    body = parse(ProfileIn, bp.current_request)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if changes.get("marketing_consent", False) is None:
        changes.pop("marketing_consent")
    return customers.update_profile(customer_id, signed_in.email, changes).model_dump(mode="json")


@bp.route("/me/addresses", methods=["GET"])
@documented(ADDRESSES, errors=SIGNED_IN, summary="The address book")
def list_addresses():
    customer_id, _ = _me()
    return {"data": [a.model_dump(mode="json") for a in customers.addresses(customer_id)]}


@bp.route("/me/addresses", methods=["POST"])
@documented(SavedAddress, status=201, request=AddressIn, errors=[*SIGNED_IN, TooManyAddresses],
            summary="Save an address (`default` makes it the default shipping address; so is the first one)")
def add_address():
    customer_id, signed_in = _me()
    body = parse(AddressIn, bp.current_request)
    address = Address.model_validate(body.model_dump(exclude={"default"}))
    saved = customers.add_address(customer_id, signed_in.email, address, body.default)
    return Response(saved.model_dump(mode="json"), status_code=201)


@bp.route("/me/addresses/{address_id}", methods=["PATCH"])
@documented(SavedAddress, request=AddressChange, errors=[*SIGNED_IN, ResourceMissing],
            summary="Change a saved address or make it the default")
def change_address(address_id):
    customer_id, signed_in = _me()
    body = parse(AddressChange, bp.current_request)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("name", "line1", "city", "postal_code", "country", "default"):
        if name in changes and changes[name] is None:
            raise InvalidRequest(f"{name} cannot be removed from an address.", param=name)
    return customers.change_address(customer_id, signed_in.email, address_id, changes).model_dump(mode="json")


@bp.route("/me/addresses/{address_id}", methods=["DELETE"])
@documented(None, status=204, errors=[*SIGNED_IN, ResourceMissing], summary="Delete a saved address")
def remove_address(address_id):
    customer_id, signed_in = _me()
    customers.remove_address(customer_id, signed_in.email, address_id)
    return Response(body="", status_code=204)


@bp.route("/me/orders", methods=["GET"])
@documented(OrderPage, query=PageQuery, errors=SIGNED_IN,
            summary="The customer's orders, newest first (guest orders with the verified email included)")
def list_my_orders():
    customer_id, _ = _me()
    query = parse_query(PageQuery, bp.current_request)
    return page(*customers.order_page(customer_id, query.limit, query.cursor))


@bp.route("/me/carts", methods=["POST"])
@documented(Cart, request=AttachCart, errors=[*SIGNED_IN, ResourceMissing, CartCheckedOut, CartChanged],
            summary="Attach a guest cart to the account, merged into the account's open cart")
def attach_cart():
    """The account's one open cart: the guest cart itself when the account has none, otherwise the account's
    cart with the guest cart's lines added (quantities summed, capped by stock, prices from the catalogue) and
    the guest cart emptied. A repeat changes nothing more. A cart attached to another account is a 404."""
    customer_id, signed_in = _me()
    body = parse(AttachCart, bp.current_request)
    return customers.attach_cart(customer_id, signed_in.email, body.cart_id).model_dump(mode="json")


@bp.route("/me/export", methods=["GET"])
@documented(EXPORT, errors=SIGNED_IN, summary="Everything held about the customer, as JSON")
def export_me():
    customer_id, signed_in = _me()
    return customers.export(customer_id, signed_in.email)


@bp.route("/me", methods=["DELETE"])
@documented(None, status=204, errors=SIGNED_IN,
            summary="Erase the account: profile and addresses deleted, orders anonymised, the sign-in deleted")
def delete_me():
    """Profile, addresses and the shop's other records of the customer are deleted; their orders keep amounts,
    lines and dates for the accounts but lose name, address, email and the link to the customer; the Cognito
    user is deleted (the token stops working). Safe to repeat while the token is still accepted."""
    customer_id, signed_in = _me()
    customers.erase(customer_id)
    accounts.delete_user(signed_in.username)
    return Response(body="", status_code=204)


# RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` as a form (or multipart) body, which is ignored.
@bp.route("/unsubscribe", methods=["POST"],
          content_types=["application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain"])
@documented({"type": "object", "properties": {"unsubscribed": {"type": "boolean"}}}, query=UnsubscribeQuery,
            errors=[InvalidToken], summary="One-click unsubscribe from marketing email (the email's link)")
def unsubscribe_route():
    """RFC 8058 one-click: no login; the signed token says whose consent to withdraw (source `unsubscribe`)."""
    unsubscribe.withdraw(parse_query(UnsubscribeQuery, bp.current_request).token)
    return {"unsubscribed": True}
