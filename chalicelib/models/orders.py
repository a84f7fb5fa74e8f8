"""The order model and its state machine: pure rules, no I/O.

States only move forward (openapi.json, the Order schema): `pending_payment` → `paid`; `pending_payment` → `cancelled`;
`paid` → `cancelled` (by the shop, with a refund); any → `needs_review`. Payment events may arrive
late, twice or in any order; `apply_payment_event` turns one into the order's next state, or None
when it changes nothing.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import Field, create_model

from chalicelib.models import Address, CartLine, Record
from chalicelib.models.base import Model
from chalicelib.models.invoices import InvoiceRef
from chalicelib.models.kept import Keyed
from chalicelib.models.stock import spread

OrderStatus = Literal["pending_payment", "paid", "cancelled", "needs_review"]
PaymentStatus = Literal["pending", "paid", "partially_refunded", "refunded", "failed", "invoiced"]
FulfilmentStatus = Literal["unfulfilled", "requested", "partially_shipped", "shipped"]


class ShipmentLine(Model):
    sku: str
    quantity: int


class Shipment(Model):
    id: str
    carrier: str
    tracking_number: str
    lines: list[ShipmentLine]
    created_at: datetime


class Refund(Model):
    id: str
    amount: int
    status: Literal["pending", "succeeded", "failed"]
    reason: str | None = None
    provider_refund_id: str | None = None
    created_at: datetime


class DuplicatePayment(Model):
    """A second payment the provider took for an order that was already paid: refunded automatically."""

    payment_id: str
    amount: int
    currency: str
    refund_id: str | None = None
    at: datetime


class PaymentRef(Model):
    provider: str
    payment_id: str | None = None
    client_secret: str | None = None
    status: str | None = None


class PaymentPart(Model):
    """One part of what pays an order (API.md: Order `payments`)."""

    method: Literal["stripe", "gift_card", "store_credit", "invoice"]
    amount: int
    last4: str | None = None  # a gift card's


class Tender(Model):
    """A balance an order spends at checkout (a gift card or store credit): which, and how much."""

    method: Literal["gift_card", "store_credit"]
    amount: int
    gift_card_id: str | None = None
    last4: str | None = None
    customer_id: str | None = None  # whose store credit


class OrderRecord(Record):
    """An order as stored; `Order` is what the storefront and the shop see of it."""

    id: str
    cart_id: str
    token: str
    checkout_key: Keyed | None = None  # the Idempotency-Key of the checkout that placed it (models/kept.py)
    status: OrderStatus = "pending_payment"
    payment_status: PaymentStatus = "pending"
    fulfilment_status: FulfilmentStatus = "unfulfilled"
    currency: str
    email: str
    customer_id: str | None = None  # customer_id_for(email), or the signed-in customer's; None once erased
    company_id: str | None = None  # the company of the buyer who placed it (B2B: models/companies.py)
    reverse_charge: bool = False  # an intra-EU B2B sale: tax 0, the buyer accounts for the VAT
    lines: list[CartLine]
    shipping_address: Address
    shipping_method: str
    subtotal: int
    discount_total: int = 0
    discount_code: str | None = None
    discount_per_customer: bool = False
    recovered: bool = False  # bought from a cart restored by an abandoned-cart reminder
    shipping_total: int
    tax_total: int
    total: int
    amount_paid: int = 0  # everything paid: the provider's part and the gift cards' and store credit's
    amount_refunded: int = 0
    # What the provider is asked for: the total less `tenders` (None: an order from before them, the total).
    amount_due: int | None = None
    payments: list[PaymentPart] = Field(default_factory=list)
    tenders: list[Tender] = Field(default_factory=list)
    balances_returned: bool = False  # the tenders went back to their balances (a cancelled unpaid order)
    refunded_to_balances: int = 0  # of amount_refunded, what went back to gift cards and store credit
    shipments: list[Shipment] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)
    # What returns settled as store credit or as an exchange took of what was paid (services/orders.credit_once):
    # not money back to the customer, so not in amount_refunded, but no longer refundable. A failed one is void.
    # A negative one gives back part of an exchange's credit: its goods were returned in turn (release_credit_once).
    credits: list[Refund] = Field(default_factory=list)
    duplicate_payments: list[DuplicatePayment] = Field(default_factory=list)
    payment: PaymentRef | None = None
    paid_by: str | None = None  # the provider's id of the payment recorded in amount_paid
    # Paid by invoice (services/invoices.py): status `paid` (fulfilment proceeds), payment_status `invoiced`
    # until the invoice is marked paid.
    invoice: InvoiceRef | None = None
    quote_id: str | None = None  # placed by accepting this quote (models/quotes.py), at its prices
    review_reason: str | None = None
    cancel_reason: str | None = None
    stock_released: bool = False
    # Where a sharded SKU's units were reserved: sku -> [(shard, quantity)] (models/stock.py). A SKU
    # not listed was reserved on its one item.
    stock_shards: dict[str, list[tuple[int, int]]] = Field(default_factory=dict)
    # Units per SKU in returns (models/returns.py), raised conditionally by the transaction that creates a
    # return; None (absent) until the order's first return.
    returned: dict[str, int] | None = None
    # The status of the order's most recently changed return (None: no return).
    return_status: Literal["requested", "approved", "rejected", "received", "refunded"] | None = None
    exchange_of: str | None = None  # the return this order settles as an exchange
    correlation_id: str | None = None  # of the last request that changed it (carried into queue messages)
    created_at: datetime
    paid_at: datetime | None = None
    payment_deadline: datetime
    cancelled_at: datetime | None = None
    version: int = 0

    @property
    def tendered(self) -> int:
        """What gift cards and store credit pay."""
        return sum(t.amount for t in self.tenders)

    @property
    def due(self) -> int:
        """What the provider is asked for."""
        return self.total if self.amount_due is None else self.amount_due

    @property
    def holds_discount_use(self) -> bool:
        """A use of its discount code is counted for this order and goes back if it is never paid."""
        return bool(self.discount_code) and not self.amount_paid


# What of a stored order only the backend sees.
PRIVATE_FIELDS = {"cart_id", "token", "checkout_key", "discount_per_customer", "recovered", "payment", "stock_released",
                  "tenders", "balances_returned", "refunded_to_balances",
                  "stock_shards", "returned", "exchange_of",
                  "correlation_id", "version", "paid_by"}


class _OrderView(Model):
    @classmethod
    def from_record(cls, record: OrderRecord) -> "Order":
        # Read from the record's attributes: no dump of the record to a dict first (5× faster).
        return cls.model_validate(record, from_attributes=True)


# The order as the storefront and the shop see it: OrderRecord's fields but the private ones, all
# of them present in every answer (no defaults).
Order = create_model(
    "Order", __base__=_OrderView, __module__=__name__,
    **{name: (field.annotation, ...) for name, field in OrderRecord.model_fields.items() if name not in PRIVATE_FIELDS})
Order.__doc__ = "An order as the storefront and the shop see it (never its token)."


# Why an order was cancelled for want of payment (not by the shop): a late payment may take it up again.
EXPIRED = "not paid before the deadline"
PAYMENT_CANCELLED = "payment cancelled"


@dataclass(frozen=True)
class Transition:
    """What applying an event does: the new order, and whether stock must move with it."""

    order: OrderRecord
    release_stock: bool = False    # give the order's reserved stock back
    reserve_stock: bool = False    # take stock again (a late payment for an expired order)
    refund_amount: int = 0         # refund this much through the provider (goods are gone)
    refund_duplicate: int = 0      # refund this second payment whole; the order's own money is untouched


def refunded_status(amount_paid: int, amount_refunded: int) -> PaymentStatus:
    if amount_refunded <= 0:
        return "paid"
    return "refunded" if amount_refunded >= amount_paid else "partially_refunded"


def apply_payment_event(order: OrderRecord, kind: str, amount: int | None, currency: str | None,
                        amount_refunded: int | None, now: datetime, stock_available: bool = True,
                        payment_id: str | None = None) -> Transition | None:
    """The order after a provider-neutral payment event, or None if the event changes nothing
    (a duplicate, or one that arrives after the order moved past it). `stock_available` says
    whether a late payment for a cancelled order could re-reserve its lines. `payment_id` tells a
    second payment for a paid order (refunded whole) from the order's own payment."""
    currency = (currency or "").upper() or None
    duplicates = {d.payment_id for d in order.duplicate_payments}
    if kind == "payment_succeeded":
        if order.amount_paid:
            own = order.paid_by or (order.payment.payment_id if order.payment else None)
            if payment_id and own and payment_id != own and payment_id not in duplicates:
                # The customer paid twice (a second PaymentIntent for the same order): give it back.
                duplicate = DuplicatePayment(payment_id=payment_id, amount=amount or 0,
                                             currency=currency or order.currency, at=now)
                return Transition(order.model_copy(update={"duplicate_payments": [*order.duplicate_payments,
                                                                                  duplicate]}),
                                  refund_duplicate=amount or 0)
            return None  # already recorded: a duplicate, or another event for the same money
        # Balances given back when the order was cancelled unpaid no longer pay it: only the payment is paid.
        paid_total = (amount or 0) + (0 if order.balances_returned else order.tendered)
        paid = {"amount_paid": paid_total, "paid_at": now, "paid_by": payment_id,
                "payment_status": refunded_status(paid_total, order.amount_refunded)}
        matches = amount == order.due and currency == order.currency
        if order.status == "pending_payment":
            if matches:
                return Transition(order.model_copy(update=paid | {"status": "paid"}))
            return Transition(order.model_copy(update=paid | {
                "status": "needs_review",
                "review_reason": f"Payment of {amount} {currency} does not match the amount due "
                                 f"{order.due} {order.currency}."}))
        if order.status == "cancelled" and order.stock_released:
            # Balances it spent went back when it was cancelled: the payment alone no longer covers it. An
            # order the shop cancelled stays cancelled.
            if (matches and stock_available and not order.balances_returned
                    and order.cancel_reason in (EXPIRED, PAYMENT_CANCELLED)):
                return Transition(order.model_copy(update=paid | {"status": "paid", "stock_released": False,
                                                                  "cancelled_at": None, "cancel_reason": None}),
                                  reserve_stock=True)
            # The goods are gone (or the amount is wrong): the customer gets the money back.
            return Transition(order.model_copy(update=paid | {"cancel_reason": "paid after expiry; refunded"}),
                              refund_amount=amount or 0)
        # needs_review or cancelled with stock still held: record the money, a person decides.
        return Transition(order.model_copy(update=paid | {
            "status": "needs_review", "review_reason": "Payment arrived for an order in state " + order.status}))
    if kind == "payment_failed":
        if order.status == "pending_payment" and order.payment_status == "pending":
            return Transition(order.model_copy(update={"payment_status": "failed"}))
        return None
    if kind == "payment_canceled":
        if order.status == "pending_payment":
            return Transition(order.model_copy(update={
                "status": "cancelled", "cancelled_at": now, "cancel_reason": PAYMENT_CANCELLED,
                "stock_released": True}), release_stock=True)
        return None
    if kind == "refunded":
        if payment_id and payment_id in duplicates:
            return None  # the refund of a duplicate payment: not the order's money
        # The provider counts its own refunds; those to gift cards and store credit are ours.
        total_refunded = max(order.amount_refunded, (amount_refunded or 0) + order.refunded_to_balances)
        if total_refunded == order.amount_refunded:
            return None
        # Never more than was paid (or, before the payment is recorded, than the order's total) less what returns
        # gave back as store credit or exchanges (`credits`), and in the order's currency: a provider event that
        # says otherwise is held for a person, never recorded as is.
        ceiling = (order.amount_paid or order.total) - sum(c.amount for c in order.credits if c.status == "succeeded")
        if total_refunded > ceiling or (currency and currency != order.currency):
            reason = (f"The provider reports {total_refunded} {currency or order.currency} refunded, but "
                      f"{ceiling} {order.currency} can be"
                      + (" (the rest was given back by returns as store credit or exchanges)." if order.credits
                         else "."))
            if order.status == "needs_review" and order.review_reason == reason:
                return None
            return Transition(order.model_copy(update={"status": "needs_review", "review_reason": reason}))
        update = {"amount_refunded": total_refunded}
        if order.amount_paid:
            update["payment_status"] = refunded_status(order.amount_paid, total_refunded)
        return Transition(order.model_copy(update=update))
    return None


