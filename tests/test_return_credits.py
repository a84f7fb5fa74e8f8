"""A return settled as store credit or as an exchange never gives back money the order has already given
back, and what it gives is no longer refundable: a goodwill refund and a return of the same goods pay once.
The order records such settlements in `credits` (not refunds: no money moved), and `refundable` counts them."""

import pytest

from chalicelib.models import orders as order_rules
from chalicelib.repository import orders
from chalicelib.services import store_credit
from tests.conftest import ADMIN
from tests.test_exchange_payment import dearer_exchange
from tests.test_exchanges import PRICE, WORTH, approved, settle
from tests.test_returns import admin, ask, line, make_product, race, served, shipped_order


@pytest.fixture
def catalogue(shop, monkeypatch):
    """Shirts at PRICE; store credit for a return carries a 10 % bonus."""
    from chalicelib import config

    monkeypatch.setenv("RETURN_STORE_CREDIT_BONUS_PERCENT", "10")
    config.reset()
    make_product(shop, on_hand=10, price=PRICE)
    return shop


def refund(api, order_id: str, amount: int):
    return api.post(f"/admin/orders/{order_id}/refunds", {"amount": amount, "reason": "goodwill"}, headers=ADMIN)


def test_store_credit_after_a_full_goodwill_refund_credits_nothing(catalogue, localstripe):
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1, localstripe)
    order_id, paid = result["order"]["id"], result["order"]["total"]
    assert refund(api, order_id, paid).status_code == 201

    credited = settle(api, ret, method="store_credit")
    assert credited.status_code == 200, credited.data
    assert credited.data["refund"] == {"method": "store_credit", "amount": 0, "order_id": None}
    assert store_credit.balance(result["order"]["customer_id"]) == {}
    assert orders.get(order_id).credits == []


def test_store_credit_after_a_partial_refund_credits_what_is_left_with_its_bonus(catalogue, localstripe):
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1, localstripe)
    order_id, paid = result["order"]["id"], result["order"]["total"]
    assert refund(api, order_id, paid - 500).status_code == 201

    credited = settle(api, ret, method="store_credit")
    assert credited.status_code == 200 and credited.data["refund"]["amount"] == 550, credited.data  # 500 + 10 %
    assert store_credit.balance(result["order"]["customer_id"]) == {"EUR": 550}
    order = api.get(f"/admin/orders/{order_id}", headers=ADMIN).data
    assert order["amount_refunded"] == paid - 500  # no money moved for the credit
    assert [(c["amount"], c["status"]) for c in order["credits"]] == [(500, "succeeded")]
    assert order_rules.refundable(orders.get(order_id)) == 0
    assert refund(api, order_id, 1).data["error"]["code"] == "refund_exceeds_payment"


def test_a_refund_after_store_credit_is_bounded_by_what_the_credit_left(catalogue, localstripe):
    api = catalogue
    result, ret = approved(api, {"TEE-M": 2}, 1, localstripe)  # two shirts, one returned
    order_id, paid = result["order"]["id"], result["order"]["total"]
    assert settle(api, ret, method="store_credit").data["refund"]["amount"] == WORTH + WORTH // 10

    too_much = refund(api, order_id, paid)
    assert too_much.status_code == 409 and too_much.data["error"]["code"] == "refund_exceeds_payment"
    assert str(paid - WORTH) in too_much.data["error"]["message"]
    assert refund(api, order_id, paid - WORTH).status_code == 201
    assert api.get(f"/admin/orders/{order_id}", headers=ADMIN).data["amount_refunded"] == paid - WORTH


def test_an_exchange_after_a_full_refund_is_charged_in_full(catalogue, localstripe):
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1, localstripe)
    order_id, paid = result["order"]["id"], result["order"]["total"]
    assert refund(api, order_id, paid).status_code == 201

    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])
    assert exchanged.status_code == 200, exchanged.data
    assert exchanged.data["refund"]["amount"] == 0
    exchange = orders.get(exchanged.data["refund"]["order_id"])
    assert (exchange.status, exchange.total) == ("pending_payment", WORTH)  # nothing of the return left to use
    assert orders.get(order_id).credits == []


