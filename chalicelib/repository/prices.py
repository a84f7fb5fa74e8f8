"""Price history and the price writes of scheduled sales.

| pattern                              | key or index                                          |
| ------------------------------------ | ----------------------------------------------------- |
| a SKU's price changes, by time       | PK=PRICES#<sku>, SK=<at>#<reason>[#<sale id>]          |
| lower / restore a SKU's prices       | transaction: SKU#<sku> (on its price_version) + its   |
|                                      | SHARD#<nn> copies + the PRICES#<sku> entry            |

An entry holds every currency's price from `at` on (`prices`), and why (`admin`, `import`,
`sale_start`, `sale_end`). Entries are written in the transaction that changes the price, so the
history never misses a change; one keyed on the same second and reason is the same change written
again (a retry), which overwrites it with the same prices.
"""

from datetime import datetime

from chalicelib.clock import iso
from chalicelib.models import SkuRecord
from chalicelib.repository import dynamo
from chalicelib.repository.catalog import shard_key, sku_key


def history_key(sku: str, at: datetime, reason: str, ref: str | None = None) -> dict:
    return {"PK": f"PRICES#{sku}", "SK": f"{iso(at)}#{reason}" + (f"#{ref}" if ref else "")}


def history_piece(sku: str, at: datetime, prices: dict[str, int], reason: str, ref: str | None = None) -> dynamo.Piece:
    """The piece "history:<sku>" recording that `sku` costs `prices` from `at` on, for `reason`."""
    return dynamo.put(f"history:{sku}", history_key(sku, at, reason, ref)
                      | {"sku": sku, "at": iso(at), "prices": prices, "reason": reason, "ref": ref})


def history(sku: str, until: datetime, since: datetime) -> list[dict]:
    """The entries from the one in force at `since` (the last before it) up to `until`, newest first:
    one descending Query read until it passes `since`."""
    found: list[dict] = []
    kwargs = {"TableName": dynamo.table(), "KeyConditionExpression": "PK = :pk AND SK <= :until",
              "ExpressionAttributeValues": dynamo.values(pk=f"PRICES#{sku}", until=iso(until) + "~"),
              "ScanIndexForward": False, "Limit": 50}
    while True:
        answer = dynamo.call("query", **kwargs)
        for item in map(dynamo.from_item, answer["Items"]):
            found.append(item)
            if item["at"] <= iso(since):
                return found
        if not answer.get("LastEvaluatedKey"):
            return found
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


class Moved(Exception):
    """The SKU's prices changed between the read and the write (an admin edit, another sale)."""


def reprice(record: SkuRecord, fields: dict, at: datetime, reason: str, ref: str) -> None:
    """Write a SKU's sale fields (`prices`, `price`, `compare_at_prices`, `sales`, `lowest_prices_30d`,
    `sale_starts_at`, `sale_ends_at`; None removes one) on the `price_version` read, copy the prices to
    its shards and record the history entry, all at once. Raises Moved when the SKU changed meanwhile."""
    sets = {k: v for k, v in fields.items() if v is not None}
    removes = [k for k, v in fields.items() if v is None]
    expression = "SET " + ", ".join(f"{k} = :{k}" for k in sets) + ", price_version = :next"
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    pieces = [dynamo.update("sku", sku_key(record.sku), expression,
                            "attribute_exists(PK) AND " + ("price_version = :was" if record.price_version
                                                           else "(attribute_not_exists(price_version) OR "
                                                                "price_version = :was)"),
                            **sets, next=record.price_version + 1, was=record.price_version)]
    pieces += [dynamo.update(f"shard:{i}", shard_key(record.sku, i), "SET prices = :prices, price = :price",
                             "attribute_exists(PK)", prices=fields["prices"], price=fields["price"])
               for i in range(1, record.shards)]
    pieces.append(history_piece(record.sku, at, fields["prices"], reason, ref))
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        raise Moved(record.sku) from cancelled
