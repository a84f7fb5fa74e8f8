"""The B2B documents' emails (services/emails.py dispatches to this module): the invoice and its reminders
to the buyer, with the invoice's PDF rendered from the event (the same document as the one stored in S3);
a quote request to the shop (SHOP_EMAIL) and the shop's answer to the buyer."""

from chalicelib import config, pdf
from chalicelib.models.invoices import InvoiceRecord, document_lines
from chalicelib.services.emails import Email, _templates


def render(event: dict, template: str, subject: str) -> Email | None:
    """The email for an Invoice* or Quote* event; None for a quote answer without a buyer email."""
    settings = config.settings()
    context = {"shop_name": settings.shop_name, "storefront_url": settings.storefront_url}
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    if "invoice" in event["data"]:
        invoice = event["data"]["invoice"]
        record = InvoiceRecord.model_validate(invoice)
        document = pdf.render(document_lines(record), title=f"Invoice {record.number}")
        attachments = ((f"invoice-{record.number}.pdf", document, "application/pdf"),)
        context |= {"invoice": invoice, "currency": invoice["currency"]}
        to, subject = invoice["buyer"]["email"], subject.format(shop=settings.shop_name, number=record.number)
    else:
        quote = event["data"]["quote"]
        context |= {"quote": quote, "currency": quote["currency"]}
        to = settings.shop_email if event["type"] == "QuoteRequested" else quote.get("email")
        if not to:
            return None
        subject = subject.format(shop=settings.shop_name, quote=quote["id"])
    environment = _templates()
    return Email(to=to, subject=subject, html=environment.get_template(f"{template}.html").render(context),
                 text=environment.get_template(f"{template}.txt").render(context), attachments=attachments)
