"""Cancelling an order that bought gift cards: its issued cards are voided in the cancel's own transaction,
each only while unspent (a spent one refuses the cancel, 409 `gift_card_used`, and nothing changes); a card
is issued only while its order is still paid, so a cancel before the issuance leaves nothing to issue.
The race of the two on a moto server is tests/reliability/test_gift_card_races.py."""

import json
from datetime import timedelta

import pytest

from chalicelib import clock, gift_codes, payments
from chalicelib.errors import OrderChanged, UpstreamUnavailable
from chalicelib.repository import gift_cards as card_items
from chalicelib.repository import orders as order_items
from chalicelib.services import gift_cards
from tests.conftest import ADMIN, make_product, ready_cart
from tests.growth_support import relay
from tests.orders_support import Stream, post_event
from tests.queue_support import consumers_fixture, mail_fixture, message, order_item, sent_emails  # noqa: F401
from tests.test_checkout import stock
from tests.test_emails import deliver, outbox, parts
from tests.test_expiry_and_relay import refunds_of
from tests.test_gift_card_lines import RECIPIENT, cart_with, checkout, gift_product, keys_of, transactions  # noqa: F401
from tests.test_gift_cards import apply, card
from tests.test_webhooks import order_of, paid_event


def paid(api, cart: dict) -> dict:
    """Check `cart` out, paid at localstripe and confirmed by its webhook."""
    result = checkout(api, cart, payment_method="pm_card_visa")
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    assert post_event(api, paid_event(result, payment_id=payment_id)).status_code == 200
    return result | {"payment_id": payment_id}


def issued_cards(api, order_id: str) -> list[dict]:
    """The order's cards as the shop sees them, with their ledgers."""
    listed = api.get("/admin/gift-cards?limit=100", headers=ADMIN).data["data"]
    return [card(api, c["id"]) for c in listed if c["order_id"] == order_id]


def issue_now(order_id: str) -> int:
    return gift_cards.issue_for_order(order_items.get(order_id))


def cancel(api, order_id: str):
    return api.post(f"/admin/orders/{order_id}/cancel", {}, headers=ADMIN)


@pytest.mark.usefixtures("gift_product")
def test_cancelling_a_mixed_order_voids_its_issued_cards_in_the_cancels_transaction(shop, localstripe):
    make_product(shop, sku_prefix="TEE", on_hand=5)
    result = paid(shop, cart_with(shop, 2, {"TEE-S": 1}))
    order_id = result["order"]["id"]
    assert issue_now(order_id) == 2
    assert [(c["status"], c["balance"]) for c in issued_cards(shop, order_id)] == [("active", 2500)] * 2

    with transactions() as sent:
        answer = cancel(shop, order_id)
    assert answer.status_code == 200, answer.data
    order = answer.data
    assert (order["status"], order["payment_status"], order["amount_refunded"]) == ("cancelled", "refunded",
                                                                                    order["total"])
    assert refunds_of(localstripe, result["payment_id"]) == [order["total"]]
    assert stock("TEE-S") == {"on_hand": 5, "reserved": 0, "available": 5}
    cards = issued_cards(shop, order_id)
    assert [(c["status"], c["balance"]) for c in cards] == [("disabled", 0)] * 2
    for voided in cards:
        assert [(e["kind"], e["amount"]) for e in voided["ledger"]] == [("issue", 2500), ("void", -2500)]
    # one transaction cancels the order, releases the goods and voids both cards
    [cancelling] = [t for t in sent if any(key.startswith("GIFTCARD#") for key in keys_of(t))]
    assert {f"ORDER#{order_id}", "SKU#TEE-S", *(f"GIFTCARD#{c['id']}" for c in cards)} <= keys_of(cancelling)
    assert '"status": {"S": "cancelled"}' in json.dumps(cancelling)
    # a voided card pays nothing
    cart = ready_cart(shop, {"TEE-S": 1})
    code = gift_codes.code_for(card_items.get(cards[0]["id"]).seed)
    assert shop.post(f"/carts/{cart['id']}/gift-cards", {"code": code}).status_code == 404
    assert issue_now(order_id) == 0  # a redelivered stream record issues nothing again
    assert cancel(shop, order_id).status_code == 409


