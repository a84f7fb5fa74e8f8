"""A cart's gift cards and store credit: applying a card by its code (rate-limited per address, like
the balance lookup), removing it by its last four characters, and the signed-in holder's choice to
spend their store credit. What they pay is computed on every read (services/tenders.py)."""

from chalicelib import clock, config, gift_codes
from chalicelib.errors import (
    CartChanged,
    CartCheckedOut,
    Forbidden,
    GiftCardUnusable,
    InvalidRequest,
    TooManyAttempts,
    not_found,
)
from chalicelib.models import AppliedGiftCard, Cart, CartRecord
from chalicelib.repository import carts, gift_cards
from chalicelib.retry import retried
from chalicelib.services import carts as cart_service

MAX_GIFT_CARDS = 5  # each is two actions of the checkout transaction (at most 100)


def _change(cart_id: str, apply) -> Cart:
    def attempt() -> Cart:
        record = carts.get(cart_id)
        if record is None:
            raise not_found("cart")
        if record.status != "open":
            raise CartCheckedOut("This cart has been checked out; start a new cart.")
        changed = apply(record)
        if changed is not record:
            carts.save(changed.model_copy(update={"updated_at": clock.now()}))
        return cart_service.get(cart_id)

    return retried(attempt, CartChanged,
                   lambda: CartChanged("The cart is being changed by other requests; read it again and retry."))


def apply_gift_card(cart_id: str, code: str, source: str) -> Cart:
    """Apply the card with this code to the cart (again: nothing changes). Raises TooManyAttempts,
    ResourceMissing (no such cart or card, or a disabled one), GiftCardUnusable (expired, another
    currency), InvalidRequest (too many cards), CartCheckedOut."""
    if gift_cards.count_lookup(source) > config.settings().gift_card_lookups_per_minute:
        raise TooManyAttempts("Too many gift card attempts; wait a minute.")
    card_id = gift_codes.card_id_for(code)
    card = gift_cards.get(card_id) if card_id else None
    if card is None or card.disabled:
        raise not_found("gift card")

    def apply(record: CartRecord) -> CartRecord:
        if any(applied.gift_card_id == card.id for applied in record.gift_cards):
            return record
        if card.currency != record.currency:
            raise GiftCardUnusable(f"This gift card is in {card.currency}, the cart in {record.currency}.",
                                   param="code")
        if card.status_at(clock.now()) != "active":
            raise GiftCardUnusable("This gift card has expired.", param="code")
        if len(record.gift_cards) >= MAX_GIFT_CARDS:
            raise InvalidRequest(f"At most {MAX_GIFT_CARDS} gift cards per cart.", param="code")
        applied = AppliedGiftCard(gift_card_id=card.id, last4=card.last4)
        return record.model_copy(update={"gift_cards": [*record.gift_cards, applied]})

    return _change(cart_id, apply)


def remove_gift_card(cart_id: str, last4: str) -> Cart:
    """Take the card ending in `last4` off the cart. Raises ResourceMissing (no such card on it)."""
    def apply(record: CartRecord) -> CartRecord:
        kept = [applied for applied in record.gift_cards if applied.last4 != last4.upper()]
        if len(kept) == len(record.gift_cards):
            raise not_found("gift card on this cart")
        return record.model_copy(update={"gift_cards": kept})

    return _change(cart_id, apply)


def use_store_credit(cart_id: str, use: bool, customer_id: str) -> Cart:
    """Spend (or not) the signed-in holder's store credit on their cart. Raises ResourceMissing,
    Forbidden (the cart is not this customer's account cart)."""
    def apply(record: CartRecord) -> CartRecord:
        if record.customer_id != customer_id:
            raise Forbidden("Store credit is spent on the signed-in customer's own cart (POST /me/carts).")
        if record.use_store_credit == use:
            return record
        return record.model_copy(update={"use_store_credit": use})

    return _change(cart_id, apply)
