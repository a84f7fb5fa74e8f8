"""Store credit: a customer's balance per currency and its ledger, in the customer's partition.

| item                          | key                                                  |
| ----------------------------- | ---------------------------------------------------- |
| balance in one currency       | PK=CUSTOMER#<cus_id>, SK=CREDIT#<CUR>                |
| ledger entry (once per source)| PK=CUSTOMER#<cus_id>, SK=CREDITLOG#<source_id>       |

A change is one transaction: the balance (`ADD`, conditioned on `balance >= :need` when it takes
credit away) and the ledger entry keyed by its source (an admin grant, a return, an order's spend or
give-back), written only if absent. So a retried change applies once, a spend never takes the
balance below zero, and the ledger sums to the balance.
"""

from chalicelib.clock import iso
from chalicelib.errors import StoreCreditInsufficient
from chalicelib.models.balances import CreditEntry
from chalicelib.repository import dynamo


class AlreadyApplied(Exception):
    """This source changed the credit already."""


def balance_key(customer_id: str, currency: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": f"CREDIT#{currency}"}


def entry_key(customer_id: str, source_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": f"CREDITLOG#{source_id}"}


def change_pieces(customer_id: str, entry: CreditEntry, name: str = "credit") -> list[dynamo.Piece]:
    """The pieces "<name>" (the balance) and "<name>_entry" (the ledger entry, once per source) of a
    change by `entry.amount`; a negative amount is conditioned on the balance covering it."""
    if entry.amount < 0:
        balance = dynamo.update(name, balance_key(customer_id, entry.currency),
                                "ADD balance :amount SET updated_at = :now", "balance >= :need",
                                amount=entry.amount, now=iso(entry.at), need=-entry.amount)
    else:
        balance = dynamo.update(name, balance_key(customer_id, entry.currency),
                                "ADD balance :amount SET currency = :currency, customer_id = :customer, "
                                "updated_at = :now", amount=entry.amount, currency=entry.currency,
                                customer=customer_id, now=iso(entry.at))
    item = entry_key(customer_id, entry.source_id) | entry.model_dump(mode="json") | {"customer_id": customer_id}
    return [balance, dynamo.put(f"{name}_entry", item, "attribute_not_exists(PK)")]


def change(customer_id: str, entry: CreditEntry) -> None:
    """Apply one change once. Raises AlreadyApplied (its source changed the credit already; nothing
    written now), StoreCreditInsufficient (it would take the balance below zero)."""
    try:
        dynamo.transact(change_pieces(customer_id, entry))
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("credit_entry"):
            raise AlreadyApplied(entry.source_id) from cancelled
        if cancelled.failed("credit"):
            raise StoreCreditInsufficient(
                f"The store credit in {entry.currency} is smaller than {-entry.amount}.", param="amount") from cancelled
        raise


def balances(customer_id: str) -> dict[str, int]:
    """The customer's balance per currency (a Query on the CREDIT# items of their partition)."""
    answer = dynamo.call("query", TableName=dynamo.table(), ConsistentRead=True,
                         KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                         ExpressionAttributeValues=dynamo.values(pk=f"CUSTOMER#{customer_id}", prefix="CREDIT#"))
    return {item["currency"]: int(item.get("balance", 0))
            for item in map(dynamo.from_item, answer["Items"]) if item.get("currency")}


def entries(customer_id: str) -> list[CreditEntry]:
    """The customer's whole credit ledger, oldest first."""
    found = [CreditEntry.model_validate(item) for item in dynamo.query_all(
        None, "PK", f"CUSTOMER#{customer_id}", sk_condition=" AND begins_with(#sk, :prefix)", prefix="CREDITLOG#")]
    return sorted(found, key=lambda e: (e.at, e.seq))


def balances_of(customer_ids: list[str], currencies: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """The balances of many customers at once (one BatchGetItem of their CREDIT#<CUR> items)."""
    keys = [balance_key(customer_id, currency) for customer_id in customer_ids for currency in currencies]
    found: dict[str, dict[str, int]] = {customer_id: {} for customer_id in customer_ids}
    for item in dynamo.batch_get(keys, consistent=False) if keys else []:
        found.setdefault(item["PK"].removeprefix("CUSTOMER#"), {})[item["currency"]] = int(item.get("balance", 0))
    return found