@pytest.mark.usefixtures("gift_product")
def test_a_spent_card_refuses_the_cancel_naming_it_and_nothing_changes(shop, localstripe):
    make_product(shop, sku_prefix="TEE", on_hand=5, price=1000)
    result = paid(shop, cart_with(shop, 2, {"TEE-S": 1}))
    order_id = result["order"]["id"]
    assert issue_now(order_id) == 2
    spent, untouched = issued_cards(shop, order_id)
    code = gift_codes.code_for(card_items.get(spent["id"]).seed)
    other = ready_cart(shop, {"TEE-M": 1})
    apply(shop, other["id"], code)
    assert shop.post(f"/carts/{other['id']}/checkout", {}).status_code == 201  # 1000 (and shipping) of 2500
    assert 0 < card(shop, spent["id"])["balance"] < 2500
    before = shop.get(f"/admin/orders/{order_id}", headers=ADMIN).data
    stock_before = stock("TEE-S")

    answer = cancel(shop, order_id)
    assert answer.status_code == 409, answer.data
    error = answer.data["error"]
    assert (error["code"], error["gift_card_id"]) == ("gift_card_used", spent["id"])
    assert f"ending {spent['last4']}" in error["message"]
    assert code not in json.dumps(answer.data) and code.replace("-", "") not in json.dumps(answer.data)
    # nothing changed: the order, its stock, the other card, the money
    assert shop.get(f"/admin/orders/{order_id}", headers=ADMIN).data == before
    assert stock("TEE-S") == stock_before
    assert (card(shop, untouched["id"])["status"], card(shop, untouched["id"])["balance"]) == ("active", 2500)
    assert refunds_of(localstripe, result["payment_id"]) == []
    # the shop can still refund the goods
    goods = next(line["line_total"] for line in before["lines"] if line["sku"] == "TEE-S")
    answer = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": goods, "reason": "goods"}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    assert refunds_of(localstripe, result["payment_id"]) == [goods]


@pytest.mark.usefixtures("gift_product")
def test_a_disabled_card_refuses_the_cancel_too(shop, localstripe):
    result = paid(shop, cart_with(shop, 1, {}))
    order_id = result["order"]["id"]
    assert issue_now(order_id) == 1
    [issued] = issued_cards(shop, order_id)
    assert shop.post(f"/admin/gift-cards/{issued['id']}/disable", {}, headers=ADMIN).status_code == 200
    answer = cancel(shop, order_id)
    assert answer.status_code == 409 and answer.data["error"]["code"] == "gift_card_used", answer.data
    assert "disabled" in answer.data["error"]["message"]
    assert order_of(shop, result)["status"] == "paid"


@pytest.mark.usefixtures("gift_product")
def test_a_cancel_before_the_issuance_leaves_nothing_to_issue(shop, localstripe):
    stream = Stream()
    result = paid(shop, cart_with(shop, 2))  # gift cards only
    order_id = result["order"]["id"]
    answer = cancel(shop, order_id)  # before the relay has seen the payment
    assert answer.status_code == 200, answer.data
    relay(shop, stream)  # the payment's record, then the cancel's: it tries to issue the cards
    relay(shop, stream)
    assert issued_cards(shop, order_id) == []
    order = order_of(shop, result)
    assert (order["status"], order["payment_status"], order["fulfilment_status"]) == ("cancelled", "refunded",
                                                                                      "unfulfilled")
    assert refunds_of(localstripe, result["payment_id"]) == [order["total"]]


@pytest.mark.usefixtures("gift_product")
def test_a_card_issued_while_the_cancel_decides_makes_it_read_again_and_void_it(shop, localstripe,
                                                                                 monkeypatch):
    result = paid(shop, cart_with(shop, 2))
    order_id = result["order"]["id"]
    real = gift_cards.voids_for_cancel
    calls = []

    def racing_issuance(order):
        pieces = real(order)  # the cancel has read the cards: none issued yet
        if not calls:
            assert issue_now(order_id) == 2  # the relay issues them now
        calls.append(len(pieces))
        return pieces

    monkeypatch.setattr(gift_cards, "voids_for_cancel", racing_issuance)
    answer = cancel(shop, order_id)
    assert answer.status_code == 200, answer.data
    assert calls == [2, 4]  # two absent checks failed; read again: two cards, two pieces each
    assert [(c["status"], c["balance"]) for c in issued_cards(shop, order_id)] == [("disabled", 0)] * 2


@pytest.mark.usefixtures("gift_product")
def test_a_card_sent_later_and_voided_is_never_released(shop, localstripe):
    later = clock.now() + timedelta(days=2)
    cart = cart_with(shop, 0)
    answer = shop.post(f"/carts/{cart['id']}/lines", {"sku": "GIFT-25", "quantity": 1,
                                                       "gift_card": RECIPIENT | {"send_at": clock.iso(later)}})
    assert answer.status_code == 200, answer.data
    result = paid(shop, answer.data)
    order_id = result["order"]["id"]
    assert issue_now(order_id) == 1
    assert cancel(shop, order_id).status_code == 200
    assert gift_cards.release_due(later + timedelta(minutes=5)) == 0
    [voided] = issued_cards(shop, order_id)
    assert not card_items.get(voided["id"]).released


