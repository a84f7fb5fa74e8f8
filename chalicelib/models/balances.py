"""Money that is not card money: store credit and gift cards, each a balance with a ledger. No I/O.

Every change of a balance is one ledger entry written in the same transaction as the balance, so the
sum of a ledger is its balance. A spend or give-back is keyed by its source (an order and the reason),
which makes it happen once however often it is retried.
"""

import time
from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.models import Record
from chalicelib.models.base import Model

GiftCardStatus = Literal["active", "disabled", "expired"]
LedgerKind = Literal["issue", "spend", "give_back", "refund", "disable", "adjust", "grant", "void"]


class CreditEntry(Record):
    """One change of a customer's store credit in one currency."""

    source_id: str
    currency: str
    amount: int
    reason: str
    at: datetime
    order_id: str | None = None
    seq: int = Field(default_factory=time.time_ns)  # orders entries within one second


class GiftCardEntry(Record):
    """One change of a gift card's balance (API.md, GiftCard `ledger`)."""

    amount: int
    kind: LedgerKind
    order_id: str | None = None
    at: datetime
    # Orders entries written within one second (`at` is to the second): nanoseconds when written.
    seq: int = Field(default_factory=time.time_ns, exclude=True)


class GiftCardRecord(Record):
    """A gift card as stored."""

    id: str  # gc_ + a keyed hash of the code (chalicelib/gift_codes.py)
    last4: str
    seed: str  # the code is made from it with the GIFT_CARD_SECRET; the code itself is never stored
    currency: str
    initial_amount: int
    balance: int
    disabled: bool = False
    valid_until: datetime | None = None  # not `expires_at`: that is the table's TTL attribute
    recipient_email: str | None = None
    message: str | None = None
    send_at: datetime | None = None
    released: bool = True  # its email may go out (False until `send_at` for a card sent later)
    order_id: str | None = None
    created_at: datetime
    version: int = 0

    def status_at(self, now: datetime) -> GiftCardStatus:
        if self.disabled:
            return "disabled"
        if self.valid_until is not None and self.valid_until <= now:
            return "expired"
        return "active"


class GiftCard(Model):
    """A gift card as the shop sees it (API.md, GiftCard); `code` only in the answer that issued it."""

    id: str
    last4: str
    currency: str
    initial_amount: int
    balance: int
    status: GiftCardStatus
    expires_at: datetime | None
    created_at: datetime
    recipient_email: str | None = None
    order_id: str | None = None
    code: str | None = None
    ledger: list[GiftCardEntry] | None = None

    @classmethod
    def from_record(cls, record: GiftCardRecord, now: datetime, ledger: list[GiftCardEntry] | None = None,
                    code: str | None = None) -> "GiftCard":
        return cls(id=record.id, last4=record.last4, currency=record.currency, initial_amount=record.initial_amount,
                   balance=record.balance, status=record.status_at(now), expires_at=record.valid_until,
                   created_at=record.created_at, recipient_email=record.recipient_email, order_id=record.order_id,
                   code=code, ledger=ledger)


def split(total: int, currency: str, applied: list[tuple[str, str]], cards: dict[str, GiftCardRecord],
          credit: int, now: datetime) -> tuple[list[tuple[str, str, int]], int, int]:
    """How a total is paid: from each applied gift card in turn ((id, last4) pairs; a card that is
    gone, unusable now or in another currency pays nothing), then from `credit` (store credit in the
    currency), the rest by the provider. Answers ([(id, last4, amount)], credit amount, amount due)."""
    left = total
    paid_by_cards = []
    for card_id, last4 in applied:
        card = cards.get(card_id)
        usable = card is not None and card.currency == currency and card.status_at(now) == "active"
        amount = min(left, max(card.balance, 0)) if usable else 0
        paid_by_cards.append((card_id, last4, amount))
        left -= amount
    from_credit = min(left, max(credit, 0))
    return paid_by_cards, from_credit, left - from_credit


def allocate(amounts: list[int], already: int, amount: int) -> list[int]:
    """How `amount` given back is spread over parts paid (`amounts`, in order: gift cards first),
    after `already` was given back to the first of them: each part gets at most what is left of it."""
    given = []
    for part in amounts:
        taken = min(part, already)
        already -= taken
        share = min(part - taken, amount)
        amount -= share
        given.append(share)
    return given
