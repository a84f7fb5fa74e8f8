"""What every reliability scenario checks at the end, and the tools to break things on purpose.

Faults are injected with botocore event hooks on the app's real clients (`failing`), never by
mocking boto3: `before-call.<service>.<Operation>` fails a call before it is sent, `after-call...`
fails it after AWS (moto) did the work, which is what a timeout after a committed write looks like.
"""

import itertools
import os
from collections import Counter
from contextlib import contextmanager

import boto3
import requests
from botocore.exceptions import ClientError

from chalicelib.repository import dynamo

_ids = itertools.count()


def throttled(operation: str, code: str = "ThrottlingException") -> ClientError:
    """The error AWS answers when a table or API is over its limits (or a throttled retry gave up)."""
    return ClientError({"Error": {"Code": code, "Message": "Rate exceeded"},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)


@contextmanager
def failing(client, event: str, error: Exception, times: int = 1, when=None):
    """Raise `error` from the botocore `event` of `client` ("before-call.dynamodb.TransactWriteItems",
    or "after-call..." to fail after the call took effect), the first `times` times that
    `when(api_params)` holds (every call when None). Yields the list of the failed calls' params."""
    failed: list[dict] = []
    unique = f"reliability-fault-{next(_ids)}"
    _, service, operation = event.split(".", 2)
    remember_event = f"provide-client-params.{service}.{operation}"

    def remember(params, context=None, **kwargs):
        if context is not None:
            context["reliability_params"] = params

    def raiser(context=None, **kwargs):
        params = (context or {}).get("reliability_params", {})
        if len(failed) < times and (when is None or when(params)):
            failed.append(params)
            raise error

    client.meta.events.register(remember_event, remember, unique_id=unique + "-params")
    client.meta.events.register(event, raiser, unique_id=unique)
    try:
        yield failed
    finally:
        client.meta.events.unregister(event, unique_id=unique)
        client.meta.events.unregister(remember_event, unique_id=unique + "-params")


# --- invariants --------------------------------------------------------------------------------


def table_items() -> list[dict]:
    """Every item of the table (a Scan: test code only, on a small moto table)."""
    client = boto3.client("dynamodb")
    items, start = [], None
    while True:
        page = client.scan(TableName=os.environ["TABLE_NAME"], **({"ExclusiveStartKey": start} if start else {}))
        items += [dynamo.from_item(item) for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def orders_in_table() -> list[dict]:
    return [item for item in table_items() if item["SK"] == "ORDER"]


def assert_stock_adds_up() -> dict[str, dict]:
    """For every SKU: on_hand - reserved == available, available >= 0, and `reserved` is exactly
    what the orders holding stock (not released, not yet shipped; gift-card lines hold none) account for."""
    items = table_items()
    held: Counter = Counter()
    for order in (i for i in items if i["SK"] == "ORDER"):
        if order.get("stock_released"):
            continue
        for line in order["lines"]:
            if not line.get("gift_card"):  # a gift-card line holds no stock (models/orders.quantities)
                held[line["sku"]] += line["quantity"]
        for shipment in order.get("shipments") or []:
            for line in shipment["lines"]:
                held[line["sku"]] -= line["quantity"]
    stock: dict[str, dict] = {}
    # A sharded SKU (models/stock.py) sums its shard items; each shard's own available is never negative.
    for item in (i for i in items if i["SK"] == "SKU" or i["SK"].startswith("SHARD#")):
        name = item["sku"]
        assert item["on_hand"] - item["reserved"] == item["available"] and item["available"] >= 0, (name, item)
        total = stock.setdefault(name, {"on_hand": 0, "reserved": 0, "available": 0})
        for key in total:
            total[key] += item[key]
    for name, total in stock.items():
        assert total["reserved"] >= 0, (name, total)
        assert total["reserved"] == held[name], (name, total, held[name])
    return stock


def payment_intents(localstripe: str, order_id: str) -> list[dict]:
    """Every PaymentIntent at localstripe made for `order_id` (its metadata)."""
    answer = requests.get(f"{localstripe}/v1/payment_intents", params={"limit": 100}, auth=("sk_test_commerce", ""),
                          timeout=10)
    answer.raise_for_status()
    found, page = [], answer.json()
    while True:
        found += [pi for pi in page["data"] if (pi.get("metadata") or {}).get("order_id") == order_id]
        if not page.get("has_more"):
            return found
        page = requests.get(f"{localstripe}/v1/payment_intents", auth=("sk_test_commerce", ""), timeout=10,
                            params={"limit": 100, "starting_after": page["data"][-1]["id"]}).json()
