"""Gift cards: the card (its balance), its ledger, the recent-issuance index and the lookup counter.

| item                                 | key                                                      |
| ------------------------------------ | -------------------------------------------------------- |
| a card (id = keyed hash of its code) | PK=GIFTCARD#<gc id>, SK=GIFTCARD                          |
|   cards, newest first                | GSI1: GIFTCARDS, <created_at>#<gc id>                     |
| ledger entry, once per source        | PK=GIFTCARD#<gc id>, SK=LEDGER#<source id>                |
|   cards to send in an hour (sparse)  | GSI2: GIFTSEND#<YYYY-MM-DDTHH>, <send_at>#<gc id>         |
| balance lookups of one address       | PK=LOOKUPS#<ip>#<minute>, SK=LOOKUPS (ADD; TTL 10 min)    |

Every change of a balance is one transaction: the card (conditioned on the balance covering a spend,
on the card being usable, or on its version) and a ledger entry keyed by its source (`issue`,
`spend:<order>`, `give_back:<order>`, `refund:<order>:<refund>`, `void`...), written only if absent: a
retried change applies once and the ledger sums to the balance. A card bought with an order that is
cancelled is voided in the cancel's transaction (balance 0, disabled), only while it is unspent.
"""

import time

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.errors import GiftCardInsufficient, ResourceExists
from chalicelib.models.balances import GiftCardEntry, GiftCardRecord
from chalicelib.repository import dynamo


class AlreadyApplied(Exception):
    """This source changed the card already."""


def card_key(card_id: str) -> dict:
    return {"PK": f"GIFTCARD#{card_id}", "SK": "GIFTCARD"}


def entry_key(card_id: str, source_id: str) -> dict:
    return {"PK": f"GIFTCARD#{card_id}", "SK": f"LEDGER#{source_id}"}


def _item(card: GiftCardRecord) -> dict:
    later = {}
    if not card.released and card.send_at:
        later = {"GSI2PK": f"GIFTSEND#{card.send_at.strftime('%Y-%m-%dT%H')}",
                 "GSI2SK": f"{iso(card.send_at)}#{card.id}"}
    return (card_key(card.id) | card.model_dump(mode="json") | later
            | {"GSI1PK": "GIFTCARDS", "GSI1SK": f"{iso(card.created_at)}#{card.id}"})


def _entry(card_id: str, source_id: str, entry: GiftCardEntry, name: str) -> dynamo.Piece:
    item = entry_key(card_id, source_id) | entry.model_dump(mode="json") | {"gift_card_id": card_id,
                                                                              "source_id": source_id, "seq": entry.seq}
    return dynamo.put(name, item, "attribute_not_exists(PK)")


class NotIssued(Exception):
    """The condition an issuance was made on (its order still paid) no longer holds: nothing was written."""


def issue(card: GiftCardRecord, only_if: dynamo.Piece | None = None) -> None:
    """Write a new card with its `issue` ledger entry, and with `only_if` (a ConditionCheck: a bought
    card's order still paid, orders.still_issuing) in the same transaction. Raises ResourceExists when
    the card exists (a retried issuance: nothing is written again), NotIssued when `only_if` failed."""
    entry = GiftCardEntry(amount=card.initial_amount, kind="issue", order_id=card.order_id, at=card.created_at)
    pieces = [dynamo.put("card", _item(card), "attribute_not_exists(PK)"),
              _entry(card.id, "issue", entry, "card_entry"), *([only_if] if only_if else [])]
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("card") or cancelled.failed("card_entry"):
            raise ResourceExists("This gift card exists already.") from cancelled
        if only_if and cancelled.failed(only_if.name):
            raise NotIssued(only_if.name) from cancelled
        raise


def get(card_id: str) -> GiftCardRecord | None:
    item = dynamo.get(card_key(card_id))
    return GiftCardRecord.model_validate(item) if item else None


def get_many(card_ids: list[str]) -> dict[str, GiftCardRecord]:
    """Cards by id, one BatchGetItem (consistent: balances are about to be spent)."""
    found = dynamo.batch_get([card_key(i) for i in card_ids]) if card_ids else []
    return {card.id: card for card in map(GiftCardRecord.model_validate, found)}


def with_ledger(card_id: str) -> tuple[GiftCardRecord | None, list[GiftCardEntry]]:
    """The card and its ledger (oldest first), one Query of its partition."""
    found = list(dynamo.query_all(None, "PK", f"GIFTCARD#{card_id}"))
    card = next((GiftCardRecord.model_validate(i) for i in found if i["SK"] == "GIFTCARD"), None)
    ledger = sorted((GiftCardEntry.model_validate(i) for i in found if i["SK"].startswith("LEDGER#")),
                    key=lambda e: (e.at, e.seq))
    return card, ledger


