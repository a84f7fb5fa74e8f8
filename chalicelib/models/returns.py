"""Returns (RMA): the return model and its pure rules, no I/O.

A return moves `requested` → `approved` | `rejected`; `approved` → `received` (per line restocked or
written off) → `refunded`; an approved return may also be refunded before the goods arrive (the shop's
choice). What a customer may return is what was shipped and not returned yet, per SKU: the order keeps
its returned counts (`OrderRecord.returned`), raised in the transaction that creates the return.
"""

from datetime import datetime, timedelta
from typing import Literal

from chalicelib.models import Record, round_half_up
from chalicelib.models.base import Model
from chalicelib.models.orders import OrderRecord, shipped_units

ReturnStatus = Literal["requested", "approved", "rejected", "received", "refunded"]
ReturnReason = Literal["damaged", "wrong_item", "not_as_described", "no_longer_needed", "size_or_fit", "other"]
RefundMethod = Literal["original", "store_credit", "exchange"]
# Where a return may still be settled (refunded, credited or exchanged).
SETTLEABLE = ("approved", "received")


class ReturnLine(Model):
    sku: str
    quantity: int
    reason: ReturnReason
    received: int | None = None   # units that arrived (receive)
    restock: bool | None = None   # put back in stock (True) or written off (False)


class ReturnRefund(Model):
    method: RefundMethod
    amount: int
    order_id: str | None = None  # the exchange order


class Settling(Model):
    """A settlement claimed on a return and not finished yet: the claim makes it happen once; `refund_id` is
    the idempotency key of its money movement, so resuming it never moves the money twice."""

    method: RefundMethod
    amount: int
    refund_id: str
    claimed_at: datetime


class ReturnRecord(Record):
    """A return as stored; `Return` is what the customer and the shop see of it."""

    id: str
    number: str | None = None  # given on approval: R-<year>-<nnnnnn>
    order_id: str
    order_token: str             # for the order page link in the customer's emails
    email: str
    customer_id: str | None = None
    currency: str
    status: ReturnStatus = "requested"
    lines: list[ReturnLine]
    comment: str | None = None
    message: str | None = None   # the shop's message on approval or rejection
    refund: ReturnRefund | None = None
    settling: Settling | None = None
    listed_at: str | None = None  # created_at to the microsecond: the list order (repository/returns.py)
    owed_back: int = 0  # an exchange worth less than the return: refunded to the original payment
    # An exchange dearer than the return: what its order (refund.order_id) charges, and that order's token, for the
    # pay link in the settled email.
    exchange_due: int = 0
    exchange_token: str | None = None
    # Its order settles another return as an exchange (services/returns.py `_from_exchanged`); None on a return
    # written before this was recorded: its order is read to know.
    of_exchange: bool | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 0


class Return(Model):
    """A return as the customer and the shop see it."""

    id: str
    number: str | None
    order_id: str
    currency: str  # of the order, and so of the refund
    status: ReturnStatus
    lines: list[ReturnLine]
    comment: str | None
    message: str | None
    refund: ReturnRefund | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: ReturnRecord) -> "Return":
        return cls.model_validate(record.model_dump(include=set(cls.model_fields)))


def returnable(order: OrderRecord) -> dict[str, int]:
    """Units per SKU that can still be returned: shipped and not yet in a return (a rejected return
    gives its units back)."""
    returned = order.returned or {}
    return {sku: left for sku, units in shipped_units(order).items() if (left := units - returned.get(sku, 0)) > 0}


def window_closes(order: OrderRecord, days: int) -> datetime | None:
    """When the return window closes: `days` after the last shipment; None before anything shipped."""
    if not order.shipments:
        return None
    return max(s.created_at for s in order.shipments) + timedelta(days=days)


def unit_value(order: OrderRecord, sku: str) -> int:
    """What one unit of `sku` cost the customer, in minor units: what its lines cost, with the order's discount
    and the goods' tax spread over the goods in proportion (shipping is not refunded), over all its units, the free ones
    a promotion added too (a bought unit and a free one of the same SKU are worth half the price each, as
    Shopify's discounted unit price: returning one never gives back the whole price); 0 for a free line."""
    lines = [line for line in order.lines if line.sku == sku and line.gift_card is None]
    units = sum(line.quantity for line in lines)
    if not units or not order.subtotal:
        return 0
    return sum(line.line_total for line in lines) * goods_paid(order) // (order.subtotal * units)


def goods_paid(order: OrderRecord) -> int:
    """What the order's goods cost the customer: its total less the shipping and the shipping's share of the
    tax (tax is charged on the goods after the discount plus the shipping). An exchange order's goods cost what
    the return it settles covered (its `discount_total`: it has no code) and what it charged beyond."""
    covered = order.discount_total if order.exchange_of else 0
    taxable = order.subtotal - (order.discount_total - covered) + order.shipping_total
    shipping_tax = round_half_up(order.tax_total * order.shipping_total, taxable) if taxable > 0 else 0
    return max(order.total + covered - order.shipping_total - shipping_tax, 0)


def value(order: OrderRecord, units: dict[str, int]) -> int:
    """What `units` (sku -> quantity) of the order are worth to the customer (see unit_value)."""
    return sum(unit_value(order, sku) * quantity for sku, quantity in units.items())


def settled_units(record: ReturnRecord) -> dict[str, int]:
    """The units a return is settled for: what was received when it was received, else what was asked."""
    units: dict[str, int] = {}
    for line in record.lines:
        quantity = line.received if line.received is not None else line.quantity
        units[line.sku] = units.get(line.sku, 0) + quantity
    return {sku: quantity for sku, quantity in units.items() if quantity > 0}
