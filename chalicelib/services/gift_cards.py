"""Gift cards: issued by the shop or bought (one per unit of a gift-card line, once its order is
paid), looked up by code (rate-limited per address), disabled by the shop; each change in the card's
ledger (repository/gift_cards.py). Spending at checkout is services/tenders.py.

A gift-card product is a product whose variants have `gift_card: true`: its denominations are its
variants, each with its prices (a 25 EUR card is a variant priced 2500). Its cart line carries the
recipient (`gift_card: {recipient_email, message?, send_at?}`). Its cards are issued only while the order
is still paid, and voided (each only while unspent) in the transaction that cancels the order.
"""

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from chalicelib import clock, config, gift_codes
from chalicelib.errors import (
    GiftCardUsed,
    InvalidRequest,
    ResourceExists,
    TooManyAttempts,
    not_found,
)
from chalicelib.models import CartLine
from chalicelib.models.balances import GiftCard, GiftCardRecord
from chalicelib.models.orders import OrderRecord
from chalicelib.repository import dynamo, gift_cards, orders

log = logging.getLogger(__name__)


def _card(seed: str, currency: str, amount: int, now: datetime, **extra) -> tuple[GiftCardRecord, str]:
    code = gift_codes.code_for(seed)
    record = GiftCardRecord(id=gift_codes.card_id_for(code), last4=gift_codes.last4(code), seed=seed,
                            currency=currency, initial_amount=amount, balance=amount, created_at=now, **extra)
    return record, code


def issue(currency: str, amount: int, recipient_email: str | None = None, expires_at: datetime | None = None,
          message: str | None = None) -> GiftCard:
    """The shop issues a card; the answer carries its code, shown this once (and emailed to the
    recipient when given). Raises InvalidRequest (currency, amount, an expiry where not allowed)."""
    settings = config.settings()
    if currency not in settings.currencies:
        raise InvalidRequest(f"The shop does not sell in {currency}.", param="currency")
    if not 0 < amount <= settings.gift_card_max_amount:
        raise InvalidRequest(f"The amount must be from 1 to {settings.gift_card_max_amount}.", param="amount")
    now = clock.now()
    if expires_at is not None:
        if not settings.gift_card_expiry_allowed:
            raise InvalidRequest("Gift cards of this shop cannot expire (GIFT_CARD_EXPIRY_ALLOWED).",
                                 param="expires_at")
        if expires_at <= now:
            raise InvalidRequest("The expiry must be in the future.", param="expires_at")
        expires_at = expires_at.replace(microsecond=0)
    record, code = _card(gift_codes.new_seed(), currency, amount, now, valid_until=expires_at,
                         recipient_email=recipient_email, message=message)
    gift_cards.issue(record)
    return GiftCard.from_record(record, now, ledger=gift_cards.with_ledger(record.id)[1], code=code)


def _seed(order: OrderRecord, index: int, sku: str, unit: int) -> str:
    return hashlib.sha256(f"{order.id}:{index}:{sku}:{unit}".encode()).hexdigest()[:32]


def _bought(order: OrderRecord) -> Iterator[tuple[CartLine, str]]:
    """(line, seed) of each card an order buys: one per unit of each gift-card line."""
    for index, line in enumerate(order.lines):
        if line.gift_card:
            for unit in range(line.quantity):
                yield line, _seed(order, index, line.sku, unit)


def card_ids(order: OrderRecord) -> list[str]:
    """The ids of the cards an order buys (issued or not yet), from their seeds."""
    return [gift_codes.card_id_for(gift_codes.code_for(seed)) for _, seed in _bought(order)]


def still_spendable(order: OrderRecord) -> int:
    """What of the order's money pays for gift cards it bought that can still be spent: a card issued and not
    disabled, or not issued yet (it will be), counts its price; a disabled one what was spent of it. A refund
    never gives that back (services/orders.refund): the customer keeps the card. One BatchGetItem, only for an
    order with gift-card lines."""
    ids = card_ids(order)
    if not ids:
        return 0
    found = gift_cards.get_many(ids)
    held = 0
    for (line, _), card_id in zip(_bought(order), ids, strict=True):
        card = found.get(card_id)
        held += line.unit_price if card is None or not card.disabled else card.initial_amount - card.balance
    return held


