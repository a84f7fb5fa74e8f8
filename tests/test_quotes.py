"""Quotes: a buyer asks on their cart, the shop answers (inbox, prices per line, expiry), a buyer of that
company accepts (the cart checked out at the quoted prices, one order per quote) or the quote lapses."""

from datetime import timedelta

import pytest

from chalicelib import clock
from tests.b2b_support import account_cart, add_buyer, make_company
from tests.conftest import ADMIN, make_product
from tests.customers_support import bearer
from tests.orders_support import Stream
from tests.queue_support import consumers_fixture, mail_fixture, pump, sent_emails  # noqa: F401


@pytest.fixture
def acme(shop, pool):
    make_product(shop, price=1999, on_hand=50)
    company = make_company(shop, payment_terms_days=30, credit_limit={"EUR": 1_000_000})
    ada = add_buyer(shop, pool, company["id"], "ada@acme.example")
    return {"company": company, "ada": ada, "pool": pool}


def expiry(days: int = 7) -> str:
    return clock.iso(clock.now() + timedelta(days=days))


def asked(api, headers, lines=None, message="10 % off for 20?"):
    cart = account_cart(api, headers, lines or {"TEE-M": 20, "TEE-S": 5})
    answer = api.post(f"/carts/{cart['id']}/quote", {"message": message}, headers=headers)
    assert answer.status_code == 201, answer.data
    return answer.data, cart


def answered(api, quote, prices=None, expires_at=None):
    prices = prices or {"TEE-M": 1700, "TEE-S": 1800}
    answer = api.post(f"/admin/quotes/{quote['id']}/answer",
                      {"lines": [{"sku": s, "unit_price": p} for s, p in prices.items()],
                       "expires_at": expires_at or expiry()}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    return answer.data


def test_a_buyer_asks_the_shop_answers_and_accepting_places_the_order_at_the_quoted_prices(shop, acme):
    quote, _ = asked(shop, acme["ada"])
    assert quote["id"].startswith("quo_") and quote["status"] == "requested" and quote["message"] == "10 % off for 20?"
    assert {line["sku"]: line["list_price"] for line in quote["lines"]} == {"TEE-M": 1999, "TEE-S": 1999}
    inbox = shop.get("/admin/quotes", headers=ADMIN).data["data"]
    assert [q["id"] for q in inbox] == [quote["id"]]
    answer = answered(shop, quote)
    assert answer["status"] == "answered" and answer["subtotal"] == 20 * 1700 + 5 * 1800
    accepted = shop.post(f"/quotes/{quote['id']}/accept", headers=acme["ada"])
    assert accepted.status_code == 201, accepted.data
    order = accepted.data["order"]
    assert {(line["sku"], line["unit_price"], line["price_source"]) for line in order["lines"]} == {
        ("TEE-M", 1700, "quote"), ("TEE-S", 1800, "quote")}
    assert order["subtotal"] == 20 * 1700 + 5 * 1800 and order["quote_id"] == quote["id"]
    assert accepted.data["payment"]["client_secret"]  # paid like any checkout
    product = shop.get("/products").data["data"][0]
    assert {v["sku"]: v["available"] for v in product["variants"]} == {"TEE-M": 30, "TEE-S": 45}
    again = shop.post(f"/quotes/{quote['id']}/accept", headers=acme["ada"])
    assert again.status_code == 200 and again.data["order"]["id"] == order["id"]  # one order per quote
    assert shop.get(f"/quotes/{quote['id']}", headers=acme["ada"]).data["status"] == "accepted"
    assert shop.get("/admin/quotes", headers=ADMIN).data["data"] == []
    assert [q["id"] for q in shop.get("/admin/quotes?status=accepted", headers=ADMIN).data["data"]] == [quote["id"]]
    late = shop.post(f"/admin/quotes/{quote['id']}/answer", {"lines": [{"sku": "TEE-M", "unit_price": 1}, {
        "sku": "TEE-S", "unit_price": 1}], "expires_at": expiry()}, headers=ADMIN)
    assert late.status_code == 409 and late.data["error"]["code"] == "quote_accepted"


def test_a_quote_can_be_paid_by_invoice(shop, acme):
    quote, _ = asked(shop, acme["ada"], {"TEE-M": 10})
    answered(shop, quote, {"TEE-M": 1500})
    accepted = shop.post(f"/quotes/{quote['id']}/accept", {"payment_method": "invoice"}, headers=acme["ada"])
    assert accepted.status_code == 201, accepted.data
    assert accepted.data["order"]["payment_status"] == "invoiced" and accepted.data["order"]["subtotal"] == 15000


def test_a_quote_cannot_be_accepted_before_its_answer_or_after_it_lapsed(shop, acme, monkeypatch):
    quote, cart = asked(shop, acme["ada"])
    early = shop.post(f"/quotes/{quote['id']}/accept", headers=acme["ada"])
    assert early.status_code == 409 and early.data["error"]["code"] == "quote_not_answered"
    answered(shop, quote, expires_at=expiry(2))
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=3))
    assert shop.get(f"/quotes/{quote['id']}", headers=acme["ada"]).data["status"] == "expired"
    late = shop.post(f"/quotes/{quote['id']}/accept", headers=acme["ada"])
    assert late.status_code == 409 and late.data["error"]["code"] == "quote_expired"
    assert shop.get(f"/carts/{cart['id']}").data["status"] == "open"  # nothing reserved


