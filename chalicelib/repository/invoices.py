"""Invoices, their yearly number counters and the companies' open credit per currency.

| pattern                               | key or index                                       |
| ------------------------------------- | -------------------------------------------------- |
| invoice by id                         | PK=INVOICE#<id>, SK=INVOICE                        |
| the year's last invoice number        | PK=INVOICE_NUMBERS, SK=<year> (`last`)             |
| a company's open credit in a currency | PK=CREDIT#<company id>, SK=<currency> (`used`)     |
| invoices by status, oldest due first  | GSI2: INVOICES#<status>, <due_at>#<id>             |
| a company's open invoices by due date | GSI1: COMPANY_INVOICES#<company id>#<status>,      |
|                                       | <due_at>#<id>                                      |
| invoice by number (bank transfers)    | GSI3: INVOICE_NUMBER#<number>, <id>                |

Issuing is three pieces of the checkout transaction (orders.place): the invoice, the year's counter
moved from the number read to the next (conditioned on it: a concurrent checkout that took the number
makes this one read again and retry; a cancelled transaction takes none, so numbers have no gaps) and
the company's open credit raised by the total, conditioned on staying within the limit.
"""

from collections.abc import Iterator

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.errors import CreditLimitExceeded
from chalicelib.models.invoices import InvoiceRecord
from chalicelib.repository import dynamo

NUMBERS_PK = "INVOICE_NUMBERS"


def invoice_key(invoice_id: str) -> dict:
    return {"PK": f"INVOICE#{invoice_id}", "SK": "INVOICE"}


def counter_key(year: int) -> dict:
    return {"PK": NUMBERS_PK, "SK": str(year)}


def credit_key(company_id: str, currency: str) -> dict:
    return {"PK": f"CREDIT#{company_id}", "SK": currency}


def _item(invoice: InvoiceRecord) -> dict:
    stamp = f"{iso(invoice.due_at)}#{invoice.id}"
    return (invoice_key(invoice.id) | invoice.model_dump(mode="json")
            | {"GSI1PK": f"COMPANY_INVOICES#{invoice.buyer.company_id}#{invoice.status}", "GSI1SK": stamp,
               "GSI2PK": f"INVOICES#{invoice.status}", "GSI2SK": stamp,
               "GSI3PK": f"INVOICE_NUMBER#{invoice.number}", "GSI3SK": invoice.id})


def get(invoice_id: str) -> InvoiceRecord | None:
    item = dynamo.get(invoice_key(invoice_id))
    return InvoiceRecord.model_validate(item) if item else None


def find_by_number(number: str) -> InvoiceRecord | None:
    """The invoice with this number (one Query on GSI3, eventually consistent)."""
    items, _ = dynamo.query_page("GSI3", "GSI3PK", f"INVOICE_NUMBER#{number}", 1, None)
    return InvoiceRecord.model_validate(items[0]) if items else None


def last_number(year: int) -> int:
    """The last sequence number issued in `year` (0 before the first)."""
    item = dynamo.get(counter_key(year))
    return int(item["last"]) if item else 0


def open_credit(company_id: str, currency: str) -> int:
    item = dynamo.get(credit_key(company_id, currency))
    return int(item.get("used", 0)) if item else 0


def issue(invoice: InvoiceRecord, credit_limit: int) -> list[dynamo.Piece]:
    """The pieces that issue `invoice` in the transaction that places its order: "invoice",
    "invoice_number" (the year's counter from sequence - 1 to sequence) and "credit_limit" (the company's
    open credit + total, only while it stays within `credit_limit`; not "credit", the name of a store-credit
    spend in the same transaction). Raises CreditLimitExceeded at once
    when the total alone is over the limit."""
    room = credit_limit - invoice.total
    if room < 0:
        raise CreditLimitExceeded("The order is larger than the company's credit limit.", param="payment_method")
    previous = invoice.sequence - 1
    counter = (dynamo.update("invoice_number", counter_key(invoice.year), "SET #last = :next",
                             "attribute_not_exists(#last)", {"#last": "last"}, next=invoice.sequence)
               if previous == 0 else
               dynamo.update("invoice_number", counter_key(invoice.year), "SET #last = :next", "#last = :previous",
                             {"#last": "last"}, next=invoice.sequence, previous=previous))
    credit = dynamo.update("credit_limit", credit_key(invoice.buyer.company_id, invoice.currency), "ADD used :amount",
                           "attribute_not_exists(used) OR used <= :room", amount=invoice.total, room=room)
    return [dynamo.put("invoice", _item(invoice), "attribute_not_exists(PK)"), counter, credit]


