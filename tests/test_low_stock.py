"""Low-stock alerts: the relay tells the shop once each time a SKU's available stock falls to or
below its threshold; the email consumer mails the shop owner."""

import json

import pytest

from chalicelib import events
from chalicelib.repository import stream
from tests.conftest import ADMIN, make_product
from tests.growth_support import buy, relay
from tests.orders_support import Stream, queue_messages
from tests.queue_support import consumers_fixture, mail_fixture, sent_emails, sqs_event  # noqa: F401


def inventory(api, sku: str, on_hand: int, **extra) -> dict:
    answer = api.put(f"/admin/inventory/{sku}", {"on_hand": on_hand, **extra}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    return answer.data


def stock_low(queue_url: str) -> list[dict]:
    return [m for m in queue_messages(queue_url) if m["type"] == "StockLow"]


def test_each_fall_below_the_threshold_is_one_alert_to_the_shop(shop, mail, aws):
    stream = Stream()
    make_product(shop, on_hand=10)
    inventory(shop, "TEE-M", 10, low_stock_threshold=3)
    inventory(shop, "TEE-M", 3)     # 10 → 3: crosses
    inventory(shop, "TEE-M", 2)     # still low: nothing new
    inventory(shop, "TEE-M", 8)     # back above
    buy(shop, {"TEE-M": 5})         # checkout reserves 5: 8 → 3, crosses again
    inventory(shop, "TEE-S", 1)     # no threshold: never an alert
    records = relay(shop, stream)
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})  # the stream delivers again

    alerts = stock_low(aws["EmailQueueUrl"])
    assert len(alerts) == 4 and len({a["id"] for a in alerts}) == 2  # two crossings, each delivered twice
    first = alerts[0]["data"]
    assert first == {"sku": "TEE-M", "product_id": first["product_id"], "product_title": "T-shirt", "title": "M",
                     "available": 3, "on_hand": 3, "low_stock_threshold": 3}
    assert {(a["data"]["available"], a["data"]["on_hand"]) for a in alerts} == {(3, 3), (3, 8)}

    bodies = [json.dumps(alert) for alert in alerts]
    assert mail.raw.lambda_.invoke("on_email_message", sqs_event(mail, *bodies)).payload == {"batchItemFailures": []}
    sent = sent_emails()
    assert len(sent) == 2
    assert {tuple(s.destinations["ToAddresses"]) for s in sent} == {("owner@example.com",)}
    assert all("Low stock: TEE-M" in s.subject and "T-shirt" in s.body for s in sent)


@pytest.mark.parametrize(("before", "after", "threshold", "alert"), [
    (4, 3, 3, True),      # from above to at the threshold
    (10, 0, 3, True),     # straight through it
    (3, 2, 3, False),     # was at it already
    (2, 5, 3, False),     # rising
    (5, 4, 3, False),     # still above
    (5, 1, None, False),  # no threshold set
])
def test_an_alert_needs_a_fall_from_above_the_threshold_to_at_or_below_it(before, after, threshold, alert):
    item = {"PK": "SKU#TEE-M", "SK": "SKU", "sku": "TEE-M", "product_id": "prod_1", "product_title": "T-shirt",
            "title": "M", "price": 2500, "currency": "EUR", "active": True, "on_hand": 10}
    old = item | {"available": before} | ({"low_stock_threshold": threshold} if threshold is not None else {})
    new = old | {"available": after}
    found = events.events_for_change(*stream.images(old, new), "record-1")
    assert [(e.type, e.id, e.queues) for e in found] == ([("StockLow", "TEE-M.StockLow.record-1", (events.EMAIL,))]
                                                         if alert else [])
