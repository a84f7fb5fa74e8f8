"""Returns settled as store credit (with the bonus) or as an exchange order: priced and reserved like a
checkout, one per return, paid at once when the return covers it, the difference charged through the
provider or refunded to the original payment."""

import pytest

from chalicelib.repository import orders
from chalicelib.services import store_credit
from tests.conftest import ADMIN, make_product
from tests.test_checkout import stock
from tests.test_returns import admin, ask, line, shipped_order

# 60.00 EUR a shirt: free standard shipping, German VAT 19 %: a shirt costs the customer 71.40.
PRICE, WORTH = 6000, 7140


@pytest.fixture
def catalogue(shop):
    make_product(shop, on_hand=10, price=PRICE)
    return shop


def approved(api, lines: dict[str, int], returned: int, localstripe: str | None = None) -> tuple[dict, dict]:
    result = shipped_order(api, lines, localstripe)
    ret = ask(api, result, [line(quantity=returned)]).data
    assert admin(api, ret["id"], "approve").status_code == 200
    return result, ret


def settle(api, ret: dict, **body):
    return admin(api, ret["id"], "refund", body)


def test_an_exchange_the_return_covers_is_paid_at_once_and_placed_once(catalogue):
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1)
    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])
    assert exchanged.status_code == 200, exchanged.data
    refund = exchanged.data["refund"]
    assert exchanged.data["status"] == "refunded" and (refund["method"], refund["amount"]) == ("exchange", WORTH)
    order = api.get(f"/admin/orders/{refund['order_id']}", headers=ADMIN).data
    assert (order["status"], order["total"], order["email"]) == ("paid", 0, "ada@example.com")
    assert [(x["sku"], x["quantity"], x["unit_price"]) for x in order["lines"]] == [("TEE-S", 1, PRICE)]
    assert stock("TEE-S") == {"on_hand": 10, "reserved": 1, "available": 9}
    again = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])
    assert again.status_code == 200 and again.data == exchanged.data
    assert settle(api, ret, method="original").status_code == 409
    assert stock("TEE-S")["reserved"] == 1  # one exchange order per return
    original = api.get(f"/admin/orders/{result['order']['id']}", headers=ADMIN).data
    assert original["return_status"] == "refunded" and original["amount_refunded"] == 0


def test_a_dearer_exchange_is_charged_the_difference_through_the_provider(catalogue):
    api = catalogue
    _, ret = approved(api, {"TEE-M": 1}, 1)
    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 2}])
    assert exchanged.status_code == 200, exchanged.data
    order = orders.get(exchanged.data["refund"]["order_id"])
    assert (order.status, order.total, order.exchange_of) == ("pending_payment", 2 * WORTH - WORTH, ret["id"])
    assert order.payment.payment_id and order.payment.client_secret  # a PaymentIntent, like a checkout


def test_a_cheaper_exchange_refunds_the_difference_to_the_original_payment(catalogue, localstripe):
    api = catalogue
    result, ret = approved(api, {"TEE-M": 2}, 2, localstripe)
    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])
    assert exchanged.status_code == 200, exchanged.data
    assert exchanged.data["refund"]["amount"] == WORTH
    original = api.get(f"/admin/orders/{result['order']['id']}", headers=ADMIN).data
    assert original["amount_refunded"] == WORTH
    settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])
    assert api.get(f"/admin/orders/{result['order']['id']}", headers=ADMIN).data["amount_refunded"] == WORTH


def test_an_exchange_that_cannot_be_reserved_changes_nothing(catalogue):
    api = catalogue
    _, ret = approved(api, {"TEE-M": 1}, 1)
    short = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 11}])
    assert short.status_code == 409 and short.data["error"]["code"] == "out_of_stock", short.data
    assert short.data["error"]["param"] == "exchange_lines.0.quantity"
    assert settle(api, ret, method="exchange").data["error"]["param"] == "exchange_lines"
    assert settle(api, ret, method="original", exchange_lines=[{"sku": "TEE-S", "quantity": 1}]).status_code == 400
    assert settle(api, ret, method="exchange", exchange_lines=[{"sku": "NOPE", "quantity": 1}]).status_code == 400
    assert settle(api, ret, method="cash").data["error"]["param"] == "method"
    assert stock("TEE-S") == {"on_hand": 10, "reserved": 0, "available": 10}
    assert api.get("/admin/returns?status=approved", headers=ADMIN).data["data"][0]["refund"] is None
    later = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])
    assert later.status_code == 200, later.data


def test_store_credit_with_the_bonus_is_granted_once(catalogue, monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("RETURN_STORE_CREDIT_BONUS_PERCENT", "10")
    config.reset()
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1)
    credited = settle(api, ret, method="store_credit")
    assert credited.status_code == 200, credited.data
    assert credited.data["refund"] == {"method": "store_credit", "amount": WORTH + WORTH // 10, "order_id": None}
    customer_id = result["order"]["customer_id"]
    assert store_credit.balance(customer_id) == {"EUR": WORTH + WORTH // 10}
    assert settle(api, ret, method="store_credit").status_code == 409
    assert store_credit.balance(customer_id) == {"EUR": WORTH + WORTH // 10}
    assert api.get(f"/admin/orders/{result['order']['id']}", headers=ADMIN).data["amount_refunded"] == 0


def test_a_return_whose_exchange_was_cancelled_unpaid_can_be_settled_again(catalogue, localstripe):
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1, localstripe)
    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 2}])
    exchange_id = exchanged.data["refund"]["order_id"]
    assert settle(api, ret, method="original").status_code == 409  # the exchange order may still be paid
    assert api.post(f"/admin/orders/{exchange_id}/cancel", {}, headers=ADMIN).data["status"] == "cancelled"
    assert stock("TEE-S")["reserved"] == 0
    refunded = settle(api, ret, method="original")
    assert refunded.status_code == 200, refunded.data
    assert refunded.data["refund"] == {"method": "original", "amount": WORTH, "order_id": None}
    assert api.get(f"/admin/orders/{result['order']['id']}", headers=ADMIN).data["amount_refunded"] == WORTH
    assert settle(api, ret, method="original").status_code == 409


def test_concurrent_exchanges_of_one_return_place_one_order(moto_server, localstripe):
    from tests.test_returns import race, served

    client, Api = served(localstripe)
    with client as raw:
        api = Api(raw)
        make_product(api, on_hand=10, price=PRICE)
        _, ret = approved(api, {"TEE-M": 1}, 1)
    from chalicelib.services import exchanges, returns

    outcomes = race(6, lambda: exchanges.exchange(ret["id"], [("TEE-S", 1)]))
    assert outcomes.count("ok") == 1 and outcomes.count("invalid_state") == 5, outcomes
    assert stock("TEE-S") == {"on_hand": 10, "reserved": 1, "available": 9}
    exchange_id = returns.get(ret["id"]).refund.order_id
    assert orders.get(exchange_id).exchange_of == ret["id"]


def test_a_cheaper_exchanges_difference_can_go_back_as_store_credit(catalogue, monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("RETURN_EXCHANGE_DIFFERENCE", "store_credit")
    config.reset()
    api = catalogue
    result, ret = approved(api, {"TEE-M": 2}, 2)
    assert settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}]).status_code == 200
    settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])  # a repeat gives nothing
    assert store_credit.balance(result["order"]["customer_id"]) == {"EUR": WORTH}
    assert api.get(f"/admin/orders/{result['order']['id']}", headers=ADMIN).data["amount_refunded"] == 0
