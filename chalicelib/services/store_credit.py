"""Store credit: a customer's balance per currency, given by the shop or by returns, spent at
checkout (services/tenders.py), with a ledger (repository/store_credit.py).

A customer is an id (`cus_...`): an account's, or, before accounts, the one derived from an email
(`models.customers.customer_id_for`), so credit given to a guest's email is theirs once they sign in.
"""

import contextlib

from chalicelib import clock, config
from chalicelib.errors import InvalidRequest
from chalicelib.models import MAX_MONEY
from chalicelib.models.balances import CreditEntry
from chalicelib.repository import store_credit

MAX_SOURCE_ID = 200


def grant(customer_id: str, currency: str, amount: int, reason: str, source_id: str) -> int:
    """Change the customer's credit in `currency` by `amount` (negative takes credit back) and answer
    the new balance. Idempotent by `source_id`: a second grant with the same source changes nothing
    and answers the current balance. Raises InvalidRequest (amount 0 or out of range, unknown
    currency), StoreCreditInsufficient (409: the balance would go below zero; nothing changes)."""
    if currency not in config.settings().currencies:
        raise InvalidRequest(f"The shop does not sell in {currency}.", param="currency")
    if not amount or abs(amount) > MAX_MONEY:
        raise InvalidRequest("The amount must be a non-zero integer in minor units.", param="amount")
    if not source_id or len(source_id) > MAX_SOURCE_ID:
        raise InvalidRequest("A source id is needed.", param="source_id")
    entry = CreditEntry(source_id=source_id, currency=currency, amount=amount, reason=reason[:500], at=clock.now())
    with contextlib.suppress(store_credit.AlreadyApplied):
        store_credit.change(customer_id, entry)
    return balance(customer_id).get(currency, 0)


def balance(customer_id: str) -> dict[str, int]:
    """The customer's store credit per currency (currencies never credited are absent)."""
    return store_credit.balances(customer_id)


def ledger(customer_id: str) -> list[CreditEntry]:
    """Every change of the customer's credit, oldest first."""
    return store_credit.entries(customer_id)


def balances_of(customer_ids: list[str]) -> dict[str, dict[str, int]]:
    """The store credit of many customers (the shop's customer lists), one read."""
    return store_credit.balances_of(customer_ids, config.settings().currencies)