def test_an_exchange_takes_its_worth_from_the_order_and_a_cheaper_ones_difference_is_credited_once(
        catalogue, monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("RETURN_EXCHANGE_DIFFERENCE", "store_credit")
    config.reset()
    api = catalogue
    result, ret = approved(api, {"TEE-M": 2}, 2)  # two shirts back, one shirt out: one shirt's worth owed back
    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])
    assert exchanged.status_code == 200 and exchanged.data["refund"]["amount"] == WORTH, exchanged.data
    assert store_credit.balance(result["order"]["customer_id"]) == {"EUR": WORTH}
    order = orders.get(result["order"]["id"])
    assert [c.amount for c in order.credits if c.status == "succeeded"] == [WORTH, WORTH]
    assert order.amount_refunded == 0 and order_rules.refundable(order) == order.amount_paid - 2 * WORTH
    assert refund(api, order.id, 1).data["error"]["code"] == "refund_exceeds_payment"  # shipping was free


def test_an_exchange_cancelled_unpaid_frees_its_credit_for_the_next_settlement(catalogue):
    from datetime import timedelta

    from chalicelib.services import orders as order_service

    api = catalogue
    ret, exchange_id, _ = dearer_exchange(api)
    original = orders.get(returns_order(ret))
    used = [c for c in original.credits if c.status == "succeeded"]
    assert [c.amount for c in used] == [WORTH]
    placed = orders.get(exchange_id)
    assert order_service.expire_unpaid(placed.created_at + timedelta(hours=72, seconds=1)) == 1

    again = settle(api, ret, method="store_credit")
    assert again.status_code == 200 and again.data["refund"]["amount"] == WORTH + WORTH // 10, again.data
    original = orders.get(original.id)
    assert [(c.amount, c.status) for c in original.credits] == [(WORTH, "failed"), (WORTH, "succeeded")]


def returns_order(ret: dict) -> str:
    from chalicelib.repository import returns

    return returns.get(ret["id"]).order_id


def test_a_goodwill_refund_racing_a_store_credit_settlement_never_gives_back_more_than_was_paid(
        moto_server, localstripe):
    from chalicelib.services import orders as order_service
    from chalicelib.services import returns

    client, Api = served(localstripe)
    with client as raw:
        api = Api(raw)
        make_product(api, on_hand=10)
        result = shipped_order(api, {"TEE-M": 1}, localstripe)
        ret = ask(api, result, [line()]).data
        assert admin(api, ret["id"], "approve").status_code == 200
    order_id, paid = result["order"]["id"], result["order"]["total"]

    def either(index: int):
        if index % 2:
            return order_service.refund(order_id, paid, "goodwill")
        return returns.refund(ret["id"], "store_credit")

    counter = iter(range(1000))
    outcomes = race(6, lambda: either(next(counter)))
    order = orders.get(order_id)
    credited = sum(c.amount for c in order.credits if c.status == "succeeded")
    refunded = sum(r.amount for r in order.refunds if r.status != "failed")
    assert refunded + credited <= paid, (outcomes, refunded, credited)
    assert refunded + credited == paid, outcomes  # one of them got it all
    balance = store_credit.balance(result["order"]["customer_id"]).get("EUR", 0)
    settled = returns.get(ret["id"]).refund
    assert balance == (settled.amount if settled else 0) and balance >= credited  # its bonus, if any, on top


@pytest.mark.parametrize("method", ["store_credit", "original"])
def test_a_second_return_of_the_same_order_settles_only_what_is_left(catalogue, localstripe, method):
    api = catalogue
    result = shipped_order(api, {"TEE-M": 2}, localstripe)
    order_id, paid = result["order"]["id"], result["order"]["total"]
    first = ask(api, result, [line()]).data
    assert admin(api, first["id"], "approve").status_code == 200
    assert refund(api, order_id, paid - WORTH // 2).status_code == 201  # a goodwill refund of most of it
    assert settle(api, first, method=method).data["refund"]["amount"] in (WORTH // 2, WORTH // 2 + WORTH // 20)
    second = ask(api, result, [line()]).data
    assert admin(api, second["id"], "approve").status_code == 200
    assert settle(api, second, method=method).data["refund"]["amount"] == 0
    order = orders.get(order_id)
    assert order_rules.refundable(order) == 0
