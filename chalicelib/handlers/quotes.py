"""Quotes: the buyer's routes (ask on a cart, read, accept; a Cognito token like `/me`) and the shop's inbox
and answer. A quote of another company is the same 404 as none at all."""

from datetime import datetime
from typing import Annotated, Literal

from chalice import Blueprint, Response
from pydantic import AwareDatetime, Field

from chalicelib import accounts
from chalicelib.errors import (
    CartChanged,
    CartCheckedOut,
    CreditLimitExceeded,
    EmailNotVerified,
    InvoiceNotAllowed,
    InvoicesOverdue,
    OutOfStock,
    PaymentDeclined,
    QuoteAccepted,
    QuoteCartChanged,
    QuoteExpired,
    QuoteNotAnswered,
    ResourceMissing,
    Unauthenticated,
)
from chalicelib.handlers.common import (
    BlankIsAbsent,
    PageQuery,
    admin_body,
    created,
    documented,
    page,
    parse,
    parse_query,
    require_admin,
)
from chalicelib.models import MAX_MONEY, Request, Sku
from chalicelib.models.quotes import Quote
from chalicelib.responses import Checkout, QuotePage
from chalicelib.services import checkout, quotes

bp = Blueprint(__name__)
SIGNED_IN = [Unauthenticated, EmailNotVerified]
ADMIN = "admin_quotes"


class QuoteIn(Request):
    message: Annotated[str, Field(max_length=2000)] | None = None


class QuotedPrice(Request):
    sku: Sku
    unit_price: Annotated[int, Field(ge=0, le=MAX_MONEY)]


class AnswerIn(Request):
    lines: Annotated[list[QuotedPrice], Field(min_length=1, max_length=100)]
    expires_at: AwareDatetime


class AcceptIn(Request):
    payment_method: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,255}$")] | None = Field(
        None, description="As for checkout: `invoice` (a buyer of a company with terms), Stripe's `pm_...`, or "
                          "absent (confirm in the browser).")


class QuotesQuery(PageQuery):
    status: Annotated[Literal["requested", "answered", "accepted"] | None, BlankIsAbsent] = Field(
        "requested", description="Quotes in this state (default `requested`: the inbox), oldest first.")


def _customer_id() -> str:
    return accounts.from_request(bp.current_request).customer_id


@bp.route("/carts/{cart_id}/quote", methods=["POST"])
@documented(Quote, status=201, request=QuoteIn, errors=[*SIGNED_IN, ResourceMissing, CartCheckedOut],
            summary="Ask for a quote on the buyer's cart")
def request_quote(cart_id):
    """The caller's account cart (`POST /me/carts`), as it is now; the shop answers with a price per line."""
    body = parse(QuoteIn, bp.current_request)
    return created(quotes.request(cart_id, _customer_id(), body.message))


@bp.route("/quotes/{quote_id}", methods=["GET"])
@documented(Quote, errors=[*SIGNED_IN, ResourceMissing], summary="A quote of the buyer's company")
def get_quote(quote_id):
    return quotes.get(quote_id, _customer_id()).model_dump(mode="json")


@bp.route("/quotes/{quote_id}/accept", methods=["POST"])
@documented(Checkout, status=(201, 200), request=AcceptIn,
            errors=[*SIGNED_IN, ResourceMissing, QuoteNotAnswered, QuoteExpired, QuoteCartChanged, CartCheckedOut,
                    OutOfStock, CartChanged, PaymentDeclined, InvoiceNotAllowed, InvoicesOverdue,
                    CreditLimitExceeded],
            summary="Accept a quote: its cart is checked out at the quoted prices")
def accept_quote(quote_id):
    """By any buyer of the quote's company; one order per quote (a repeat answers it with 200). The lines
    show `price_source: "quote"`; stock is reserved as at checkout."""
    request = bp.current_request
    body = parse(AcceptIn, request)
    result: checkout.CheckoutResult = quotes.accept(quote_id, _customer_id(), body.payment_method)
    return Response(result.to_json(), status_code=201 if result.created else 200)


@bp.route("/admin/quotes", methods=["GET"])
@documented(QuotePage, query=QuotesQuery, summary="The quotes inbox: quotes by status, oldest first", tag=ADMIN)
def list_quotes():
    require_admin(bp.current_request)
    query = parse_query(QuotesQuery, bp.current_request)
    return page(*quotes.list_by_status(query.status or "requested", query.limit, query.cursor))


@bp.route("/admin/quotes/{quote_id}/answer", methods=["POST"])
@documented(Quote, request=AnswerIn, errors=[ResourceMissing, QuoteAccepted],
            summary="Answer a quote with a price per line and an expiry", tag=ADMIN)
def answer_quote(quote_id):
    """Every line of the quote needs a price (a 400 names the line); answering again replaces the prices
    until the quote is accepted."""
    body: AnswerIn = admin_body(AnswerIn, bp.current_request)
    expires: datetime = body.expires_at
    return quotes.answer(quote_id, [(line.sku, line.unit_price) for line in body.lines], expires).model_dump(
        mode="json")