def spend_pieces(card_id: str, amount: int, order_id: str, at: str) -> list[dynamo.Piece]:
    """The pieces "gift_card:<id>" (the balance, only if it covers `amount` and the card is usable at
    `at`) and "gift_card_entry:<id>" (the ledger entry `spend:<order>`, once) of a checkout."""
    balance = dynamo.update(
        f"gift_card:{card_id}", card_key(card_id), "SET balance = balance - :amount, version = version + :one",
        "balance >= :amount AND disabled = :false AND (attribute_not_exists(valid_until) OR valid_until > :at)",
        amount=amount, one=1, false=False, at=at)
    entry = GiftCardEntry(amount=-amount, kind="spend", order_id=order_id, at=at)
    return [balance, _entry(card_id, f"spend:{order_id}", entry, f"gift_card_entry:{card_id}")]


def give_back_pieces(card_id: str, amount: int, order_id: str, at: str, source_id: str,
                     kind: str = "give_back") -> list[dynamo.Piece]:
    """The pieces putting `amount` back on a card once per `source_id` (a cancelled order's spend,
    a refund), whatever the card's state."""
    balance = dynamo.update(f"gift_card:{card_id}", card_key(card_id),
                            "SET balance = balance + :amount, version = version + :one", "attribute_exists(PK)",
                            amount=amount, one=1)
    entry = GiftCardEntry(amount=amount, kind=kind, order_id=order_id, at=at)
    return [balance, _entry(card_id, source_id, entry, f"gift_card_entry:{card_id}")]


def void_pieces(card: GiftCardRecord, order_id: str, at: str) -> list[dynamo.Piece]:
    """The pieces "void:<id>" (the card: balance 0 and disabled, out of the send index, only if it is
    still unspent: its balance its issued amount, not disabled) and "void_entry:<id>" (the ledger entry
    `void`, once) voiding a card bought with an order that is cancelled."""
    card_piece = dynamo.update(
        f"void:{card.id}", card_key(card.id),
        "SET balance = :zero, disabled = :true, version = version + :one REMOVE GSI2PK, GSI2SK",
        "balance = initial_amount AND disabled = :false", zero=0, true=True, false=False, one=1)
    entry = GiftCardEntry(amount=-card.initial_amount, kind="void", order_id=order_id, at=at)
    return [card_piece, _entry(card.id, "void", entry, f"void_entry:{card.id}")]


def absent_piece(card_id: str) -> dynamo.Piece:
    """The piece "unissued:<id>": the transaction holds only while the card has not been issued."""
    return dynamo.check(f"unissued:{card_id}", card_key(card_id), "attribute_not_exists(PK)")


def failed_card(cancelled: dynamo.Cancelled) -> str | None:
    """The card whose balance condition failed in a cancelled transaction, if any."""
    name = cancelled.first_failed("gift_card:")
    return name.removeprefix("gift_card:") if name else None


def disable(card: GiftCardRecord, at: str) -> None:
    """Disable a card (on the version read) with a ledger entry; it keeps its balance. Raises
    AlreadyApplied when it was disabled already, GiftCardInsufficient when it changed meanwhile."""
    entry = GiftCardEntry(amount=0, kind="disable", at=at)
    try:
        dynamo.transact([
            dynamo.update("card", card_key(card.id), "SET disabled = :true, version = version + :one",
                          "version = :version", true=True, one=1, version=card.version),
            _entry(card.id, "disable", entry, "card_entry")])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("card_entry"):
            raise AlreadyApplied("disable") from cancelled
        if cancelled.failed("card") or cancelled.conflict:
            raise GiftCardInsufficient("The gift card changed meanwhile; retry.") from cancelled
        raise


def list_recent(limit: int, cursor: str | None) -> tuple[list[GiftCardRecord], str | None]:
    """Cards newest first (GSI1: GIFTCARDS)."""
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", "GIFTCARDS", limit, cursor, newest_first=True)
    return [GiftCardRecord.model_validate(i) for i in items], next_cursor


def count_lookup(source: str, window_seconds: int = 60) -> int:
    """Count one balance lookup from `source` (an IP address) in the current window; answers the
    count so far. The counter item expires with the table's TTL."""
    now = int(time.time())
    bucket = now // window_seconds
    answer = dynamo.call("update_item", TableName=dynamo.table(),
                         Key=dynamo.to_item({"PK": f"LOOKUPS#{source}#{bucket}", "SK": "LOOKUPS"}),
                         UpdateExpression="ADD attempts :one SET expires_at = :expires",
                         ExpressionAttributeValues=dynamo.values(one=1, expires=now + 600),
                         ReturnValues="UPDATED_NEW")
    return int(dynamo.from_item(answer["Attributes"])["attempts"])


def due_in(hour: str, now: str) -> list[str]:
    """Ids of the unreleased cards whose send date is in `hour` (YYYY-MM-DDTHH) and not after `now`."""
    return [item["id"] for item in dynamo.query_all("GSI2", "GSI2PK", f"GIFTSEND#{hour}",
                                                    sk_condition=" AND #sk <= :upto", upto=now + "~")]


def release(card_id: str) -> bool:
    """Mark a card released (its email may go) and take it out of the send index; False if it was already,
    or was disabled meanwhile (a voided card's email never goes)."""
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(card_key(card_id)),
                    UpdateExpression="SET released = :true, version = version + :one REMOVE GSI2PK, GSI2SK",
                    ConditionExpression="released = :false AND disabled = :false",
                    ExpressionAttributeValues=dynamo.values(true=True, false=False, one=1))
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
