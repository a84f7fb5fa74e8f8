"""Gift cards: issued by the shop (code shown once, stored only as a keyed hash and a seed), looked up
by code (rate-limited), disabled; applied to carts and spent in the checkout transaction (the rest
through Stripe, nothing at Stripe when covered); given back once when an unpaid order is cancelled;
bought as a product and issued once its order is paid, emailed to the recipient. Every change is in
the card's ledger, which sums to its balance."""

import re
from datetime import timedelta

import boto3
import pytest

from chalicelib import clock, gift_codes
from chalicelib.repository import dynamo
from chalicelib.services import orders
from tests.conftest import ADMIN, make_product, ready_cart
from tests.growth_support import relay
from tests.orders_support import Stream, post_event
from tests.queue_support import consumers_fixture, mail_fixture, pump, sent_emails  # noqa: F401
from tests.test_webhooks import order_of, paid_event


def issue(api, amount: int = 5000, **body) -> dict:
    answer = api.post("/admin/gift-cards", {"currency": "EUR", "amount": amount, **body}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def card(api, card_id: str) -> dict:
    answer = api.get(f"/admin/gift-cards/{card_id}", headers=ADMIN)
    assert answer.status_code == 200, answer.data
    assert sum(entry["amount"] for entry in answer.data["ledger"]) == answer.data["balance"]  # money stays whole
    return answer.data


def apply(api, cart_id: str, code: str) -> dict:
    answer = api.post(f"/carts/{cart_id}/gift-cards", {"code": code})
    assert answer.status_code == 200, answer.data
    return answer.data


def test_the_shop_issues_a_card_whose_code_is_shown_once_and_never_stored(client):
    issued = issue(client, 5000)
    code = issued["code"]
    assert len(code.replace("-", "")) == 20 and issued["last4"] == code.replace("-", "")[-4:]
    assert (issued["balance"], issued["initial_amount"], issued["status"]) == (5000, 5000, "active")
    stored = boto3.client("dynamodb").get_item(TableName=dynamo.table(),
                                               Key=dynamo.to_item({"PK": f"GIFTCARD#{issued['id']}", "SK": "GIFTCARD"}))
    assert code not in str(stored) and code.replace("-", "") not in str(stored)
    found = client.get(f"/admin/gift-cards?code={code.lower().replace('-', '')}", headers=ADMIN)
    assert found.status_code == 200 and [c["id"] for c in found.data["data"]] == [issued["id"]]
    assert found.data["data"][0]["code"] is None  # shown once, at issue
    assert [e["kind"] for e in card(client, issued["id"])["ledger"]] == ["issue"]
    assert client.get("/admin/gift-cards", headers=ADMIN).data["data"][0]["id"] == issued["id"]
    assert client.get(f"/gift-cards/{code}/balance").data == {"currency": "EUR", "balance": 5000, "expires_at": None}
    assert client.get("/admin/gift-cards?code=AAAA-AAAA-AAAA-AAAA-AAAA", headers=ADMIN).status_code == 404


def test_a_disabled_or_unknown_card_is_a_404_and_lookups_are_rate_limited(client):
    issued = issue(client)
    answer = client.post(f"/admin/gift-cards/{issued['id']}/disable", headers=ADMIN)
    assert answer.status_code == 200 and answer.data["status"] == "disabled" and answer.data["balance"] == 5000
    assert client.post(f"/admin/gift-cards/{issued['id']}/disable", headers=ADMIN).status_code == 200  # idempotent
    assert [e["kind"] for e in card(client, issued["id"])["ledger"]] == ["issue", "disable"]
    assert client.get(f"/gift-cards/{issued['code']}/balance").status_code == 404
    statuses = [client.get("/gift-cards/ABCD-EFGH-JKLM-NPQR-STUV/balance").status_code for _ in range(9)]
    assert statuses == [404] * 9  # with the one above: 10 a minute (GIFT_CARD_LOOKUPS_PER_MINUTE)
    answer = client.get(f"/gift-cards/{issued['code']}/balance")
    assert answer.status_code == 429 and answer.data["error"]["code"] == "too_many_attempts"


def test_expiry_is_refused_where_the_shop_does_not_allow_it(client, monkeypatch):
    later = clock.iso(clock.now() + timedelta(days=365))
    assert issue(client, expires_at=later)["expires_at"]
    monkeypatch.setenv("GIFT_CARD_EXPIRY_ALLOWED", "false")
    from chalicelib import config
    config.reset()
    answer = client.post("/admin/gift-cards", {"currency": "EUR", "amount": 100, "expires_at": later}, headers=ADMIN)
    assert answer.status_code == 400 and answer.data["error"]["param"] == "expires_at"
    answer = client.post("/admin/gift-cards", {"currency": "EUR", "amount": 0}, headers=ADMIN)
    assert answer.status_code == 400 and answer.data["error"]["param"] == "amount"


def test_a_card_pays_part_of_an_order_in_the_checkout_and_stripe_the_rest(shop):
    make_product(shop, price=4000, on_hand=10)
    issued = issue(shop, 3000)
    cart = ready_cart(shop, {"TEE-M": 1})
    cart = apply(shop, cart["id"], issued["code"])
    assert cart["gift_cards"] == [{"last4": issued["last4"], "amount_applied": 3000}]
    assert cart["amount_due"] == cart["total"] - 3000
    assert apply(shop, cart["id"], issued["code"])["gift_cards"] == cart["gift_cards"]  # applying again: no change
    answer = shop.post(f"/carts/{cart['id']}/checkout", {})
    assert answer.status_code == 201, answer.data
    order = answer.data["order"]
    assert order["amount_due"] == cart["total"] - 3000 and answer.data["payment"]["client_secret"]
    assert order["payments"] == [{"method": "gift_card", "amount": 3000, "last4": issued["last4"]},
                                 {"method": "stripe", "amount": order["amount_due"], "last4": None}]
    assert card(shop, issued["id"])["balance"] == 0
    assert post_event(shop, paid_event(answer.data, amount=order["amount_due"])).status_code == 200
    paid = order_of(shop, answer.data)
    assert (paid["status"], paid["amount_paid"]) == ("paid", paid["total"])


def test_an_order_the_cards_cover_is_paid_at_once_without_stripe(shop):
    make_product(shop, price=1000, on_hand=10)
    first, second = issue(shop, 1000), issue(shop, 5000)
    cart = ready_cart(shop, {"TEE-M": 2})
    apply(shop, cart["id"], first["code"])
    cart = apply(shop, cart["id"], second["code"])
    assert cart["amount_due"] == 0 and [c["amount_applied"] for c in cart["gift_cards"]] == [1000, cart["total"] - 1000]
    answer = shop.post(f"/carts/{cart['id']}/checkout", {})
    assert answer.status_code == 201, answer.data
    assert answer.data["payment"] is None
    order = answer.data["order"]
    assert (order["status"], order["payment_status"], order["amount_due"], order["amount_paid"]) == \
        ("paid", "paid", 0, order["total"])
    assert card(shop, second["id"])["balance"] == 5000 - (cart["total"] - 1000)
    again = shop.post(f"/carts/{cart['id']}/checkout", {})
    assert again.status_code == 200 and again.data["payment"] is None


def test_removing_a_card_and_a_card_in_another_currency(shop):
    make_product(shop, price=1000, on_hand=10)
    issued = issue(shop, 1000)
    cart = ready_cart(shop, {"TEE-M": 1})
    apply(shop, cart["id"], issued["code"])
    answer = shop.delete(f"/carts/{cart['id']}/gift-cards/{issued['last4']}")
    assert answer.status_code == 200 and answer.data["gift_cards"] == [] and answer.data["amount_due"] == answer.data[
        "total"]
    assert shop.delete(f"/carts/{cart['id']}/gift-cards/{issued['last4']}").status_code == 404
    dollars = shop.post("/admin/gift-cards", {"currency": "USD", "amount": 100}, headers=ADMIN).data
    answer = shop.post(f"/carts/{cart['id']}/gift-cards", {"code": dollars["code"]})
    assert answer.status_code == 409 and answer.data["error"]["code"] == "gift_card_unusable"
    answer = shop.post(f"/carts/{cart['id']}/gift-cards", {"code": "nope"})
    assert answer.status_code == 404


def test_an_expired_unpaid_order_gives_the_balance_back_exactly_once(shop, monkeypatch):
    make_product(shop, price=4000, on_hand=10)
    issued = issue(shop, 3000)
    cart = ready_cart(shop, {"TEE-M": 1})
    apply(shop, cart["id"], issued["code"])
    result = shop.post(f"/carts/{cart['id']}/checkout", {}).data
    assert card(shop, issued["id"])["balance"] == 0
    moment = clock.now() + timedelta(minutes=31)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert orders.expire_unpaid() == 1
    assert orders.expire_unpaid() == 0
    assert order_of(shop, result)["status"] == "cancelled"
    after = card(shop, issued["id"])
    assert after["balance"] == 3000
    assert [(e["kind"], e["amount"]) for e in after["ledger"]] == [("issue", 3000), ("spend", -3000),
                                                                   ("give_back", 3000)]


@pytest.fixture
def gift_product(shop):
    body = {"title": "Gift card", "description": "", "active": True,
            "variants": [{"sku": "GIFT-25", "title": "25 EUR", "price": 2500, "currency": "EUR", "on_hand": 1000,
                          "gift_card": True}]}
    answer = shop.post("/admin/products", body, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    assert answer.data["variants"][0]["gift_card"] is True
    return answer.data


def test_a_bought_gift_card_is_issued_once_when_paid_and_emailed_to_the_recipient(shop, gift_product, mail, aws):
    stream = Stream()
    cart = ready_cart(shop, {})  # lines below: a gift card needs its recipient
    answer = shop.post(f"/carts/{cart['id']}/lines", {"sku": "GIFT-25", "quantity": 2})
    assert answer.status_code == 400 and answer.data["error"]["param"] == "gift_card"
    answer = shop.post(f"/carts/{cart['id']}/lines", {"sku": "GIFT-25", "quantity": 2, "gift_card": {
        "recipient_email": "grace@example.com", "message": "Happy birthday!"}})
    assert answer.status_code == 200, answer.data
    assert answer.data["lines"][0]["gift_card"]["recipient_email"] == "grace@example.com"
    result = shop.post(f"/carts/{cart['id']}/checkout", {}).data
    assert post_event(shop, paid_event(result)).status_code == 200
    records = relay(shop, stream)
    shop.raw.lambda_.invoke("on_table_change", {"Records": records})  # delivered twice: issued once
    records = relay(shop, stream)  # the cards' own records: their emails
    cards = shop.get("/admin/gift-cards", headers=ADMIN).data["data"]
    assert len(cards) == 2 and {c["order_id"] for c in cards} == {result["order"]["id"]}
    assert all(c["balance"] == 2500 and c["recipient_email"] == "grace@example.com" for c in cards)
    while pump(mail, "on_email_message", aws["EmailQueueUrl"])["received"]:
        pass
    gift_mails = [m for m in sent_emails() if "gift card" in m.subject]
    assert len(gift_mails) == 2 and all(m.destinations["ToAddresses"] == ["grace@example.com"] for m in gift_mails)
    codes = [re.search(r"[A-Z2-9]{4}(?:-[A-Z2-9]{4}){4}", m.body).group(0) for m in gift_mails]
    assert {gift_codes.card_id_for(code) for code in codes} == {c["id"] for c in cards}


def test_a_card_sent_later_is_emailed_once_its_send_date_has_come(shop, gift_product, mail, aws):
    from chalicelib.services import gift_cards

    stream = Stream()
    send_at = clock.now().replace(microsecond=0) + timedelta(days=2)
    cart = ready_cart(shop, {})
    answer = shop.post(f"/carts/{cart['id']}/lines", {"sku": "GIFT-25", "quantity": 1, "gift_card": {
        "recipient_email": "grace@example.com", "send_at": clock.iso(send_at)}})
    assert answer.status_code == 200, answer.data
    result = shop.post(f"/carts/{cart['id']}/checkout", {}).data
    post_event(shop, paid_event(result))
    relay(shop, stream)
    relay(shop, stream)
    assert len(shop.get("/admin/gift-cards", headers=ADMIN).data["data"]) == 1
    assert not [m for m in sent_emails() if "gift card" in m.subject]
    while pump(mail, "on_email_message", aws["EmailQueueUrl"])["received"]:
        pass
    assert not [m for m in sent_emails() if "gift card" in m.subject]
    assert gift_cards.release_due(send_at - timedelta(minutes=1)) == 0
    assert gift_cards.release_due(send_at + timedelta(minutes=3)) == 1
    assert gift_cards.release_due(send_at + timedelta(minutes=8)) == 0
    relay(shop, stream)
    while pump(mail, "on_email_message", aws["EmailQueueUrl"])["received"]:
        pass
    assert len([m for m in sent_emails() if "gift card" in m.subject]) == 1
