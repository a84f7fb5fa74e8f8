"""Gift-card lines are not goods: a gift-card variant needs no stock and is never out of stock; its
line reserves, releases and ships no stock (the checkout transaction has no piece on its SKU); the
warehouse never sees it (left out of fulfilment messages, an order of gift cards only is never handed
over); an order of gift cards only is fulfilled once its cards are issued, without a "shipped" email;
gift cards cannot be returned."""

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest

from chalicelib import clock, events
from chalicelib.repository import dynamo
from chalicelib.repository import orders as order_items
from chalicelib.search.documents import document
from chalicelib.services import orders
from tests.conftest import ADDRESS, ADMIN, make_cart, make_product
from tests.growth_support import relay
from tests.orders_support import Stream, post_event, queue_messages
from tests.queue_support import consumers_fixture, mail_fixture, pump, sent_emails  # noqa: F401
from tests.test_checkout import stock
from tests.test_fulfilment import Receiver, hand_over
from tests.test_webhooks import order_of, paid_event

RECIPIENT = {"recipient_email": "grace@example.com", "message": "Happy birthday!"}


@pytest.fixture
def gift_product(shop):
    """A gift-card product created without on_hand, as a shop would."""
    body = {"title": "Gift card", "description": "", "active": True,
            "variants": [{"sku": "GIFT-25", "title": "25 EUR", "price": 2500, "currency": "EUR", "gift_card": True}]}
    answer = shop.post("/admin/products", body, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def cart_with(api, gift_cards: int, goods: dict[str, int] | None = None) -> dict:
    cart = make_cart(api)
    if gift_cards:
        answer = api.post(f"/carts/{cart['id']}/lines", {"sku": "GIFT-25", "quantity": gift_cards,
                                                          "gift_card": RECIPIENT})
        assert answer.status_code == 200, answer.data
    for sku, quantity in (goods or {}).items():
        answer = api.post(f"/carts/{cart['id']}/lines", {"sku": sku, "quantity": quantity})
        assert answer.status_code == 200, answer.data
    answer = api.patch(f"/carts/{cart['id']}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                                 "shipping_method": "standard"})
    assert answer.status_code == 200, answer.data
    return answer.data


def checkout(api, cart: dict, **body) -> dict:
    answer = api.post(f"/carts/{cart['id']}/checkout", body)
    assert answer.status_code == 201, answer.data
    return answer.data


@contextmanager
def transactions():
    """The TransactWriteItems requests the app sends to (moto's) DynamoDB, as sent."""
    sent: list[list[dict]] = []

    def record(params, **_):
        sent.append(params["TransactItems"])

    events_ = dynamo.client().meta.events
    events_.register("provide-client-params.dynamodb.TransactWriteItems", record, unique_id="test-gift-card-lines")
    try:
        yield sent
    finally:
        events_.unregister("provide-client-params.dynamodb.TransactWriteItems", unique_id="test-gift-card-lines")


def keys_of(transaction: list[dict]) -> set[str]:
    found = [next(iter(action.values())) for action in transaction]
    return {(piece.get("Key") or piece["Item"])["PK"]["S"] for piece in found}


def test_a_gift_card_variant_needs_no_stock_and_is_shown_in_stock(shop, gift_product):
    assert stock("GIFT-25") == {"on_hand": 0, "reserved": 0, "available": 0}
    shown = shop.get(f"/products/{gift_product['id']}").data["variants"][0]
    assert shown["gift_card"] is True and shown["available"] > 0
    assert gift_product["variants"][0]["available"] > 0
    # the derived views (search, channel feeds) read the stored items
    item = dynamo.get({"PK": "SKU#GIFT-25", "SK": "SKU"})
    product = dynamo.get({"PK": f"PRODUCT#{gift_product['id']}", "SK": "PRODUCT"})
    assert document(product, {"GIFT-25": item})["variants"][0]["available"] > 0
    # only a gift card may leave on_hand out
    body = {"title": "Mug", "variants": [{"sku": "MUG", "price": 900, "currency": "EUR"}]}
    answer = shop.post("/admin/products", body, headers=ADMIN)
    assert answer.status_code == 400 and "on_hand" in answer.data["error"]["message"]


def test_a_gift_card_checks_out_with_no_stock_and_its_order_reserves_and_gives_back_none(shop, gift_product,
                                                                                          monkeypatch):
    make_product(shop, sku_prefix="TEE", on_hand=5)
    cart = cart_with(shop, 3, {"TEE-M": 1})
    with transactions() as sent:
        result = checkout(shop, cart)
    assert len(sent) == 1
    # the order, the cart and one stock piece: the T-shirt's, none for the gift card
    assert keys_of(sent[0]) == {f"ORDER#{result['order']['id']}", f"CART#{cart['id']}", "SKU#TEE-M"}
    assert stock("GIFT-25") == {"on_hand": 0, "reserved": 0, "available": 0}
    assert stock("TEE-M") == {"on_hand": 5, "reserved": 1, "available": 4}

    moment = clock.now() + timedelta(minutes=31)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert orders.expire_unpaid() == 1
    assert order_of(shop, result)["status"] == "cancelled"
    assert stock("GIFT-25") == {"on_hand": 0, "reserved": 0, "available": 0}  # nothing given back
    assert stock("TEE-M") == {"on_hand": 5, "reserved": 0, "available": 5}
    assert shop.get("/admin/inventory/GIFT-25/ledger", headers=ADMIN).data["data"] == []
    answer = shop.post("/admin/inventory/GIFT-25/adjustments", {"delta": 100, "reason": "large on_hand"},
                       headers=ADMIN)
    assert answer.status_code == 409 and answer.data["error"]["param"] == "sku"
    assert shop.get("/admin/inventory/GIFT-25/ledger", headers=ADMIN).data["data"] == []


def test_cancelling_a_mixed_paid_order_releases_only_the_goods(shop, gift_product):
    make_product(shop, sku_prefix="TEE", on_hand=5)
    result = checkout(shop, cart_with(shop, 2, {"TEE-S": 2}), payment_method="pm_card_visa")  # paid at localstripe
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    assert post_event(shop, paid_event(result, payment_id=payment_id)).status_code == 200
    answer = shop.post(f"/admin/orders/{result['order']['id']}/cancel", {}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    assert stock("TEE-S") == {"on_hand": 5, "reserved": 0, "available": 5}
    assert stock("GIFT-25") == {"on_hand": 0, "reserved": 0, "available": 0}


def test_an_order_of_gift_cards_only_is_fulfilled_once_its_cards_are_issued(shop, gift_product, mail, aws):
    stream = Stream()
    result = checkout(shop, cart_with(shop, 2))
    assert post_event(shop, paid_event(result)).status_code == 200
    records = relay(shop, stream)
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})  # delivered twice: no second effect
    relay(shop, stream)  # the cards' records, and the order's fulfilment
    relay(shop, stream)
    order = order_of(shop, result)
    assert (order["status"], order["fulfilment_status"], order["shipments"]) == ("paid", "shipped", [])
    cards = shop.get("/admin/gift-cards", headers=ADMIN).data["data"]
    assert len(cards) == 2 and {c["order_id"] for c in cards} == {result["order"]["id"]}
    assert queue_messages(aws["FulfilmentQueueUrl"]) == []  # the warehouse never hears of it
    while pump(mail, "on_email_message", aws["EmailQueueUrl"])["received"]:
        pass
    subjects = [m.subject for m in sent_emails()]
    assert len([s for s in subjects if "gift card" in s]) == 2
    assert any("is confirmed" in s for s in subjects)
    assert not [s for s in subjects if "on its way" in s]  # the cards' email is the delivery
    # delivered: it cannot be cancelled (its cards are live) nor shipped
    answer = shop.post(f"/admin/orders/{result['order']['id']}/cancel", {}, headers=ADMIN)
    assert answer.status_code == 409, answer.data
    answer = shop.post(f"/admin/orders/{result['order']['id']}/shipments", {"carrier": "dhl", "tracking_number": "1"},
                       headers=ADMIN)
    assert answer.status_code == 409, answer.data


def test_a_mixed_order_hands_over_only_its_goods_and_is_fulfilled_when_they_ship(shop, gift_product, consumers,
                                                                                 aws):
    make_product(shop, sku_prefix="TEE", on_hand=5)
    stream = Stream()
    result = checkout(shop, cart_with(shop, 1, {"TEE-M": 2}))
    assert post_event(shop, paid_event(result)).status_code == 200
    relay(shop, stream)
    relay(shop, stream)
    assert order_of(shop, result)["fulfilment_status"] == "unfulfilled"  # the cards are issued, the goods wait
    [paid] = [m for m in queue_messages(aws["FulfilmentQueueUrl"]) if m["type"] == "OrderPaid"]
    assert [(line["sku"], line["quantity"]) for line in paid["data"]["order"]["lines"]] == [("TEE-M", 2)]
    assert "grace@example.com" not in json.dumps(paid)
    assert hand_over(consumers, json.dumps(paid)) == {"batchItemFailures": []}
    assert order_of(shop, result)["fulfilment_status"] == "requested"

    order_id = result["order"]["id"]
    answer = shop.post(f"/admin/orders/{order_id}/shipments", {"carrier": "dhl", "tracking_number": "1", "lines": [
        {"sku": "GIFT-25", "quantity": 1}]}, headers=ADMIN)
    assert answer.status_code == 409, answer.data  # nothing of a gift card to ship
    answer = shop.post(f"/admin/orders/{order_id}/shipments", {"carrier": "dhl", "tracking_number": "1"},
                       headers=ADMIN)
    assert answer.status_code == 201, answer.data
    assert answer.data["fulfilment_status"] == "shipped"
    assert answer.data["shipments"][0]["lines"] == [{"sku": "TEE-M", "quantity": 2}]
    assert stock("TEE-M") == {"on_hand": 3, "reserved": 0, "available": 3}
    assert stock("GIFT-25") == {"on_hand": 0, "reserved": 0, "available": 0}
    # the shipment as the warehouse hears of it: goods only
    relay(shop, stream)
    shipped = [m for m in queue_messages(aws["FulfilmentQueueUrl"]) if m["type"] == "ShipmentCreated"]
    assert [line["sku"] for m in shipped for line in m["data"]["order"]["lines"]] == ["TEE-M"]

    # gift cards cannot be returned; the goods can
    token = {"X-Order-Token": result["order_token"]}
    answer = shop.post(f"/orders/{order_id}/returns", {"lines": [
        {"sku": "TEE-M", "quantity": 1, "reason": "size_or_fit"},
        {"sku": "GIFT-25", "quantity": 1, "reason": "other"}]}, headers=token)
    assert answer.status_code == 400 and answer.data["error"]["param"] == "lines.1.sku", answer.data
    assert "gift card" in answer.data["error"]["message"]
    answer = shop.post(f"/orders/{order_id}/returns", {"lines": [
        {"sku": "TEE-M", "quantity": 1, "reason": "size_or_fit"}]}, headers=token)
    assert answer.status_code == 201, answer.data


def test_a_fulfilment_message_queued_with_gift_card_lines_reaches_the_3pl_without_them(consumers, monkeypatch):
    from chalicelib import config
    from tests.queue_support import order_item, store

    receiver = Receiver()
    monkeypatch.setenv("FULFILMENT_PROVIDER", "webhook")
    monkeypatch.setenv("FULFILMENT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("FULFILMENT_WEBHOOK_SECRET", "secret")
    config.reset()
    try:
        goods = order_item()["lines"][0]
        card = goods | {"sku": "GIFT-25", "gift_card": {"recipient_email": "grace@example.com"}}
        mixed = store(order_item(id="ord_mixed", lines=[goods, card]))
        only_cards = store(order_item(id="ord_cards", lines=[card]))
        # as an older relay queued them: every line
        old = [json.dumps({"id": f"{o['id']}.OrderPaid", "type": "OrderPaid", "occurred_at": "2026-01-01T00:00:00Z",
                           "data": {"order": order_items.get(o["id"]).model_dump(mode="json")}})
               for o in (mixed, only_cards)]
        assert hand_over(consumers, *old) == {"batchItemFailures": []}
        assert len(receiver.requests) == 1
        sent = json.loads(receiver.requests[0]["body"])
        assert sent["data"]["order"]["id"] == "ord_mixed"
        assert [line["sku"] for line in sent["data"]["order"]["lines"]] == [goods["sku"]]
        assert order_items.get("ord_mixed").fulfilment_status == "requested"
        assert order_items.get("ord_cards").fulfilment_status == "unfulfilled"
    finally:
        receiver.close()
        monkeypatch.undo()
        config.reset()


def test_the_fulfilment_body_of_an_event_leaves_gift_card_lines_out():
    line = {"sku": "TEE-M", "quantity": 1}
    card = {"sku": "GIFT-25", "quantity": 1, "gift_card": {"recipient_email": "grace@example.com"}}
    event = events.Event("e1", "OrderPaid", "2026-01-01T00:00:00Z",
                         {"order": {"id": "ord_1", "lines": [line, card]}, "order_token": "t"})
    assert json.loads(event.body(events.FULFILMENT))["data"] == {"order": {"id": "ord_1", "lines": [line]}}
    assert json.loads(event.body(events.EMAIL))["data"]["order"]["lines"] == [line, card]


def test_a_gift_card_product_stays_one_through_the_csv_export_and_import(shop, gift_product):
    exported = shop.get("/admin/products/export", headers=ADMIN).data["csv"]
    assert f"{gift_product['id']},Gift card,,true,GIFT-25,25 EUR,2500,EUR,0," in exported.splitlines()
    answer = shop.post("/admin/products/import", {"csv": exported.replace(",2500,EUR,", ",3000,EUR,")}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    [variant] = shop.get(f"/products/{gift_product['id']}").data["variants"]
    assert (variant["price"], variant.get("gift_card"), variant["available"] > 0) == (3000, True, True)
