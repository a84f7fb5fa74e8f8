"""Approval: a company buyer's checkout above their spending limit becomes a purchase request (checkout
answers 202 with it); an approver of that company approves it (the cart is then checked out as usual, stock
reserved at that moment) or rejects it with a message. Emails both ways go through the stream (events.py).

Two approvers approving at once place one order: the first decision claims the request (a write on its
version: pending → approved), and every approval then checks the cart out through checkout.complete, which
places one order per cart. A rejection only wins over a pending request, so an approved request is never
rejected afterwards. A checkout that fails on approval (stock gone) puts the request back to pending.
"""

import hashlib

from chalicelib import clock
from chalicelib.errors import CartChanged, CommerceError, Conflict, Forbidden, not_found
from chalicelib.models import CartRecord
from chalicelib.models.companies import Buyer, PurchaseRequest
from chalicelib.models.orders import OrderRecord
from chalicelib.repository import carts, companies, purchase_requests
from chalicelib.retry import retried
from chalicelib.services.companies import buyer_of


def request_id(record: CartRecord) -> str:
    """One request per version of the cart: a repeated checkout answers the same request."""
    return "pr_" + hashlib.sha256(f"{record.id}:{record.version}".encode()).hexdigest()[:24]


def open_for(record: CartRecord, order: OrderRecord, buyer: Buyer, payment_method: str | None) -> PurchaseRequest:
    """The purchase request for a checkout above the buyer's limit (the order it would have placed: lines and
    totals), with the emails of the company's approvers. Idempotent per cart version."""
    approvers = [b.email for b in companies.buyers(buyer.company_id)
                 if b.role == "approver" and b.customer_id != buyer.customer_id]
    limit = (buyer.spending_limit or {}).get(order.currency)
    request = PurchaseRequest(
        id=request_id(record), company_id=buyer.company_id, cart_id=record.id, cart_version=record.version,
        customer_id=buyer.customer_id, email=buyer.email, currency=order.currency, lines=order.lines,
        total=order.total, spending_limit=limit, approvers=approvers, payment_method=payment_method,
        created_at=clock.now())
    return purchase_requests.open_request(request)


def _approver(customer_id: str) -> tuple[str, Buyer]:
    company, buyer = buyer_of(customer_id)
    if buyer.role != "approver":
        raise Forbidden("Only an approver of the company can decide purchase requests.")
    return company.id, buyer


def _request(company_id: str, request_id_: str) -> PurchaseRequest:
    found = purchase_requests.get(company_id, request_id_)
    if found is None:
        raise not_found("purchase request")
    return found


def list_requests(customer_id: str, limit: int, cursor: str | None) -> tuple[list[PurchaseRequest], str | None]:
    """The caller's company's requests, newest first (any buyer of the company sees them). Raises
    ResourceMissing outside a company."""
    company, _ = buyer_of(customer_id)
    return purchase_requests.list_recent(company.id, limit, cursor)


def _decided(request: PurchaseRequest, status: str, approver: Buyer, message: str | None) -> PurchaseRequest:
    return request.model_copy(update={"status": status, "decided_by": approver.email, "decided_at": clock.now(),
                                      "message": message, "version": request.version + 1})


class _Raced(Exception):
    """Another decision was written first: read the request again."""


def _busy() -> CartChanged:
    return CartChanged("The purchase request is being decided by someone else; read it again.")


def approve(customer_id: str, request_id_: str, message: str | None) -> PurchaseRequest:
    """Approve and check the cart out as the buyer (stock reserved now). Safe to repeat and to race: one
    order. Raises ResourceMissing, Forbidden (not an approver, or their own request), Conflict (rejected),
    CartChanged (the buyer changed the cart since), and checkout's errors (OutOfStock...: pending again)."""
    from chalicelib.services import checkout  # checkout opens requests: import it when deciding one

    company_id, approver = _approver(customer_id)

    def claim() -> PurchaseRequest:
        request = _request(company_id, request_id_)
        if request.customer_id == approver.customer_id:
            raise Forbidden("Another approver of the company decides your own purchase request.")
        if request.status == "rejected":
            raise Conflict("This purchase request was rejected.")
        if request.status == "approved":
            return request
        cart = carts.get(request.cart_id)
        if cart is not None and cart.status == "open" and cart.version != request.cart_version:
            raise CartChanged("The cart changed since the request; the buyer checks out again.")
        claimed = _decided(request, "approved", approver, message)
        if not purchase_requests.save(request, claimed):
            raise _Raced()
        return claimed

    request = retried(claim, _Raced, _busy)
    if request.order_id:
        return request
    try:
        result = checkout.complete(request.cart_id, request.payment_method, customer_id=request.customer_id,
                                   approved=True)
    except CommerceError:
        _reopen(company_id, request.id)
        raise
    return _record_order(company_id, request.id, result.order.id)


def _reopen(company_id: str, request_id_: str) -> None:
    """Back to pending after a failed checkout (nothing was placed), unless an order was recorded meanwhile."""
    current = purchase_requests.get(company_id, request_id_)
    if current and current.status == "approved" and not current.order_id:
        purchase_requests.save(current, current.model_copy(update={
            "status": "pending", "decided_by": None, "decided_at": None, "version": current.version + 1}))


def _record_order(company_id: str, request_id_: str, order_id: str) -> PurchaseRequest:
    def attempt() -> PurchaseRequest:
        current = _request(company_id, request_id_)
        if current.order_id:
            return current
        done = current.model_copy(update={"order_id": order_id, "status": "approved",
                                          "version": current.version + 1})
        if not purchase_requests.save(current, done):
            raise _Raced()
        return done

    return retried(attempt, _Raced, _busy)


def reject(customer_id: str, request_id_: str, message: str | None) -> PurchaseRequest:
    """Reject a pending request (the buyer is told, with the message). A repeat answers the rejected request.
    Raises ResourceMissing, Forbidden, Conflict (already approved)."""
    company_id, approver = _approver(customer_id)

    def attempt() -> PurchaseRequest:
        request = _request(company_id, request_id_)
        if request.status == "rejected":
            return request
        if request.status == "approved":
            raise Conflict("This purchase request was approved.")
        rejected = _decided(request, "rejected", approver, message)
        if not purchase_requests.save(request, rejected):
            raise _Raced()
        return rejected

    return retried(attempt, _Raced, _busy)
