"""Gift card routes: the public balance lookup, applying cards to a cart, and the shop's cards."""

from typing import Annotated

from chalice import Blueprint
from pydantic import AwareDatetime, Field, StringConstraints

from chalicelib.errors import (
    CartChanged,
    CartCheckedOut,
    GiftCardUnusable,
    InvalidRequest,
    ResourceMissing,
    TooManyAttempts,
)
from chalicelib.handlers.common import (
    NoBody,
    PageQuery,
    admin_body,
    created,
    documented,
    page,
    parse,
    parse_query,
    require_admin,
)
from chalicelib.models import Cart, Currency, Email, Request
from chalicelib.models.balances import GiftCard
from chalicelib.models.base import Model
from chalicelib.responses import Page
from chalicelib.services import cart_tenders, gift_cards

bp = Blueprint(__name__)
TAG = "gift cards"
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=40)]


class GiftCardBalance(Model):
    currency: str
    balance: int = Field(description="0 once the card has expired.")
    expires_at: str | None


class ApplyGiftCard(Request):
    code: Code


class IssueGiftCard(Request):
    currency: Currency
    amount: Annotated[int, Field(ge=1)]
    recipient_email: Email | None = None
    expires_at: AwareDatetime | None = None
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class GiftCardQuery(PageQuery):
    code: Code | None = Field(None, description="The exact code (any case, with or without dashes): that card.")


class GiftCardPage(Page[GiftCard]):
    """Gift cards, newest issued first."""


def _source(request) -> str:
    """The caller's address (API Gateway's view of it), the key of the lookup counter."""
    return ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"


@bp.route("/gift-cards/{code}/balance", methods=["GET"])
@documented(GiftCardBalance, errors=[ResourceMissing, TooManyAttempts], summary="A gift card's balance")
def gift_card_balance(code):
    """Rate-limited per address (GIFT_CARD_LOOKUPS_PER_MINUTE, counting card applications too): over it,
    a 429 `too_many_attempts`. An unknown or disabled code is a 404."""
    return gift_cards.balance(code, _source(bp.current_request))


CHANGING = (ResourceMissing, CartCheckedOut, CartChanged)


@bp.route("/carts/{cart_id}/gift-cards", methods=["POST"])
@documented(Cart, request=ApplyGiftCard, errors=[*CHANGING, GiftCardUnusable, TooManyAttempts, InvalidRequest],
            summary="Apply a gift card to a cart")
def apply_gift_card(cart_id):
    """The card pays as much of the total as its balance allows, at every read and at checkout (where it
    is debited in the checkout transaction). Rate-limited like the balance lookup."""
    request = bp.current_request
    body = parse(ApplyGiftCard, request)
    return cart_tenders.apply_gift_card(cart_id, body.code, _source(request)).model_dump(mode="json")


@bp.route("/carts/{cart_id}/gift-cards/{last4}", methods=["DELETE"])
@documented(Cart, errors=CHANGING, summary="Take a gift card off a cart")
def remove_gift_card(cart_id, last4):
    return cart_tenders.remove_gift_card(cart_id, last4).model_dump(mode="json")


@bp.route("/admin/gift-cards", methods=["POST"])
@documented(GiftCard, status=201, request=IssueGiftCard, summary="Issue a gift card", tag=TAG)
def issue_gift_card():
    """The answer carries the card's `code`, shown this once (and emailed to `recipient_email`). An
    `expires_at` is refused when the shop's cards may not expire (GIFT_CARD_EXPIRY_ALLOWED=false)."""
    body = admin_body(IssueGiftCard, bp.current_request)
    return created(gift_cards.issue(body.currency, body.amount, body.recipient_email, body.expires_at, body.message))


@bp.route("/admin/gift-cards", methods=["GET"])
@documented(GiftCardPage, query=GiftCardQuery, errors=[ResourceMissing],
            summary="Find a gift card by code, or list the recent ones", tag=TAG)
def list_gift_cards():
    """With `code`: that card with its ledger (a 404 when there is none). Without: cards newest first."""
    request = bp.current_request
    require_admin(request)
    query = parse_query(GiftCardQuery, request)
    if query.code is not None:
        return page([gift_cards.find(query.code)], None)
    found, next_cursor = gift_cards.list_recent(query.limit, query.cursor)
    return page(found, next_cursor)


@bp.route("/admin/gift-cards/{gift_card_id}", methods=["GET"])
@documented(GiftCard, errors=[ResourceMissing], summary="A gift card with its ledger", tag=TAG)
def get_gift_card(gift_card_id):
    require_admin(bp.current_request)
    return gift_cards.get(gift_card_id).model_dump(mode="json")


@bp.route("/admin/gift-cards/{gift_card_id}/disable", methods=["POST"])
@documented(GiftCard, request=NoBody, errors=[ResourceMissing], summary="Disable a gift card", tag=TAG)
def disable_gift_card(gift_card_id):
    """Nobody can spend or look it up any more; it keeps its balance and ledger. Idempotent."""
    admin_body(NoBody, bp.current_request)
    return gift_cards.disable(gift_card_id).model_dump(mode="json")
