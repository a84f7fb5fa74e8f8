"""Admin reads for the back office and integrations: the checkout funnel (carts created → checkouts
→ paid, counted once per change by the stream relay) and stock levels of a list of SKUs."""

from datetime import timedelta

from chalicelib import clock
from tests.conftest import ADMIN, make_cart, make_product
from tests.growth_support import at_fixture, buy, relay  # noqa: F401
from tests.orders_support import Stream


def funnel(api, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.get(f"/admin/reports/funnel?{query}", headers=ADMIN)


def test_the_funnel_counts_carts_checkouts_and_paid_orders_of_every_currency_once(shop, at):
    stream = Stream()
    make_product(shop, sku_prefix="TEE", price=2500, on_hand=50)
    make_product(shop, sku_prefix="HAT", price=4000, on_hand=50, sizes=("ONE",), title="Hat", currency="USD")
    today = clock.now().date()
    yesterday = today - timedelta(days=1)
    at(clock.now() - timedelta(days=1))
    buy(shop, {"TEE-M": 2})                             # cart, checkout, paid: yesterday
    at(None)
    buy(shop, {"TEE-S": 1}, paid=False)                 # cart, checkout: today
    make_cart(shop)                                     # a cart only
    buy(shop, {"HAT-ONE": 1}, currency="USD")           # another currency: counted too
    records = relay(shop, stream)

    answer = funnel(shop, **{"from": yesterday, "to": today})
    assert answer.status_code == 200, answer.data
    expected = {
        "from": yesterday.isoformat(), "to": today.isoformat(), "carts_created": 4, "checkouts": 3, "paid": 2,
        "conversion_rate": 0.5,
        "by_day": [{"date": yesterday.isoformat(), "carts_created": 1, "checkouts": 1, "paid": 1},
                   {"date": today.isoformat(), "carts_created": 3, "checkouts": 2, "paid": 1}],
    }
    assert answer.data == expected
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})  # redelivered: counted once
    assert funnel(shop, **{"from": yesterday, "to": today}).data == expected
    # The sales report keeps its fields: checkouts are not among them.
    sales = shop.get(f"/admin/reports/sales?from={yesterday}&to={today}", headers=ADMIN).data
    assert "checkouts" not in sales["by_day"][0]


def test_the_funnel_defaults_to_30_days_and_names_a_bad_parameter(client):
    answer = funnel(client)
    assert answer.status_code == 200, answer.data
    assert len(answer.data["by_day"]) == 30
    assert answer.data["conversion_rate"] is None
    for params, param in [({"from": "2026-13-01"}, "from"), ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
                          ({"from": "2024-01-01", "to": "2026-01-01"}, "to")]:
        answer = funnel(client, **params)
        assert answer.status_code == 400, answer.data
        assert answer.data["error"]["param"] == param
    assert client.get("/admin/reports/funnel").status_code == 401


def test_stock_levels_of_the_skus_asked_for(client):
    make_product(client, sku_prefix="TEE", price=2500, on_hand=7)
    answer = client.put("/admin/inventory/TEE-S", {"on_hand": 3, "low_stock_threshold": 5}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    answer = client.get("/admin/inventory?skus=TEE-S,NOPE,TEE-M,TEE-S", headers=ADMIN)
    assert answer.status_code == 200, answer.data
    assert answer.data == {"data": [
        {"sku": "TEE-S", "on_hand": 3, "reserved": 0, "available": 3, "low_stock_threshold": 5, "shards": 1},
        {"sku": "TEE-M", "on_hand": 7, "reserved": 0, "available": 7, "low_stock_threshold": None, "shards": 1},
    ]}
    many = ",".join(f"S{n}" for n in range(101))
    for query in ("", "?skus=", "?skus=a,,b", f"?skus={many}"):
        answer = client.get(f"/admin/inventory{query}", headers=ADMIN)
        assert answer.status_code == 400, (query, answer.data)
        assert answer.data["error"]["param"] == "skus"
    assert client.get("/admin/inventory?skus=TEE-S").status_code == 401


def test_resending_a_confirmation_queues_the_orderpaid_email_once_per_idempotency_key(client, aws):
    from tests.orders_support import queue_messages
    from tests.queue_support import order_item, store

    paid = store(order_item("paid"))
    unpaid = store(order_item("pending_payment"))
    headers = ADMIN | {"Idempotency-Key": "resend-1"}
    answer = client.post(f"/admin/orders/{paid['id']}/confirmation-email", {}, headers=headers)
    assert answer.status_code == 202, answer.data
    assert answer.data["email"] == "ada@example.com"
    again = client.post(f"/admin/orders/{paid['id']}/confirmation-email", {}, headers=headers)
    assert again.status_code == 202 and again.data == answer.data
    queued = queue_messages(aws["EmailQueueUrl"])
    assert [(m["id"], m["type"], m["data"]["order"]["id"]) for m in queued] == [
        (answer.data["event_id"], "OrderPaid", paid["id"])]
    assert queued[0]["data"]["order_token"] == paid["token"]
    assert queue_messages(aws["FulfilmentQueueUrl"]) == []

    refused = client.post(f"/admin/orders/{unpaid['id']}/confirmation-email", {}, headers=ADMIN)
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "invalid_state")
    missing = client.post("/admin/orders/ord_nope/confirmation-email", {}, headers=ADMIN)
    assert missing.status_code == 404
    assert client.post(f"/admin/orders/{paid['id']}/confirmation-email", {}).status_code == 401