def issue_for_order(order: OrderRecord) -> int:
    """Issue one card per unit of each gift-card line of a paid order, once however often it is
    called (each card's seed is derived from the order, the line and the unit), and only while the
    order is still paid (a ConditionCheck on it in each card's transaction: a cancelled or refunded
    order gets no card). Returns how many were issued now."""
    issued = 0
    for line, seed in _bought(order):
        send_at = line.gift_card.send_at
        record, _ = _card(seed, order.currency, line.unit_price, order.paid_at or clock.now(),
                          recipient_email=line.gift_card.recipient_email, message=line.gift_card.message,
                          send_at=send_at, released=send_at is None or send_at <= clock.now(), order_id=order.id)
        try:
            gift_cards.issue(record, only_if=orders.still_issuing(order.id))
            issued += 1
        except ResourceExists:
            pass
        except gift_cards.NotIssued:
            log.info("order %s was cancelled or refunded before its gift cards were issued: none issued", order.id)
            break
    return issued


def voids_for_cancel(order: OrderRecord) -> list[dynamo.Piece]:
    """The pieces that void, in the transaction cancelling `order`, every card it bought that has been
    issued, each only while unspent; and, for each card not issued yet, a check that it still is not
    (an issuance committing first makes the cancel read again). One BatchGetItem. Raises GiftCardUsed
    naming a card spent (even in part) or disabled: the order cannot be cancelled, nothing changes."""
    ids = card_ids(order)
    if not ids:
        return []
    found = gift_cards.get_many(ids)
    at = clock.iso(clock.now())
    pieces = []
    for card_id in ids:
        card = found.get(card_id)
        if card is None:
            pieces.append(gift_cards.absent_piece(card_id))
        elif card.balance != card.initial_amount or card.disabled:
            state = "disabled" if card.disabled else f"spent: {card.balance} of {card.initial_amount} left"
            raise GiftCardUsed(f"The gift card ending {card.last4} bought with this order has been {state}; it cannot "
                               "be voided, so the order cannot be cancelled. Refund its other lines instead.",
                               gift_card_id=card.id)
        else:
            pieces += gift_cards.void_pieces(card, order.id, at)
    return pieces


def _by_code(code: str) -> GiftCardRecord | None:
    card_id = gift_codes.card_id_for(code)
    return gift_cards.get(card_id) if card_id else None


def balance(code: str, source: str) -> dict:
    """`{currency, balance, expires_at}` of the card with this code; rate-limited per `source` address.
    Raises TooManyAttempts, ResourceMissing (unknown or disabled: never says which)."""
    settings = config.settings()
    if gift_cards.count_lookup(source) > settings.gift_card_lookups_per_minute:
        raise TooManyAttempts("Too many gift card lookups; wait a minute.")
    card = _by_code(code)
    if card is None or card.disabled:
        raise not_found("gift card")
    return {"currency": card.currency, "balance": card.balance if card.status_at(clock.now()) == "active" else 0,
            "expires_at": clock.iso(card.valid_until) if card.valid_until else None}


def find(code: str) -> GiftCard:
    """The card with this code, with its ledger (the shop's exact lookup). Raises ResourceMissing."""
    card_id = gift_codes.card_id_for(code)
    if card_id is None:
        raise not_found("gift card")
    return get(card_id)


def get(card_id: str) -> GiftCard:
    """A card with its ledger. Raises ResourceMissing."""
    card, ledger = gift_cards.with_ledger(card_id) if card_id.startswith("gc_") and len(card_id) < 40 else (None, [])
    if card is None:
        raise not_found("gift card")
    return GiftCard.from_record(card, clock.now(), ledger=ledger)


def disable(card_id: str) -> GiftCard:
    """Disable a card (it keeps its balance, nobody can spend it). Idempotent. Raises ResourceMissing."""
    card = gift_cards.get(card_id) if card_id.startswith("gc_") and len(card_id) < 40 else None
    if card is None:
        raise not_found("gift card")
    if not card.disabled:
        with contextlib.suppress(gift_cards.AlreadyApplied):
            gift_cards.disable(card, clock.iso(clock.now()))
    return get(card_id)


def list_recent(limit: int, cursor: str | None) -> tuple[list[GiftCard], str | None]:
    now = clock.now()
    found, next_cursor = gift_cards.list_recent(limit, cursor)
    return [GiftCard.from_record(card, now) for card in found], next_cursor


RELEASE_LOOKBACK_HOURS = 48  # the longest outage of the release schedule it catches up on


def release_due(now: datetime | None = None) -> int:
    """Release the cards whose send date has come (their email then follows from the stream): a Query
    per hour bucket of the send dates from RELEASE_LOOKBACK_HOURS ago to now, no Scan. Safe to repeat
    and to run concurrently (each release is conditional). Returns how many were released now."""
    now = now or clock.now()
    released = 0
    for hours_ago in range(RELEASE_LOOKBACK_HOURS, -1, -1):
        bucket = (now - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H")
        for card_id in gift_cards.due_in(bucket, clock.iso(now)):
            released += gift_cards.release(card_id)
    return released
