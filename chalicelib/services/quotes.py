"""Quotes: a buyer asks for one on their cart, the shop answers with prices and an expiry, the buyer of that
company accepts (the cart is checked out at the quoted prices: services/checkout.py) or it lapses."""

from datetime import datetime

from chalicelib import clock
from chalicelib.errors import (
    CartCheckedOut,
    Conflict,
    InvalidRequest,
    QuoteAccepted,
    QuoteExpired,
    QuoteNotAnswered,
    not_found,
)
from chalicelib.models.kept import Keyed
from chalicelib.models.quotes import Quote, QuoteLine, QuoteRecord, answer_problem, answered, status_at
from chalicelib.repository import carts as cart_store
from chalicelib.repository import quotes
from chalicelib.retry import retried
from chalicelib.services import carts, checkout, companies


def request(cart_id: str, customer_id: str, message: str | None) -> Quote:
    """A quote on the caller's account cart at its current prices. Raises ResourceMissing (not the caller's
    cart, or the caller buys for no company), CartCheckedOut, InvalidRequest (an empty cart)."""
    company, _ = companies.buyer_of(customer_id)
    record = cart_store.get(cart_id)
    if record is None or record.customer_id != customer_id:
        raise not_found("cart")
    if record.status != "open":
        raise CartCheckedOut("The cart has been checked out.")
    cart = carts.get(cart_id)
    if not cart.lines:
        raise InvalidRequest("The cart is empty.", param="lines")
    now = clock.now()
    quote = QuoteRecord(
        id=clock.new_id("quo"), cart_id=cart_id, company_id=company.id, customer_id=customer_id, email=record.email,
        currency=cart.currency, message=message, created_at=now,
        lines=[QuoteLine(sku=line.sku, title=line.title, quantity=line.quantity, list_price=line.unit_price)
               for line in cart.lines if not line.free])
    quotes.create(quote)
    return Quote.from_record(quote, now)


def answer(quote_id: str, prices: list[tuple[str, int]], expires_at: datetime) -> Quote:
    """The shop's prices for every line and the expiry; answering again replaces them until the quote is
    accepted. Raises ResourceMissing, InvalidRequest (naming the line or `expires_at`), QuoteAccepted."""
    def attempt() -> QuoteRecord:
        quote = quotes.get(quote_id)
        if quote is None:
            raise not_found("quote")
        if quote.status == "accepted":
            raise QuoteAccepted("The quote was accepted already.")
        now = clock.now()
        problem = answer_problem(quote, prices, expires_at, now)
        if problem:
            raise InvalidRequest(problem[1], param=problem[0])
        after = answered(quote, prices, expires_at, now)
        if not quotes.save(quote, after):
            raise _Moved()
        return after

    return Quote.from_record(retried(attempt, _Moved, lambda: Conflict("The quote kept changing; retry.")),
                             clock.now())


class _Moved(Exception):
    pass


def _own(quote_id: str, customer_id: str) -> QuoteRecord:
    """The quote if the caller buys for its company; anybody else gets the 404 of an unknown quote."""
    quote = quotes.get(quote_id)
    membership = companies.membership(customer_id)
    if quote is None or membership is None or membership[0].id != quote.company_id:
        raise not_found("quote")
    return quote


def get(quote_id: str, customer_id: str) -> Quote:
    return Quote.from_record(_own(quote_id, customer_id), clock.now())


def accept(quote_id: str, customer_id: str, payment_method: str | None = None,
           keyed: Keyed | None = None) -> checkout.CheckoutResult:
    """Check the quote's cart out at the quoted prices (stock reserved like any checkout); one order per
    quote: accepting again answers the same order (created=False). Raises ResourceMissing (not a buyer of
    the quote's company), QuoteNotAnswered, QuoteExpired, QuoteCartChanged, and what checkout raises."""
    quote = _own(quote_id, customer_id)
    status = status_at(quote, clock.now())
    if status == "requested":
        raise QuoteNotAnswered("The shop has not answered the quote yet.")
    if status == "expired":
        raise QuoteExpired("The quote lapsed; ask for a new one.")
    # The cart is the account cart of the buyer who asked; any buyer of the company may accept for it.
    return checkout.complete(quote.cart_id, payment_method, keyed, quote.customer_id, quote=quote)


def list_by_status(status: str, limit: int, cursor: str | None) -> tuple[list[Quote], str | None]:
    records, next_cursor = quotes.list_by_status(status, limit, cursor)
    now = clock.now()
    return [Quote.from_record(record, now) for record in records], next_cursor
