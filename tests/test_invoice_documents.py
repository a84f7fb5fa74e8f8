"""The invoice document: the PDF writer's structure, what an invoice shows, and its pure rules."""

from datetime import UTC, datetime, timedelta

from chalicelib import pdf
from chalicelib.models import Address
from chalicelib.models.invoices import (
    REVERSE_CHARGE_TEXT,
    InvoiceBuyer,
    InvoiceLine,
    InvoicePrepayment,
    InvoiceRecord,
    Seller,
    document_lines,
    is_overdue,
    number_of,
    pay,
    reminder_due,
)
from tests.invoice_support import check_pdf

ISSUED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def invoice(**changes) -> InvoiceRecord:
    base = InvoiceRecord(
        id="inv_1", number=number_of(2026, 7), year=2026, sequence=7, order_id="ord_1", currency="EUR",
        seller=Seller(name="Demo Shop", address=["1 Rue de la Paix", "75002 Paris"], vat_id="FR40303265045"),
        buyer=InvoiceBuyer(company_id="co_1", name="ACME GmbH", vat_id="DE123456789", email="buyer@acme.example",
                    address=Address(name="ACME GmbH", line1="Hauptstr. 1", city="Berlin", postal_code="10115",
                                    country="DE")),
        lines=[InvoiceLine(sku="TEE-M", title="T-shirt (M)", quantity=3, unit_price=1200, line_total=3600)],
        subtotal=3600, shipping_total=500, tax_total=0, total=4100, reverse_charge=True, issued_at=ISSUED,
        due_at=ISSUED + timedelta(days=30))
    return base.model_copy(update=changes)


def test_the_pdf_has_a_valid_structure_and_shows_every_line_of_text():
    document = pdf.render(["Hello (world) \\ back", ("Bold €", 10, True)], title="T")
    parsed = check_pdf(document)
    assert parsed["pages"] == 1
    assert "Hello (world) \\ back" in parsed["text"] and "Bold €" in parsed["text"]


def test_a_long_document_continues_on_further_pages():
    lines = [f"line {n}" for n in range(130)]
    parsed = check_pdf(pdf.render(lines))
    assert parsed["pages"] == 3
    assert "line 0" in parsed["text"] and "line 129" in parsed["text"]


def test_rendering_is_deterministic():
    assert pdf.render(document_lines(invoice())) == pdf.render(document_lines(invoice()))


def test_an_invoice_shows_its_number_parties_vat_ids_lines_tax_and_due_date():
    text = check_pdf(pdf.render(document_lines(invoice())))["text"]
    for expected in ("INVOICE 2026-000007", "Demo Shop", "VAT ID: FR40303265045", "ACME GmbH",
                     "VAT ID: DE123456789", "TEE-M", "T-shirt (M)", "36.00 EUR", "Tax: 0.00 EUR",
                     "Total due: 41.00 EUR", "Due date: 2026-03-31", REVERSE_CHARGE_TEXT):
        assert expected in text, expected


def test_the_reverse_charge_text_appears_only_when_the_order_has_reverse_charge():
    text = check_pdf(pdf.render(document_lines(invoice(reverse_charge=False, tax_total=779))))["text"]
    assert "Reverse charge" not in text and "Tax: 7.79 EUR" in text


def test_an_open_invoice_is_overdue_after_its_due_date_and_reminded_once_per_period():
    record = invoice()
    due = record.due_at
    assert not is_overdue(record, due) and is_overdue(record, due + timedelta(seconds=1))
    assert not is_overdue(record, due + timedelta(days=10), grace_days=14)
    assert reminder_due(record, due + timedelta(hours=1), every_days=7)
    reminded = record.model_copy(update={"reminded_at": due + timedelta(hours=1), "reminders": 1})
    assert not reminder_due(reminded, due + timedelta(days=3), every_days=7)
    assert reminder_due(reminded, due + timedelta(days=8), every_days=7)


def test_paying_twice_changes_nothing_the_second_time():
    paid = pay(invoice(), ISSUED, "admin")
    assert paid.status == "paid" and paid.paid_at == ISSUED
    assert pay(paid, ISSUED + timedelta(days=1), "admin") is None
    assert not is_overdue(paid, ISSUED + timedelta(days=90))


def test_money_on_the_invoice_has_the_currency_s_decimals_jpy_none_eur_two_kwd_three():
    jpy = invoice(currency="JPY", lines=[InvoiceLine(sku="TEE-M", title="T-shirt (M)", quantity=3, unit_price=1200,
                                                     line_total=3600)],
                  subtotal=3600, shipping_total=500, tax_total=410, total=4510, reverse_charge=False)
    text = check_pdf(pdf.render(document_lines(jpy)))["text"]
    for expected in ("1,200 JPY   3,600 JPY", "Subtotal: 3,600 JPY", "Shipping: 500 JPY", "Tax: 410 JPY",
                     "Total due: 4,510 JPY"):
        assert expected in text, expected
    assert "36.00" not in text and "45.10" not in text  # not divided by 100
    text = check_pdf(pdf.render(document_lines(invoice(total=123456))))["text"]
    assert "12.00 EUR   36.00 EUR" in text and "Total due: 1,234.56 EUR" in text
    text = check_pdf(pdf.render(document_lines(invoice(currency="KWD", total=41005))))["text"]
    assert "Subtotal: 3.600 KWD" in text and "Total due: 41.005 KWD" in text


def test_an_invoice_shows_what_gift_cards_and_store_credit_paid_and_asks_for_the_rest():
    partly = invoice(total=1100, prepaid=[InvoicePrepayment(method="gift_card", amount=2000, last4="AB12"),
                                          InvoicePrepayment(method="store_credit", amount=1000)])
    assert partly.order_total == 4100
    text = check_pdf(pdf.render(document_lines(partly)))["text"]
    for expected in ("Order total: 41.00 EUR", "Paid by gift card ending AB12: -20.00 EUR",
                     "Paid by store credit: -10.00 EUR", "Total due: 11.00 EUR"):
        assert expected in text, expected
    assert "Order total" not in check_pdf(pdf.render(document_lines(invoice())))["text"]
