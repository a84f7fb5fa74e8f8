"""Invoices: the shop's routes (list by status, read, mark paid) and the buyer's link to the PDF."""

import hashlib
import hmac
from typing import Annotated, Literal

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field, StringConstraints

from chalicelib import config
from chalicelib.errors import (
    EmailNotVerified,
    InvalidSignature,
    InvoiceVoid,
    ResourceMissing,
    Unauthenticated,
    not_found,
)
from chalicelib.handlers.common import (
    ORDER_TOKEN,
    BlankIsAbsent,
    NoBody,
    PageQuery,
    admin_body,
    body_bytes,
    customer_order,
    documented,
    page,
    parse,
    parse_query,
    require_admin,
)
from chalicelib.models import MAX_MONEY, Request
from chalicelib.models.invoices import Invoice
from chalicelib.responses import InvoicePage
from chalicelib.services import invoices

bp = Blueprint(__name__)
ADMIN = "admin_invoices"


class InvoicesQuery(PageQuery):
    status: Annotated[Literal["open", "paid", "void"] | None, BlankIsAbsent] = Field(
        "open", description="Invoices in this state (default `open`), oldest due date first.")


@bp.route("/admin/invoices", methods=["GET"])
@documented(InvoicePage, query=InvoicesQuery, summary="List invoices by status, oldest due first", tag=ADMIN)
def list_invoices():
    """`overdue` is true for an open invoice past its due date."""
    require_admin(bp.current_request)
    query = parse_query(InvoicesQuery, bp.current_request)
    found, next_cursor = invoices.list_by_status(query.status or "open", query.limit, query.cursor)
    return page(found, next_cursor)


@bp.route("/admin/invoices/{invoice_id}", methods=["GET"])
@documented(Invoice, errors=[ResourceMissing], summary="Get an invoice, with a short-lived link to its PDF",
            tag=ADMIN)
def get_invoice(invoice_id):
    require_admin(bp.current_request)
    invoice = invoices.get(invoice_id)
    return invoice.model_copy(update={"url": invoices.document_link(invoice_id)}).model_dump(mode="json")


@bp.route("/admin/invoices/{invoice_id}/paid", methods=["POST"])
@documented(Invoice, request=NoBody, errors=[ResourceMissing, InvoiceVoid],
            summary="Mark an invoice paid (frees the company's credit once)", tag=ADMIN)
def mark_invoice_paid(invoice_id):
    """The order's `payment_status` becomes `paid` and the invoice's total is given back to the company's
    open credit; marking it again answers the paid invoice and changes nothing."""
    admin_body(NoBody, bp.current_request)
    return invoices.mark_paid(invoice_id).model_dump(mode="json")


@bp.route("/orders/{order_id}/invoice", methods=["GET"])
@documented(None, status=302, errors=[ResourceMissing, Unauthenticated, EmailNotVerified],
            summary="The order's invoice PDF (a redirect to a short-lived link)",
            optional_headers=ORDER_TOKEN)
def get_order_invoice(order_id):
    """Answers 302 to the PDF (valid INVOICE_LINK_SECONDS); 404 for an order without an invoice."""
    order = customer_order(bp.current_request, order_id)
    if order.invoice is None:
        raise not_found("invoice")
    return Response(body="", status_code=302, headers={"Location": invoices.document_link(order.invoice.id)})


class BankTransferIn(Request):
    model_config = ConfigDict(extra="ignore", strict=True)  # the bank's payload may carry more

    transfer_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    reference: Annotated[str, Field(max_length=500)]
    amount: Annotated[int, Field(ge=0, le=MAX_MONEY)]
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]


@bp.route("/webhooks/bank-transfer", methods=["POST"])
@documented({"type": "object", "properties": {"applied": {"type": "boolean"}, "invoice_id": {"type": "string"},
                                              "status": {"type": "string"}, "reason": {"type": "string"}}},
            request=BankTransferIn, errors=[InvalidSignature],
            headers={"X-Signature": "Hex HMAC-SHA256 of the raw body under BANK_WEBHOOK_SECRET."},
            summary="A bank transfer received (the bank's webhook): pays the invoice its reference quotes")
def bank_transfer():
    """The transfer pays the invoice whose number (`2026-000123`) its `reference` quotes when the amount and
    currency are the invoice's total: the invoice is marked paid (its credit freed once). Anything else is
    answered 200 with `applied: false` and a reason, for the shop to reconcile."""
    request = bp.current_request
    raw = body_bytes(request)
    signature = (request.headers.get("x-signature") or "").strip().lower()
    secrets = config.secret_list("BANK_WEBHOOK_SECRET")
    if not secrets or not any(hmac.compare_digest(signature, hmac.new(secret.encode(), raw, hashlib.sha256)
                                                  .hexdigest()) for secret in secrets):
        raise InvalidSignature("The X-Signature header is missing or does not match the body.")
    body = parse(BankTransferIn, request)
    return invoices.settle_transfer(body.reference, body.amount, body.currency, body.transfer_id)
