"""Tenders: what pays a cart or an order besides the payment provider. Gift cards applied to the cart
pay first, in the order applied, then the signed-in holder's store credit; the provider is asked for
the rest (`amount_due`), or, paying by invoice, the invoice is for the rest. Checkout writes each spend
as a conditional piece of its transaction (repository/orders.place): two carts can never spend the same
balance, and an order that spends nothing at the provider (or on an invoice) is paid at once.
"""

from chalicelib import clock, config
from chalicelib.models import Cart, CartRecord, GiftCardApplied
from chalicelib.models.balances import split
from chalicelib.models.orders import OrderRecord, PaymentPart, Tender
from chalicelib.repository import gift_cards, store_credit


def _split(record: CartRecord, total: int):
    cards = gift_cards.get_many([card.gift_card_id for card in record.gift_cards]) if record.gift_cards else {}
    credit = 0
    if record.use_store_credit and record.customer_id:
        credit = store_credit.balances(record.customer_id).get(record.currency, 0)
    return split(total, record.currency, [(c.gift_card_id, c.last4) for c in record.gift_cards], cards, credit,
                 clock.now())


def for_cart(record: CartRecord, cart: Cart) -> Cart:
    """The cart with what its gift cards and store credit pay and what is left due. No read at all for a
    cart without either."""
    if not record.gift_cards and not record.use_store_credit:
        return cart
    by_cards, credit, due = _split(record, cart.total)
    return cart.model_copy(update={
        "gift_cards": [GiftCardApplied(last4=last4, amount_applied=amount) for _, last4, amount in by_cards],
        "store_credit_applied": credit, "amount_due": due})


def for_order(record: CartRecord, order: OrderRecord, rest: str = "stripe") -> OrderRecord:
    """The new order with its tenders, payments and amount due; paid at once (no provider payment)
    when the balances cover it all, or nothing is left to pay. `rest` is what pays the amount due: the
    provider ("stripe") or an invoice ("invoice": services/invoices.py `for_checkout` then invoices the amount
    due)."""
    if order.total == 0:  # nothing to pay (a discount as big as the cart, free shipping): paid at once
        return order.model_copy(update={"amount_due": 0, "payments": [], "status": "paid", "payment_status": "paid",
                                        "paid_at": order.created_at, "payment": None})
    if not record.gift_cards and not record.use_store_credit:
        return order.model_copy(update={"amount_due": order.total,
                                        "payments": [PaymentPart(method=rest, amount=order.total)]})
    by_cards, credit, due = _split(record, order.total)
    tenders = [Tender(method="gift_card", amount=amount, gift_card_id=card_id, last4=last4)
               for card_id, last4, amount in by_cards if amount]
    if credit:
        tenders.append(Tender(method="store_credit", amount=credit, customer_id=record.customer_id))
    payments = [PaymentPart(method=t.method, amount=t.amount, last4=t.last4) for t in tenders]
    if due:
        payments.append(PaymentPart(method=rest, amount=due))
    update = {"tenders": tenders, "payments": payments, "amount_due": due}
    if due == 0:
        update |= {"status": "paid", "payment_status": "paid", "paid_at": order.created_at,
                   "amount_paid": order.total, "payment": None}
    return order.model_copy(update=update)


def refund_to_balances_first() -> bool:
    return config.settings().refund_to != "provider"