def provider_event_kind(status: str) -> str | None:
    """What a payment's state at the provider means for its order, when asked instead of told
    (reconciliation): the event kind its webhook would have carried, or None while it is undecided."""
    return {"succeeded": "payment_succeeded", "canceled": "payment_canceled"}.get(status)


def expire(order: OrderRecord, now: datetime) -> Transition | None:
    """Cancel an unpaid order past its payment deadline and release its stock."""
    if order.status != "pending_payment" or order.payment_deadline > now:
        return None
    return Transition(order.model_copy(update={"status": "cancelled", "cancelled_at": now,
                                               "cancel_reason": EXPIRED,
                                               "stock_released": True}), release_stock=True)


def quantities(order: OrderRecord) -> dict[str, int]:
    """Quantity per SKU of the order's goods: every line but gift cards (a free line may share its
    SKU). This is what reserves, releases and ships stock; a gift-card line has none: its cards are
    issued when the order is paid (services/gift_cards.py) and their email is their delivery."""
    per_sku: dict[str, int] = {}
    for line in order.lines:
        if line.gift_card is None:
            per_sku[line.sku] = per_sku.get(line.sku, 0) + line.quantity
    return per_sku


def ships_goods(order: OrderRecord) -> bool:
    """Whether the order has anything to ship (an order of gift cards only has not)."""
    return any(line.gift_card is None for line in order.lines)


