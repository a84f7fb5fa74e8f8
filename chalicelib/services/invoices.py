"""Pay by invoice: issuing an invoice with its order at checkout, its PDF, marking it paid, reminders.

Numbering without gaps: the number is the year's counter + 1, and the counter moves in the checkout
transaction that writes the order and the invoice, conditioned on still holding the value read
(repository/invoices.py `issue`). A checkout that fails takes no number; two concurrent invoice
checkouts cannot both take the same one (the loser's condition fails and it reads again: the
checkout's retry loop). So the numbers of a year are exactly 1..n, each on one placed order.
"""

import hashlib
import logging
import re
from datetime import timedelta

from chalicelib import clock, config, pdf
from chalicelib.errors import Conflict, InvoiceNotAllowed, InvoicesOverdue, InvoiceVoid, not_found
from chalicelib.models.companies import Company
from chalicelib.models.invoices import (
    Invoice,
    InvoiceBuyer,
    InvoiceLine,
    InvoicePrepayment,
    InvoiceRecord,
    InvoiceRef,
    Seller,
    document_lines,
    due_date,
    number_of,
    pay,
    reminder_due,
    void,
)
from chalicelib.models.orders import OrderRecord
from chalicelib.repository import documents, invoices
from chalicelib.retry import retried
from chalicelib.services import companies

PAYMENT_METHOD = "invoice"
logger = logging.getLogger(__name__)


def invoice_id_for(order_id: str) -> str:
    """Every attempt at placing the same order names the same invoice."""
    return "inv_" + hashlib.sha256(f"invoice:{order_id}".encode()).hexdigest()[:32]


def document_key(invoice: InvoiceRecord) -> str:
    return f"invoices/{invoice.year}/{invoice.number}-{invoice.id}.pdf"


def pdf_url(order_id: str) -> str:
    """The stable link an order carries to its invoice (answered with a short-lived link to the PDF)."""
    return f"{config.settings().api_url.rstrip('/')}/orders/{order_id}/invoice"


def for_checkout(order: OrderRecord, customer_id: str | None,
                 company: Company | None = None) -> tuple[OrderRecord, tuple[InvoiceRecord, int]]:
    """The order paid by invoice (status `paid` so fulfilment proceeds, payment_status `invoiced`, no
    provider payment), and for orders.place its invoice with the next number of the year and the company's
    credit limit in the order's currency. The invoice is for the order's amount due: what is left after the
    gift cards and store credit it spends (`order.tenders`, services/tenders.py `for_order` with
    rest="invoice"; the invoice lists them as `prepaid`), and that is what the credit limit is checked on.
    Raises InvoiceNotAllowed (not a signed-in buyer of a company with payment terms), InvoicesOverdue (an
    invoice overdue past the grace period). `company` is the buyer's as the cart's pricing read it (an
    account cart); without it the signed-in customer's membership is read."""
    settings = config.settings()
    if company is None:
        membership = companies.membership(customer_id) if customer_id else None
        if membership is None:
            raise InvoiceNotAllowed("Paying by invoice needs a signed-in buyer of a company.",
                                    param="payment_method")
        company, _ = membership
    if not company.payment_terms_days:
        raise InvoiceNotAllowed("The company has no payment terms; pay by card.", param="payment_method")
    now = order.created_at
    grace = now - timedelta(days=settings.invoice_grace_days)
    if invoices.has_open_due_before(company.id, clock.iso(grace)):
        raise InvoicesOverdue("The company has an overdue invoice; pay it before buying on invoice again.",
                              param="payment_method")
    year = now.year
    sequence = invoices.last_number(year) + 1
    invoice = InvoiceRecord(
        id=invoice_id_for(order.id), number=number_of(year, sequence), year=year, sequence=sequence,
        order_id=order.id, currency=order.currency,
        seller=Seller(name=settings.shop_name, address=list(settings.shop_address),
                      vat_id=settings.shop_vat_id or None),
        buyer=InvoiceBuyer(company_id=company.id, name=company.name, vat_id=company.vat_id,
                           address=company.billing_address, email=order.email),
        lines=[InvoiceLine(sku=line.sku, title=line.title, quantity=line.quantity, unit_price=line.unit_price,
                           line_total=line.line_total) for line in order.lines],
        subtotal=order.subtotal, discount_total=order.discount_total, shipping_total=order.shipping_total,
        tax_total=order.tax_total, total=order.due, reverse_charge=order.reverse_charge,
        prepaid=[InvoicePrepayment(method=t.method, amount=t.amount, last4=t.last4) for t in order.tenders],
        issued_at=now,
        due_at=due_date(now, company.payment_terms_days))
    ref = InvoiceRef(id=invoice.id, number=invoice.number, due_at=invoice.due_at, url=pdf_url(order.id))
    placed = order.model_copy(update={"status": "paid", "payment_status": "invoiced", "payment": None,
                                      "invoice": ref, "company_id": company.id})
    limit = (company.credit_limit or {}).get(order.currency, 0)
    return placed, (invoice, limit)