def test_only_buyers_of_that_company_see_or_accept_its_quote(shop, acme):
    quote, cart = asked(shop, acme["ada"])
    answered(shop, quote)
    other = make_company(shop, name="Other SARL", vat_id="FR12345678901")
    eve = add_buyer(shop, acme["pool"], other["id"], "eve@other.example")
    mallory = bearer(acme["pool"].sign_up("mallory@example.com")["id"])
    for headers in (eve, mallory):
        assert shop.get(f"/quotes/{quote['id']}", headers=headers).status_code == 404
        refused = shop.post(f"/quotes/{quote['id']}/accept", headers=headers)
        assert refused.status_code == 404, refused.data
        assert shop.post(f"/carts/{cart['id']}/quote", {}, headers=headers).status_code == 404
    assert shop.post(f"/quotes/{quote['id']}/accept").status_code == 401
    assert shop.get(f"/carts/{cart['id']}").data["status"] == "open"
    bob = add_buyer(shop, acme["pool"], acme["company"]["id"], "bob@acme.example")  # a colleague may accept
    assert shop.post(f"/quotes/{quote['id']}/accept", headers=bob).status_code == 201


@pytest.mark.parametrize("lines, expires_in, param", [
    ({"TEE-M": 1700, "TEE-L": 1}, 7, "lines.1.sku"),
    ({"TEE-M": 1700}, 7, "lines"),
    ({"TEE-M": 1700, "TEE-S": 1800}, -1, "expires_at"),
])
def test_a_bad_answer_is_a_400_naming_the_param_and_changes_nothing(shop, acme, lines, expires_in, param):
    quote, _ = asked(shop, acme["ada"])
    answer = shop.post(f"/admin/quotes/{quote['id']}/answer", {
        "lines": [{"sku": s, "unit_price": p} for s, p in lines.items()], "expires_at": expiry(expires_in)},
        headers=ADMIN)
    assert answer.status_code == 400, answer.data
    assert answer.data["error"]["param"] == param
    assert shop.get(f"/quotes/{quote['id']}", headers=acme["ada"]).data["status"] == "requested"
    missing = shop.post("/admin/quotes/quo_nope/answer", {"lines": [{"sku": "TEE-M", "unit_price": 1}],
                                                          "expires_at": expiry()}, headers=ADMIN)
    assert missing.status_code == 404


def test_a_cart_changed_since_the_quote_cannot_be_accepted(shop, acme):
    quote, cart = asked(shop, acme["ada"])
    answered(shop, quote)
    assert shop.patch(f"/carts/{cart['id']}/lines/TEE-M", {"quantity": 50}).status_code == 200
    refused = shop.post(f"/quotes/{quote['id']}/accept", headers=acme["ada"])
    assert refused.status_code == 409 and refused.data["error"]["code"] == "quote_cart_changed"


def test_the_shop_is_told_of_a_quote_request_and_the_buyer_of_each_answer(client, pool, mail, aws):
    make_product(client, price=1999, on_hand=50)
    company = make_company(client)
    ada = add_buyer(client, pool, company["id"], "ada@acme.example")
    stream = Stream()
    quote, _ = asked(client, ada, {"TEE-M": 20})
    answered(client, quote, {"TEE-M": 1700})
    mail.raw.lambda_.invoke("on_table_change", {"Records": stream.read()})
    pump(mail, "on_email_message", aws["EmailQueueUrl"])
    sent = {(tuple(m.destinations["ToAddresses"]), m.subject) for m in sent_emails()}
    assert (("owner@example.com",), f"[Demo Shop] Quote requested: {quote['id']}") in sent
    assert (("ada@acme.example",), f"Demo Shop: Your quote {quote['id']} is ready") in sent