StockMove = tuple[str, int, str, int | None]  # sku, quantity, kind, shard (None: the SKU's one item)


def stock_moves(order: OrderRecord, kind: str, wanted: dict[str, int] | None = None) -> list[StockMove]:
    """The stock moves (sku, quantity, kind, shard) of `wanted` (sku -> quantity; all the order's
    lines when None): "reserve", "release" or "ship". A sharded SKU moves on the shards the order
    reserved from, past what its shipments took from them already (each shipment takes the next units)."""
    shipped = shipped_units(order)
    moves = []
    for sku, quantity in (quantities(order) if wanted is None else wanted).items():
        if sku in order.stock_shards:
            moves += [(sku, part, kind, shard)
                      for shard, part in spread(order.stock_shards[sku], quantity, shipped.get(sku, 0))]
        else:
            moves.append((sku, quantity, kind, None))
    return moves


def shipped_units(order: OrderRecord) -> dict[str, int]:
    """Quantity per SKU shipped so far."""
    shipped: dict[str, int] = {}
    for shipment in order.shipments:
        for line in shipment.lines:
            shipped[line.sku] = shipped.get(line.sku, 0) + line.quantity
    return shipped


def unshipped(order: OrderRecord) -> dict[str, int]:
    """Quantity per SKU still to ship."""
    left = quantities(order)
    for sku, quantity in shipped_units(order).items():
        left[sku] -= quantity
    return {sku: quantity for sku, quantity in left.items() if quantity > 0}