@pytest.mark.usefixtures("gift_product")
def test_a_refund_the_provider_failed_leaves_the_order_cancelled_and_a_repeat_makes_it(shop, localstripe, monkeypatch):
    result = paid(shop, cart_with(shop, 1))
    order_id = result["order"]["id"]
    assert issue_now(order_id) == 1
    def down(*_, **__):
        raise UpstreamUnavailable("The payment provider could not be reached.")

    monkeypatch.setattr(payments.provider("stripe"), "refund", down)
    assert cancel(shop, order_id).status_code == 502
    order = order_of(shop, result)
    assert (order["status"], order["amount_refunded"], [r["status"] for r in order["refunds"]]) == (
        "cancelled", 0, ["failed"])
    assert [c["status"] for c in issued_cards(shop, order_id)] == ["disabled"]
    monkeypatch.undo()
    answer = cancel(shop, order_id)
    assert answer.status_code == 200, answer.data
    assert (answer.data["payment_status"], answer.data["amount_refunded"]) == ("refunded", answer.data["total"])
    assert refunds_of(localstripe, result["payment_id"]) == [answer.data["total"]]
    assert cancel(shop, order_id).status_code == 409


@pytest.mark.parametrize("with_cards", [True, False], ids=["gift cards", "goods only"])
def test_the_cancellation_email_says_the_gift_cards_cannot_be_used(mail, with_cards):
    item = order_item()
    if with_cards:
        item["lines"].append({"sku": "GIFT-25", "product_id": "prod_3", "title": "Gift card", "quantity": 1,
                              "unit_price": 2500, "line_total": 2500, "gift_card": RECIPIENT})
    deliver(mail, message("OrderCancelled", item))
    [sent] = outbox(mail)
    text, html = parts(sent)
    for part in (text, html):
        assert "refunded to your original payment method" in part
        assert ("gift cards of this order will not be sent" in part) is with_cards
        assert ("can no longer be used" in part) is with_cards
    assert len(sent_emails()) == 1


@pytest.mark.usefixtures("gift_product")
def test_a_cancel_whose_write_landed_but_whose_answer_was_lost_still_makes_its_refund(shop, localstripe, monkeypatch):
    result = paid(shop, cart_with(shop, 1))
    order_id = result["order"]["id"]
    assert issue_now(order_id) == 1
    real, lost = order_items.save, []

    def answer_lost(*args, **kwargs):
        saved = real(*args, **kwargs)
        if not lost:  # written, but the caller hears of a conflict (a timeout, then a retry refused on the version)
            lost.append(saved)
            raise OrderChanged("The order changed meanwhile.")
        return saved

    monkeypatch.setattr(order_items, "save", answer_lost)
    answer = cancel(shop, order_id)
    assert answer.status_code == 200, answer.data
    assert lost and lost[0].status == "cancelled"
    assert (answer.data["payment_status"], answer.data["amount_refunded"]) == ("refunded", answer.data["total"])
    assert refunds_of(localstripe, result["payment_id"]) == [answer.data["total"]]


@pytest.mark.usefixtures("gift_product")
def test_a_refund_never_gives_back_the_price_of_a_card_that_can_still_be_spent(shop, localstripe):
    make_product(shop, sku_prefix="TEE", on_hand=5)
    result = paid(shop, cart_with(shop, 1, {"TEE-S": 1}))
    order_id, total = result["order"]["id"], result["order"]["total"]

    def refund(amount: int):
        return shop.post(f"/admin/orders/{order_id}/refunds", {"amount": amount, "reason": "goodwill"},
                         headers=ADMIN)

    # Not issued yet (it will be): its 25.00 is held.
    too_much = refund(total)
    assert too_much.status_code == 409 and "gift cards that can still be spent" in too_much.data["error"]["message"]
    assert issue_now(order_id) == 1
    [live] = issued_cards(shop, order_id)
    assert refund(total - 2500 + 1).status_code == 409  # issued and live: still held
    assert refund(total - 2500).status_code == 201  # the goods, whole
    assert refunds_of(localstripe, result["payment_id"]) == [total - 2500]

    # The customer spends part of it; the shop disables it: what is left on it can be refunded, never what was spent.
    make_product(shop, sku_prefix="PIN", sizes=("ONE",), on_hand=5, price=500)
    cart = ready_cart(shop, {"PIN-ONE": 1})
    apply(shop, cart["id"], gift_codes.code_for(card_items.get(live["id"]).seed))
    assert shop.post(f"/carts/{cart['id']}/checkout", {"payment_method": "pm_card_visa"}).status_code == 201
    left = card(shop, live["id"])["balance"]
    assert 0 < left < 2500
    assert refund(left).status_code == 409  # live: still held whole
    assert shop.post(f"/admin/gift-cards/{live['id']}/disable", {}, headers=ADMIN).status_code == 200
    assert refund(left + 1).status_code == 409
    assert refund(left).status_code == 201
    assert order_items.get(order_id).amount_refunded == total - 2500 + left