def settle(before: InvoiceRecord, after: InvoiceRecord) -> bool:
    """Record the payment of an open invoice, give its total back to the company's open credit and
    mark its order paid (`amount_paid`: the invoice's total and what gift cards and store credit paid at
    checkout), in one transaction conditioned on the invoice's version: the credit is freed once however
    often it is marked paid. Returns False when the invoice moved on meanwhile."""
    from chalicelib.repository.orders import order_key  # orders imports this module (issue)

    saved = after.model_copy(update={"version": before.version + 1})
    pieces = [
        dynamo.put("invoice", _item(saved), "version = :version", version=before.version),
        dynamo.update("credit", credit_key(before.buyer.company_id, before.currency), "ADD used :minus",
                      "used >= :amount", minus=-before.total, amount=before.total),
        dynamo.update("order", order_key(before.order_id),
                      "SET payment_status = :paid, amount_paid = :total, paid_at = :at, version = version + :one",
                      "attribute_exists(PK)", paid="paid", total=before.order_total, at=iso(after.paid_at), one=1),
    ]
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("invoice") or cancelled.conflict:
            return False
        raise
    return True


def void(before: InvoiceRecord, after: InvoiceRecord) -> bool:
    """Void an open invoice and give its total back to the company's open credit, in one transaction on the
    invoice's version (freed once). Returns False when the invoice moved on meanwhile."""
    saved = after.model_copy(update={"version": before.version + 1})
    pieces = [
        dynamo.put("invoice", _item(saved), "version = :version", version=before.version),
        dynamo.update("credit", credit_key(before.buyer.company_id, before.currency), "ADD used :minus",
                      "used >= :amount", minus=-before.total, amount=before.total),
    ]
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("invoice") or cancelled.conflict:
            return False
        raise
    return True


def record_reminder(invoice: InvoiceRecord, at: str) -> bool:
    """Note that a reminder for the invoice went out (the stream turns it into the email). Conditioned on
    the version read: False when a concurrent run or its payment got there first."""
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(invoice_key(invoice.id)),
                    UpdateExpression="SET reminded_at = :at, reminders = reminders + :one, version = version + :one",
                    ConditionExpression="version = :version AND #status = :open",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(at=at, one=1, version=invoice.version, open="open"))
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


def each_open_due_before(cutoff: str, page: int = 100) -> Iterator[InvoiceRecord]:
    """Open invoices due before `cutoff` (ISO), oldest due first (GSI2's INVOICES#open partition: its
    size is the number of open invoices, not of all invoices)."""
    items = dynamo.query_all("GSI2", "GSI2PK", "INVOICES#open", page, sk_condition=" AND #sk < :cutoff", cutoff=cutoff)
    return map(InvoiceRecord.model_validate, items)


def has_open_due_before(company_id: str, cutoff: str) -> bool:
    """Whether the company has an open invoice due before `cutoff` (one Query, Limit 1)."""
    items, _ = dynamo.query_page("GSI1", "GSI1PK", f"COMPANY_INVOICES#{company_id}#open", 1, None,
                                 sk_condition=" AND #sk < :cutoff", cutoff=cutoff)
    return bool(items)


def list_by_status(status: str, limit: int, cursor: str | None) -> tuple[list[InvoiceRecord], str | None]:
    """Invoices of one status, oldest due date first."""
    items, next_cursor = dynamo.query_page("GSI2", "GSI2PK", f"INVOICES#{status}", limit, cursor)
    return [InvoiceRecord.model_validate(item) for item in items], next_cursor