def refundable(order: OrderRecord) -> int:
    """What can still be refunded: paid minus every refund not known to have failed, minus what the provider
    reports refunded beyond our own refunds (one made in its dashboard, or of a payment that came after expiry:
    only `amount_refunded` knows it), and minus what returns settled as store credit or exchanges took
    (`credits`)."""
    succeeded = sum(r.amount for r in order.refunds if r.status == "succeeded")
    elsewhere = max(order.amount_refunded - succeeded, 0)
    return (order.amount_paid - sum(r.amount for r in order.refunds if r.status != "failed") - elsewhere
            - sum(c.amount for c in order.credits if c.status == "succeeded"))


def settle_refund(order: OrderRecord, refund_id: str, status: str, provider_refund_id: str | None) -> OrderRecord:
    """The order with a pending refund settled; amount_refunded never goes down (webhooks may have
    counted the same money already)."""
    refunds = [r.model_copy(update={"status": status, "provider_refund_id": provider_refund_id})
               if r.id == refund_id else r for r in order.refunds]
    succeeded = sum(r.amount for r in refunds if r.status == "succeeded")
    refunded = max(order.amount_refunded, succeeded)
    return order.model_copy(update={"refunds": refunds, "amount_refunded": refunded,
                                    "payment_status": refunded_status(order.amount_paid, refunded)})


def balance_share(order: OrderRecord, amount: int, balances_first: bool) -> int:
    """How much of a refund of `amount` goes back to the gift cards and store credit the order spent:
    as much as is left of them first (`balances_first`), else only what the provider's part cannot take."""
    balances_left = max(order.tendered - order.refunded_to_balances, 0)
    provider_left = refundable(order) - balances_left
    share = min(amount, balances_left) if balances_first else max(amount - provider_left, 0)
    return min(share, balances_left)
