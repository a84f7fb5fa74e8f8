"""Checkout: turn an open cart into exactly one order with its stock reserved, then make sure the
order has a payment with the provider.

One order per cart: the checkout transaction is conditioned on the cart being open at the version
read, so double clicks, retries and concurrent requests converge on one order; whoever loses reads
the winner's. The order is written once, already carrying its payment: its id is derived from the
cart and the version read, the PaymentIntent is created first under an idempotency key derived from
that id and the amount, then the transaction writes the order with it. A retry at the same version
finds the same PaymentIntent. If the transaction fails after the PaymentIntent exists, nothing refers
to it and its client secret was never handed out, so nobody can confirm it: no money can be taken on
it (an order is never written without its payment, so the expiry always asks the provider, and
cancels there, before it cancels an order).
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from chalicelib import clock, config, payments
from chalicelib.errors import (
    DISCOUNT_REFUSALS,
    CartChanged,
    CartCheckedOut,
    GiftCardInsufficient,
    InvalidRequest,
    OutOfStock,
    PriceChanged,
    QuoteCartChanged,
    StockShort,
    StoreCreditInsufficient,
    not_found,
)
from chalicelib.models import Cart, CartRecord, DiscountRecord, SkuRecord
from chalicelib.models.companies import B2BTerms, PurchaseRequest
from chalicelib.models.customers import MarketingConsent, customer_id_for
from chalicelib.models.kept import Keyed, find, key_reused
from chalicelib.models.orders import Order, OrderRecord, PaymentRef, quantities
from chalicelib.models.pricing import price_cart
from chalicelib.models.quotes import QuoteRecord, matches_cart
from chalicelib.models.stock import Plan, plan_reservation
from chalicelib.repository import carts, catalog, customers, orders
from chalicelib.retry import retried
from chalicelib.services import invoices, price_lists, purchase_requests, tenders

PROVIDER = "stripe"


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    order_token: str
    payment: dict | None
    created: bool
    replayed: bool = False  # the answer to a retry of the checkout (same Idempotency-Key) that placed the order

    def to_json(self) -> dict:
        return {"order": self.order.model_dump(mode="json"), **self._rest()}

    def to_text(self) -> str:
        """to_json() as JSON text, the order serialised once, by pydantic (not to a dict, then by json.dumps)."""
        return f'{{"order":{self.order.model_dump_json()},{json.dumps(self._rest(), separators=(",", ":"))[1:]}'

    def _rest(self) -> dict:
        return {"order_token": self.order_token, "payment": self.payment}


def _require(record: CartRecord) -> None:
    if not record.lines:
        raise InvalidRequest("The cart is empty.", param="lines")
    for name in ("email", "shipping_address", "shipping_method"):
        if getattr(record, name) is None:
            raise InvalidRequest(f"Set the cart's {name.replace('_', ' ')} before checking out.", param=name)


def _short(index: int, sku: str, variant: SkuRecord | None) -> OutOfStock:
    left = max(variant.sellable, 0) if variant and variant.active else 0
    return OutOfStock(f"Only {left} of SKU {sku} {'is' if left == 1 else 'are'} left.",
                      param=f"lines.{index}.quantity", available=left, sku=sku)


def _order_id(record: CartRecord) -> str:
    """The order an attempt at this version of the cart would place: every attempt at the same version
    names the same order, so they share one PaymentIntent."""
    return "ord_" + hashlib.sha256(f"{record.id}:{record.version}".encode()).hexdigest()[:32]


def _new_order(record: CartRecord, skus: dict[str, SkuRecord], discount: DiscountRecord | None,
               keyed: Keyed | None, customer_id: str | None = None, b2b: B2BTerms | None = None,
               quote: QuoteRecord | None = None) -> OrderRecord:
    settings = config.settings()
    for index, line in enumerate(record.lines):
        variant = skus.get(line.sku)
        if variant is None or not variant.active or variant.price_in(record.currency) is None \
                or variant.sellable < line.quantity:
            raise _short(index, line.sku, variant)
        price_lists.check_quantity(b2b, line.sku, line.quantity, f"lines.{index}.quantity")
    now = clock.now()
    cart = price_cart(record, skus, discount, settings.pricing.at(now), b2b, quoted=quote.prices() if quote else None)
    if quote is None:  # a quote's prices are the shop's answer, not what a cart read showed
        cart = _as_shown(record, skus, discount, cart, now, b2b)
    if cart.discount and not cart.discount.applied:
        raise DISCOUNT_REFUSALS[cart.discount.reason](cart.discount.message or "The discount code does not apply.",
                                                     param="discount_code")
    if record.shipping_method not in {m.id for m in cart.available_shipping_methods}:
        raise InvalidRequest("The shipping method is no longer offered for this cart.", param="shipping_method")
    return OrderRecord(
        id=_order_id(record), cart_id=record.id, checkout_key=keyed, token=secrets.token_urlsafe(32),
        currency=record.currency, email=record.email, customer_id=customer_id or customer_id_for(record.email),
        company_id=b2b.company_id if b2b else None, reverse_charge=cart.reverse_charge, lines=cart.lines,
        shipping_address=record.shipping_address,
        shipping_method=record.shipping_method, subtotal=cart.subtotal, discount_total=cart.discount_total,
        discount_code=discount.code if discount and cart.discount else None,
        discount_per_customer=bool(discount and discount.per_customer_limit is not None),
        recovered=record.recovered, shipping_total=cart.shipping_total, tax_total=cart.tax_total,
        total=cart.total, created_at=now, payment_deadline=now + timedelta(minutes=settings.payment_window_minutes),
        payment=PaymentRef(provider=PROVIDER), quote_id=quote.id if quote else None,
    )


def _as_shown(record: CartRecord, skus: dict[str, SkuRecord], discount: DiscountRecord | None, cart: Cart,
              now, b2b: B2BTerms | None = None) -> Cart:
    """The cart to charge when a price went up since the storefront showed it (a sale ended): as shown
    if that was at most SALE_GRACE_SECONDS ago (the reservation still checks the catalogue's price);
    else the cart is priced again (its shown prices now the current ones) and PriceChanged raised."""
    raised = {line.sku: record.shown_prices[line.sku] for line in cart.lines
              if not line.free and line.unit_price > record.shown_prices.get(line.sku, line.unit_price)}
    if not raised or record.priced_at is None:
        return cart
    settings = config.settings()
    if (now - record.priced_at).total_seconds() > settings.sale_grace_seconds:
        carts.save(record.model_copy(update={"priced_at": now, "shown_prices": {
            line.sku: line.unit_price for line in cart.lines if not line.free}}))
        index, line = next((i, line) for i, line in enumerate(cart.lines) if line.sku in raised)
        raise PriceChanged(f"The price of {line.sku} is now {line.unit_price}, not {raised[line.sku]} as shown; "
                           "the cart is priced again.", param=f"lines.{index}.unit_price")
    as_shown = {sku: variant.model_copy(update={"prices": variant.prices | {record.currency: raised[sku]}})
                if sku in raised else variant for sku, variant in skus.items()}
    honoured = price_cart(record, as_shown, discount, settings.pricing.at(now), b2b)
    return honoured.model_copy(update={"lines": [
        line.model_copy(update={"catalogue_price": skus[line.sku].price_in(record.currency)})
        if line.sku in raised and not line.free else line for line in honoured.lines]})


def _shard_plan(order: OrderRecord, skus: dict[str, SkuRecord]) -> dict[str, Plan]:
    """Where each sharded SKU of the order is reserved: a shard with enough stock, chosen at random."""
    plans = {}
    for sku, quantity in quantities(order).items():
        variant = skus[sku]
        if variant.shards > 1:
            plan = plan_reservation(variant.shard_levels, quantity)
            if plan is None:  # the shards moved between the reads: the transaction would fail
                raise StockShort(sku)
            plans[sku] = plan
    return plans


def _with_payment(order: OrderRecord) -> OrderRecord:
    """The order with its PaymentIntent, created before the order is written (one per order id and amount)."""
    provider = payments.provider(PROVIDER)
    created = provider.create_payment(order.id, order.due, order.currency, order.email,
                                      idempotency_key=f"{order.id}:{order.due}{order.currency}:create-payment")
    return order.model_copy(update={"payment": PaymentRef(provider=provider.NAME, payment_id=created.payment_id,
                                                          client_secret=created.client_secret,
                                                          status=created.status)})


class ApprovalNeeded(Exception):
    """A company buyer's checkout above their spending limit: it becomes a purchase request."""

    def __init__(self, request: PurchaseRequest):
        super().__init__(request.id)
        self.request = request


def _place_or_find(cart_id: str, keyed: Keyed | None, customer_id: str | None = None, approved: bool = False,
                   payment_method: str | None = None, quote: QuoteRecord | None = None) -> tuple[OrderRecord, bool]:
    promoted = config.settings().pricing.promoted_skus

    def attempt() -> tuple[OrderRecord, bool]:
        record = carts.get(cart_id)
        if record is None or (customer_id and record.customer_id not in (None, customer_id)):
            raise not_found("cart")
        if keyed and find(record.answers, keyed, int(clock.now().timestamp())):
            raise key_reused()  # the key changed a line of this cart
        if record.status == "checked_out":
            order = orders.get(record.order_id)
            if order is None:  # the cart is retired in the same transaction that writes the order
                raise RuntimeError(f"cart {cart_id} points at missing order {record.order_id}")
            if (keyed and order.checkout_key and order.checkout_key.scope == keyed.scope
                    and order.checkout_key.fingerprint != keyed.fingerprint):
                raise key_reused()
            if quote and order.quote_id != quote.id:
                raise CartCheckedOut("The quote's cart was checked out without it.")
            return order, False
        if quote:  # the quoted lines, at the quoted prices, without a discount code
            if not matches_cart(quote, {line.sku: line.quantity for line in record.lines}):
                raise QuoteCartChanged("The cart no longer holds the quoted lines; ask for a new quote.")
            record = record.model_copy(update={"discount_code": None})
        _require(record)
        skus, discount, b2b = price_lists.pricing_inputs(record, [line.sku for line in record.lines] + promoted,
                                                         record.discount_code)
        order = _new_order(record, skus, discount, keyed, customer_id, b2b, quote)
        # An accepted quote is the shop's own answer: no purchase request on top of it.
        if b2b and b2b.buyer and not approved and not quote and not b2b.buyer.within_limit(order.total, order.currency):
            raise ApprovalNeeded(purchase_requests.open_for(record, order, b2b.buyer, payment_method))
        order, invoice = order.model_copy(update={"stock_shards": _shard_plan(order, skus)}), None
        if payment_method == invoices.PAYMENT_METHOD:  # no provider payment: the company's credit instead
            # Gift cards and store credit pay first, as for a card; the invoice is for the rest, and an
            # order they cover needs none (paid at once).
            order = tenders.for_order(record, order, rest=invoices.PAYMENT_METHOD)
            if order.due:
                order, invoice = invoices.for_checkout(order, customer_id, b2b.company if b2b else None)
        else:
            order = tenders.for_order(record, order)
            if order.due:
                order = _with_payment(order)
        try:
            orders.place(order, record.version, redeem=discount if order.discount_code else None, invoice=invoice,
                         quote=quote)
        except StockShort as short:
            index = next(i for i, line in enumerate(order.lines) if line.sku == short.sku)
            wanted = sum(line.quantity for line in order.lines if line.sku == short.sku)
            variant = catalog.get_skus([short.sku]).get(short.sku)
            if variant is None or not variant.active or variant.sellable < wanted:
                raise _short(index, short.sku, variant) from None
            raise  # only the price moved under us: price it again
        if invoice:
            invoices.store_document(invoice[0])
        return order, True

    # CartChanged: changed or checked out by a concurrent request; read it again. Jittered back-off
    # spreads racing transactions.
    # A balance that moved (another cart spent the gift card) is split again on the next attempt.
    return retried(attempt, (CartChanged, StockShort, GiftCardInsufficient, StoreCreditInsufficient),
                   lambda: CartChanged("The cart kept changing during checkout; read it and try again."),
                   backoff=0.05)


def _payment(order: OrderRecord, payment_method: str | None) -> dict | None:
    if order.amount_due == 0 and not order.invoice:
        return None  # gift cards and store credit paid it all: no provider payment
    settings = config.settings()
    if order.invoice:  # paid by invoice (services/invoices.py): nothing to take now
        return {"provider": invoices.PAYMENT_METHOD, "status": order.payment_status, "client_secret": None,
                "publishable_key": settings.stripe_publishable_key}
    provider = payments.provider(order.payment.provider if order.payment else PROVIDER)
    if order.payment_status == "paid" or order.status != "pending_payment":
        status = "succeeded" if order.amount_paid else order.status
        return {"provider": provider.NAME, "status": status, "client_secret": None,
                "publishable_key": settings.stripe_publishable_key}
    ref = order.payment
    if not (ref and ref.payment_id):
        created = provider.create_payment(order.id, order.due, order.currency, order.email,
                                          idempotency_key=f"{order.id}:create-payment")
        ref = PaymentRef(provider=provider.NAME, payment_id=created.payment_id, client_secret=created.client_secret,
                         status=created.status)
        orders.attach_payment(order.id, ref)
    answer = {"provider": provider.NAME, "status": ref.status, "client_secret": ref.client_secret,
              "publishable_key": settings.stripe_publishable_key}
    if payment_method:
        confirmed = provider.confirm_payment(ref.payment_id, payment_method,
                                             idempotency_key=f"{order.id}:confirm:{payment_method}")
        answer["status"] = confirmed.status
        if confirmed.next_action:
            answer["next_action"] = confirmed.next_action
    return answer


def complete(cart_id: str, payment_method: str | None = None, keyed: Keyed | None = None,
             customer_id: str | None = None, marketing_consent: bool | None = None,
             approved: bool = False, quote: QuoteRecord | None = None) -> CheckoutResult:
    """Check the cart out: one order per cart, stock reserved, written with its payment. Safe to retry:
    a repeat returns the same order (created=False; with the Idempotency-Key (`keyed`) that placed it,
    replayed=True) and confirms with a new payment method. Raises ResourceMissing, InvalidRequest
    (naming the missing param), OutOfStock (nothing reserved), PaymentDeclined, IdempotencyKeyReused,
    UpstreamUnavailable (nothing placed, or the order stands; retry).

    The order's `customer_id` is the signed-in customer's (`customer_id`), else the one of its email: guest
    orders belong to the account of that email by construction. A cart attached to another account is a
    404 for a signed-in customer. `marketing_consent` (a guest's answer) is recorded on the email's customer
    profile with source "checkout" when the order is placed. With an answered `quote` (services/quotes.py) the
    cart must hold exactly its lines, which are charged at its prices.

    A company buyer's checkout above their spending limit raises ApprovalNeeded with the purchase request
    (nothing placed) unless `approved` (an approver's decision: services/purchase_requests.py)."""
    order, created = _place_or_find(cart_id, keyed, customer_id, approved, payment_method, quote)
    if created and marketing_consent is not None:
        customers.grant_consent_once(order.customer_id, order.email, MarketingConsent(
            granted=marketing_consent, at=order.created_at, source="checkout"))
    payment = _payment(order, payment_method)
    replayed = bool(not created and keyed and order.checkout_key and order.checkout_key.scope == keyed.scope)
    return CheckoutResult(order=Order.from_record(order), order_token=order.token, payment=payment, created=created,
                          replayed=replayed)