def render(invoice: InvoiceRecord) -> bytes:
    return pdf.render(document_lines(invoice), title=f"Invoice {invoice.number}")


def store_document(invoice: InvoiceRecord) -> str:
    """Render the invoice's PDF into the documents bucket (the same bytes on a retry); returns its key."""
    key = document_key(invoice)
    documents.store(key, render(invoice), "application/pdf")
    return key


def document_link(invoice_id: str) -> str:
    """A short-lived link to the invoice's PDF, stored first if it is missing (a checkout that died
    between its commit and the upload). Raises ResourceMissing."""
    invoice = invoices.get(invoice_id)
    if invoice is None:
        raise not_found("invoice")
    key = document_key(invoice)
    if not documents.exists(key):
        store_document(invoice)
    return documents.link(key, config.settings().invoice_link_seconds)


def get(invoice_id: str) -> Invoice:
    invoice = invoices.get(invoice_id)
    if invoice is None:
        raise not_found("invoice")
    return Invoice.from_record(invoice, clock.now())


def mark_paid(invoice_id: str, by: str = "admin") -> Invoice:
    """Mark the invoice paid: its order's payment becomes `paid` and the company's open credit gets the
    total back, once (a repeat answers the paid invoice and frees nothing). Raises ResourceMissing,
    InvoiceVoid (its order was cancelled)."""
    def attempt() -> InvoiceRecord:
        invoice = invoices.get(invoice_id)
        if invoice is None:
            raise not_found("invoice")
        if invoice.status == "void":
            raise InvoiceVoid("The invoice is void: its order was cancelled.")
        paid = pay(invoice, clock.now(), by)
        if paid is None:
            return invoice
        if not invoices.settle(invoice, paid):
            raise _Moved()
        return paid

    invoice = retried(attempt, _Moved, lambda: Conflict("The invoice kept changing; retry."), backoff=0.05)
    return Invoice.from_record(invoice, clock.now())


class _Moved(Exception):
    pass


NUMBER_PATTERN = re.compile(r"\b(\d{4}-\d{6})\b")


def settle_transfer(reference: str, amount: int, currency: str, transfer_id: str) -> dict:
    """A bank transfer the bank reports (the webhook): the invoice whose number the reference quotes is marked
    paid when the amount and currency are its total's. Anything else changes nothing and is answered
    `applied: false` with the reason (the shop reconciles it by hand; retrying would not change it). Safe to
    repeat: a paid invoice stays paid once."""
    found = NUMBER_PATTERN.search(reference)
    invoice = invoices.find_by_number(found.group(1)) if found else None
    if invoice is None:
        return {"applied": False, "reason": "no invoice number in the reference matches an invoice"}
    if amount != invoice.total or currency.upper() != invoice.currency:
        logger.warning("bank transfer %s of %s %s does not match invoice %s (%s %s)", transfer_id, amount,
                       currency, invoice.number, invoice.total, invoice.currency)
        return {"applied": False, "invoice_id": invoice.id, "reason": "the amount or currency differs"}
    if invoice.status == "void":
        return {"applied": False, "invoice_id": invoice.id, "reason": "the invoice is void"}
    paid = mark_paid(invoice.id, by=f"bank_transfer:{transfer_id}")
    return {"applied": True, "invoice_id": paid.id, "status": paid.status}


def void_for_cancelled_order(invoice_id: str) -> None:
    """The cancelled order's open invoice becomes void and its total goes back to the company's credit, once.
    A paid invoice is left as it is (the refund is the shop's). Safe to repeat."""
    def attempt() -> None:
        invoice = invoices.get(invoice_id)
        if invoice is None or invoice.status != "open":
            return
        if not invoices.void(invoice, void(invoice, clock.now())):
            raise _Moved()

    retried(attempt, _Moved, lambda: Conflict("The invoice kept changing; retry."), backoff=0.05)


def list_by_status(status: str, limit: int, cursor: str | None) -> tuple[list[Invoice], str | None]:
    records, next_cursor = invoices.list_by_status(status, limit, cursor)
    now = clock.now()
    return [Invoice.from_record(record, now) for record in records], next_cursor


def remind_overdue() -> int:
    """Record a reminder on each open invoice past its due date that is due one (at once, then every
    INVOICE_REMINDER_DAYS); the stream turns each into the reminder email (events.py). Reads only the open
    invoices due before now (an index query, no scan). Returns how many were reminded."""
    now = clock.now()
    every = config.settings().invoice_reminder_days
    reminded = 0
    for invoice in invoices.each_open_due_before(clock.iso(now)):
        if reminder_due(invoice, now, every) and invoices.record_reminder(invoice, clock.iso(now)):
            reminded += 1
    return reminded
