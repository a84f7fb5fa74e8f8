"""Invoices (pay by invoice for companies with payment terms): the document and its pure rules, no I/O.

An invoice is issued in the checkout transaction that places its order (repository/orders.py `place`):
its number is the year's counter + 1, written in that same transaction conditioned on the counter
still holding the value read, so a number exists only if its order does and every number of a year
is used exactly once (no gaps, no duplicates). The lines, totals and parties are copied from the order
and the company at that moment: an invoice never changes afterwards except its payment status.
"""

from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from chalicelib.minor_units import to_major
from chalicelib.models import Address, Record
from chalicelib.models.base import Model

InvoiceStatus = Literal["open", "paid", "void"]  # void: its order was cancelled unpaid (the number stays used)
REVERSE_CHARGE_TEXT = "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)."


class InvoiceLine(Model):
    sku: str
    title: str
    quantity: int
    unit_price: int
    line_total: int


class Seller(Model):
    name: str
    address: list[str] = []
    vat_id: str | None = None


class InvoiceBuyer(Model):
    company_id: str
    name: str
    vat_id: str | None = None
    address: Address | None = None
    email: str


class InvoicePrepayment(Model):
    """A balance that paid part of the order at checkout (a gift card or store credit): the invoice is for the
    rest."""

    method: Literal["gift_card", "store_credit"]
    amount: int
    last4: str | None = None  # a gift card's


class InvoiceRef(Model):
    """What an order says of its invoice."""

    id: str
    number: str
    due_at: datetime
    url: str


class InvoiceRecord(Record):
    id: str
    number: str  # "<year>-<sequence, 6 digits>"
    year: int
    sequence: int
    order_id: str
    currency: str
    seller: Seller
    buyer: InvoiceBuyer
    lines: list[InvoiceLine]
    subtotal: int
    discount_total: int = 0
    shipping_total: int = 0
    tax_total: int
    total: int  # what the invoice asks for: the order's total less `prepaid`
    prepaid: list[InvoicePrepayment] = []  # gift cards and store credit spent at checkout
    reverse_charge: bool = False
    status: InvoiceStatus = "open"
    issued_at: datetime
    due_at: datetime
    paid_at: datetime | None = None
    paid_by: str | None = None  # "admin" or "bank_transfer:<reference>"
    voided_at: datetime | None = None
    reminded_at: datetime | None = None
    reminders: int = 0
    version: int = 0

    @property
    def order_total(self) -> int:
        """The order's total: what the invoice asks for and what the balances paid at checkout."""
        return self.total + sum(p.amount for p in self.prepaid)


class Invoice(Model):
    """An invoice as the shop and its buyer see it."""

    id: str
    number: str
    order_id: str
    currency: str
    seller: Seller
    buyer: InvoiceBuyer
    lines: list[InvoiceLine]
    subtotal: int
    discount_total: int
    shipping_total: int
    tax_total: int
    total: int = Field(description="What the invoice asks for (and a bank transfer must match): the order's "
                                   "total less `prepaid`.")
    prepaid: list[InvoicePrepayment] = Field(description="The gift cards and store credit that paid part of the "
                                                         "order at checkout, in the order spent.")
    reverse_charge: bool
    status: InvoiceStatus
    overdue: bool
    issued_at: datetime
    due_at: datetime
    paid_at: datetime | None
    reminders: int
    url: str | None = None

    @classmethod
    def from_record(cls, record: InvoiceRecord, now: datetime, url: str | None = None) -> "Invoice":
        return cls.model_validate(record.model_dump(include=set(cls.model_fields)) | {
            "overdue": is_overdue(record, now), "url": url})


def number_of(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"


def due_date(issued_at: datetime, terms_days: int) -> datetime:
    return issued_at + timedelta(days=terms_days)


def is_overdue(invoice: InvoiceRecord, now: datetime, grace_days: int = 0) -> bool:
    return invoice.status == "open" and invoice.due_at + timedelta(days=grace_days) < now


def reminder_due(invoice: InvoiceRecord, now: datetime, every_days: int) -> bool:
    """An open invoice past its due date is reminded at once, then every `every_days`."""
    if not is_overdue(invoice, now):
        return False
    return invoice.reminded_at is None or invoice.reminded_at + timedelta(days=every_days) <= now


def pay(invoice: InvoiceRecord, now: datetime, by: str) -> InvoiceRecord | None:
    """The invoice marked paid, or None when it is paid already (marking it again changes nothing)."""
    if invoice.status == "paid":
        return None
    return invoice.model_copy(update={"status": "paid", "paid_at": now, "paid_by": by})


def void(invoice: InvoiceRecord, now: datetime) -> InvoiceRecord | None:
    """The open invoice of a cancelled order, void; None when it is void already. Raises ValueError for a
    paid one (its money must be refunded, not voided)."""
    if invoice.status == "void":
        return None
    if invoice.status == "paid":
        raise ValueError("a paid invoice is refunded, not voided")
    return invoice.model_copy(update={"status": "void", "voided_at": now})


def _money(amount: int, currency: str) -> str:
    """1234567 EUR -> "12,345.67 EUR", 1234567 JPY -> "1,234,567 JPY" (chalicelib/minor_units.py)."""
    return f"{to_major(amount, currency)} {currency}"


def document_lines(invoice: InvoiceRecord) -> list:
    """The invoice as lines of text for the PDF writer (chalicelib/pdf.py): (text, indent, bold) or text."""
    c = invoice.currency
    out: list = [(f"INVOICE {invoice.number}", 0, True), ""]
    out += [(invoice.seller.name, 0, True), *invoice.seller.address]
    if invoice.seller.vat_id:
        out.append(f"VAT ID: {invoice.seller.vat_id}")
    out += ["", ("Bill to", 0, True), invoice.buyer.name]
    if invoice.buyer.address:
        a = invoice.buyer.address
        out += [line for line in (a.line1, a.line2, f"{a.postal_code} {a.city}", a.region, a.country) if line]
    if invoice.buyer.vat_id:
        out.append(f"VAT ID: {invoice.buyer.vat_id}")
    out += ["", f"Invoice date: {invoice.issued_at:%Y-%m-%d}", f"Due date: {invoice.due_at:%Y-%m-%d}",
            f"Order: {invoice.order_id}", "", ("Qty   SKU / description   Unit price   Amount", 0, True)]
    for line in invoice.lines:
        out.append(f"{line.quantity} x  {line.sku}  {line.title}   {_money(line.unit_price, c)}   "
                   f"{_money(line.line_total, c)}")
    out += ["", f"Subtotal: {_money(invoice.subtotal, c)}"]
    if invoice.discount_total:
        out.append(f"Discount: -{_money(invoice.discount_total, c)}")
    out += [f"Shipping: {_money(invoice.shipping_total, c)}", f"Tax: {_money(invoice.tax_total, c)}"]
    if invoice.prepaid:
        out.append(f"Order total: {_money(invoice.order_total, c)}")
        out += [f"Paid by gift card ending {p.last4}: -{_money(p.amount, c)}" if p.method == "gift_card"
                else f"Paid by store credit: -{_money(p.amount, c)}" for p in invoice.prepaid]
    out.append((f"Total due: {_money(invoice.total, c)}", 0, True))
    if invoice.reverse_charge:
        out += ["", REVERSE_CHARGE_TEXT]
    out += ["", f"Please pay by {invoice.due_at:%Y-%m-%d}, quoting {invoice.number}."]
    return out
