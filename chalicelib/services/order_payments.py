"""The payment of an order that waits for it, for the customer to pay in the browser: the difference of a dearer
exchange (services/exchanges.py places that order with a PaymentIntent, like a checkout), or a checkout's order
paid later. The order keeps its one PaymentIntent; the provider's webhook marks the order paid, as after checkout.
"""

from chalicelib import config, payments
from chalicelib.errors import Conflict, not_found
from chalicelib.models.orders import Order, PaymentRef
from chalicelib.repository import orders
from chalicelib.services import checkout

# The PaymentIntent can no longer take money: the order is being cancelled (expired unpaid).
CLOSED = frozenset({"canceled"})


def pending(order: Order) -> dict:
    """The payment of `order` (one the caller proved is theirs) while it waits for one: provider, live status,
    client secret, publishable key, amount due. Raises ResourceMissing, Conflict (paid, cancelled, in review, or
    its payment cancelled), UpstreamUnavailable."""
    record = orders.get(order.id)
    if record is None:
        raise not_found("order")
    if record.status != "pending_payment" or record.payment_status == "paid":
        raise Conflict(f"The order is {record.status.replace('_', ' ')}: there is nothing to pay.")
    provider = payments.provider(record.payment.provider if record.payment else checkout.PROVIDER)
    ref = record.payment
    if not (ref and ref.payment_id):  # an order stored without its PaymentIntent (older code): as checkout does
        created = provider.create_payment(record.id, record.total, record.currency, record.email,
                                          idempotency_key=f"{record.id}:create-payment")
        ref = PaymentRef(provider=provider.NAME, payment_id=created.payment_id, client_secret=created.client_secret,
                         status=created.status)
        orders.attach_payment(record.id, ref)
    status = provider.retrieve_payment(ref.payment_id)["status"]
    if status in CLOSED:
        raise Conflict("The order's payment was cancelled: it can no longer be paid.")
    return {"provider": provider.NAME, "status": status, "client_secret": ref.client_secret,
            "publishable_key": config.settings().stripe_publishable_key,
            "amount_due": record.total - record.amount_paid, "currency": record.currency,
            "exchange_of": record.exchange_of}
