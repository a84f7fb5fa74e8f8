"""Where two money features meet, the shop never gives back more than it took: a free promotional unit of a
SKU that is also bought, a refund the provider reports that we did not make, a support user's refund limit
split over many refunds."""

import json

import pytest

from chalicelib.models import orders as order_rules
from chalicelib.repository import orders
from chalicelib.services import store_credit
from tests.conftest import ADMIN, make_product
from tests.orders_support import charge_refunded, post_event, stripe_event
from tests.test_exchanges import approved, settle
from tests.test_returns import admin, ask, line, shipped_order


@pytest.fixture
def bogo(shop, monkeypatch):
    """Buy one shirt, get a second of the same size free."""
    from chalicelib import config

    monkeypatch.setenv("PROMOTIONS", json.dumps([{"id": "twofer", "buy_sku": "TEE-M", "buy_quantity": 1,
                                                  "get_sku": "TEE-M", "get_quantity": 1}]))
    config.reset()
    make_product(shop, on_hand=10, price=6000)
    return shop


def test_returning_one_of_a_bought_and_a_free_unit_of_a_sku_gives_back_half_not_the_full_price(bogo, localstripe):
    api = bogo
    result = shipped_order(api, {"TEE-M": 1}, localstripe)
    order = result["order"]
    assert [(x["sku"], x["quantity"], x["unit_price"]) for x in order["lines"]] == [("TEE-M", 1, 6000),
                                                                                   ("TEE-M", 1, 0)]
    goods = order["total"] - order["shipping_total"]  # one shirt's price and its tax, for two shirts

    first = ask(api, result, [line(quantity=1)]).data
    assert admin(api, first["id"], "approve").status_code == 200
    refunded = admin(api, first["id"], "refund", {"method": "original"})
    assert refunded.status_code == 200, refunded.data
    # Two units were bought for `goods`: one sent back is worth half (Shopify's discounted unit price).
    assert refunded.data["refund"]["amount"] == goods // 2

    second = ask(api, result, [line(quantity=1)]).data
    assert admin(api, second["id"], "approve").status_code == 200
    rest = admin(api, second["id"], "refund", {"method": "original"})
    assert rest.status_code == 200 and rest.data["refund"]["amount"] == goods // 2
    assert orders.get(order["id"]).amount_refunded == 2 * (goods // 2) <= goods


@pytest.fixture
def catalogue(shop):
    make_product(shop, on_hand=10, price=6000)
    return shop


def test_a_refund_made_at_the_provider_is_not_credited_again_by_a_return(catalogue):
    """The shop refunded in the Stripe dashboard (only the webhook tells us); the customer then returns the goods
    for store credit: nothing is left to give back."""
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1)
    order = result["order"]
    assert post_event(api, stripe_event("charge.refunded", charge_refunded(order, order["total"]))).status_code == 200
    assert orders.get(order["id"]).amount_refunded == order["total"]
    assert order_rules.refundable(orders.get(order["id"])) == 0

    credited = settle(api, ret, method="store_credit")
    assert credited.status_code == 200, credited.data
    assert credited.data["refund"]["amount"] == 0
    assert store_credit.balance(order["customer_id"]) == {}
    refused = api.post(f"/admin/orders/{order['id']}/refunds", {"amount": 1}, headers=ADMIN)
    assert refused.status_code == 409 and refused.data["error"]["code"] == "refund_exceeds_payment"


def test_a_partial_refund_at_the_provider_leaves_only_the_rest_for_an_exchange(catalogue):
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1)
    order = result["order"]
    post_event(api, stripe_event("charge.refunded", charge_refunded(order, order["total"] - 1000)))
    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])
    assert exchanged.status_code == 200, exchanged.data
    assert exchanged.data["refund"]["amount"] == 1000  # what the dashboard refund left, not the shirt's worth
    assert orders.get(exchanged.data["refund"]["order_id"]).total == order["total"] - 1000


def test_our_own_refund_reported_by_the_webhook_is_not_counted_twice(catalogue, localstripe):
    api = catalogue
    result = shipped_order(api, {"TEE-M": 2}, localstripe)
    order = result["order"]
    answer = api.post(f"/admin/orders/{order['id']}/refunds", {"amount": 1000}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    post_event(api, stripe_event("charge.refunded", charge_refunded(order, 1000, payment_id=payment_id)))
    assert order_rules.refundable(orders.get(order["id"])) == order["total"] - 1000
    assert api.post(f"/admin/orders/{order['id']}/refunds", {"amount": order["total"] - 1000},
                    headers=ADMIN).status_code == 201


def discounted_shipped_order(api, code: dict, lines: dict[str, int], localstripe: str) -> dict:
    """A paid and shipped order bought with a discount code, paid at localstripe."""
    from tests.conftest import ready_cart
    from tests.test_discounts import create_code
    from tests.test_webhooks import paid_event

    create_code(api, **code)
    cart = ready_cart(api, lines)
    assert api.patch(f"/carts/{cart['id']}", {"discount_code": code["code"]}).status_code == 200
    result = api.post(f"/carts/{cart['id']}/checkout", {"payment_method": "pm_card_visa"}).data
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    assert post_event(api, paid_event(result, payment_id=payment_id)).status_code == 200
    assert api.post(f"/admin/orders/{result['order']['id']}/shipments", {"carrier": "dhl", "tracking_number": "J"},
                    headers=ADMIN).status_code == 201
    return result


def test_returning_goods_bought_with_a_100_percent_discount_gives_back_nothing(catalogue, localstripe):
    """Only the shipping and its tax were paid; shipping is not refunded by a return, nor is its tax."""
    api = catalogue
    result = discounted_shipped_order(api, {"code": "ALLFREE", "kind": "percent", "value": 100}, {"TEE-M": 1},
                                      localstripe)
    order = result["order"]
    assert (order["discount_total"], order["shipping_total"]) == (6000, 495) and order["total"] == 495 + 94
    ret = ask(api, result, [line()]).data
    assert admin(api, ret["id"], "approve").status_code == 200
    refunded = admin(api, ret["id"], "refund", {"method": "original"})
    assert refunded.status_code == 200, refunded.data
    assert refunded.data["refund"]["amount"] == 0
    assert orders.get(order["id"]).amount_refunded == 0


def test_a_full_return_gives_back_the_goods_and_their_tax_never_the_shipping_s_tax(shop, localstripe):
    api = shop
    make_product(api, on_hand=10, price=2000)  # under the free-shipping threshold: standard shipping 4.95
    result = shipped_order(api, {"TEE-M": 1}, localstripe)
    order = result["order"]
    assert (order["shipping_total"], order["tax_total"]) == (495, 474)  # 19 % of 20.00 + 4.95
    ret = ask(api, result, [line()]).data
    assert admin(api, ret["id"], "approve").status_code == 200
    refunded = admin(api, ret["id"], "refund", {"method": "original"})
    assert refunded.data["refund"]["amount"] == 2000 + 380  # the shirt and its 19 %, not 4.95's 0.94 too


def test_support_s_refund_limit_holds_for_the_order_not_each_refund(shop, pool, localstripe, monkeypatch):
    """SUPPORT_REFUND_LIMIT=300: three refunds of 300 are 900 refunded by support; the limit is per order."""
    from chalicelib import config
    from tests.staff_support import as_staff, staff_token
    from tests.test_admin_orders import paid_order

    monkeypatch.setenv("SUPPORT_REFUND_LIMIT", "300")
    config.reset()
    support, manager = (as_staff(staff_token(pool, role)) for role in ("support", "manager"))
    make_product(shop, on_hand=5)
    order_id = paid_order(shop, {"TEE-M": 1}, localstripe)["order"]["id"]
    assert shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 200}, headers=support).status_code == 201
    split = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 200}, headers=support)
    assert split.status_code == 403 and split.data["error"]["code"] == "forbidden", split.data
    assert "100" in split.data["error"]["message"]
    assert shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 100}, headers=support).status_code == 201
    assert shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 1}, headers=support).status_code == 403
    assert shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 500}, headers=manager).status_code == 201
    assert shop.get(f"/admin/orders/{order_id}", headers=manager).data["amount_refunded"] == 800


def test_the_goods_of_an_exchange_the_return_covered_can_be_returned_for_their_worth(catalogue, localstripe):
    """A shirt exchanged for another size, then the new one sent back: the customer paid for it once, with the
    first shirt's money, and gets that back (not nothing)."""
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1, localstripe)
    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}])
    assert exchanged.status_code == 200, exchanged.data
    exchange_id = exchanged.data["refund"]["order_id"]
    exchange = api.get(f"/admin/orders/{exchange_id}", headers=ADMIN).data
    assert (exchange["status"], exchange["total"]) == ("paid", 0)
    assert api.post(f"/admin/orders/{exchange_id}/shipments", {"carrier": "dhl", "tracking_number": "J2"},
                    headers=ADMIN).status_code == 201
    token = orders.get(exchange_id).token
    again = api.post(f"/orders/{exchange_id}/returns", {"lines": [line("TEE-S")]}, headers={"X-Order-Token": token})
    assert again.status_code == 201, again.data
    assert admin(api, again.data["id"], "approve").status_code == 200
    refunded = admin(api, again.data["id"], "refund", {"method": "original"})
    assert refunded.status_code == 200, refunded.data
    assert refunded.data["refund"]["amount"] == result["order"]["total"]
    assert orders.get(result["order"]["id"]).amount_refunded == result["order"]["total"]


def test_returning_a_dearer_exchange_s_goods_gives_back_both_payments_once_as_store_credit(catalogue):
    from tests.test_exchange_payment import dearer_exchange
    from tests.test_webhooks import intent

    api = catalogue
    ret, exchange_id, token = dearer_exchange(api)  # one shirt (WORTH) returned for two: WORTH more paid
    exchange = orders.get(exchange_id)
    paid = stripe_event("payment_intent.succeeded", intent({"id": exchange_id, "total": exchange.total,
                                                            "currency": "EUR"}, payment_id=exchange.payment.payment_id))
    assert post_event(api, paid).status_code == 200 and orders.get(exchange_id).status == "paid"
    assert api.post(f"/admin/orders/{exchange_id}/shipments", {"carrier": "dhl", "tracking_number": "J3"},
                    headers=ADMIN).status_code == 201
    credited = []
    for _ in range(2):
        back = api.post(f"/orders/{exchange_id}/returns", {"lines": [line("TEE-S")]}, headers={"X-Order-Token": token})
        assert back.status_code == 201, back.data
        assert admin(api, back.data["id"], "approve").status_code == 200
        settled = admin(api, back.data["id"], "refund", {"method": "store_credit"})
        assert settled.status_code == 200, settled.data
        credited.append(settled.data["refund"]["amount"])
    assert credited == [7140, 7140]  # the first shirt's worth, then the difference paid: each once
    original = orders.get(ret["order_id"])
    assert store_credit.balance(original.customer_id) == {"EUR": 2 * 7140}
    assert order_rules.refundable(original) == 0 and order_rules.refundable(orders.get(exchange_id)) == 0


def test_a_late_payment_of_an_order_whose_gift_card_went_back_at_expiry_gives_the_card_nothing_again(
        shop, localstripe, monkeypatch):
    """Expired unpaid: the gift card got its 30.00 back. The card payment then arrives and is refunded whole. The
    order has nothing left to refund: a refund would pay the gift card a second time."""
    from datetime import timedelta

    import requests

    from chalicelib import clock
    from chalicelib.services import orders as order_service
    from tests.conftest import ready_cart
    from tests.test_gift_cards import apply, card, issue
    from tests.test_webhooks import paid_event

    make_product(shop, price=4000, on_hand=10)
    issued = issue(shop, 3000)
    cart = ready_cart(shop, {"TEE-M": 1})
    apply(shop, cart["id"], issued["code"])
    result = shop.post(f"/carts/{cart['id']}/checkout", {}).data
    due = result["order"]["amount_due"]
    moment = clock.now() + timedelta(minutes=31)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert order_service.expire_unpaid() == 1 and card(shop, issued["id"])["balance"] == 3000

    late = requests.post(f"{localstripe}/v1/payment_intents", auth=("sk_test_commerce", ""), timeout=5,
                         data={"amount": due, "currency": "eur", "payment_method_types[]": "card",
                               "metadata[order_id]": result["order"]["id"], "payment_method": "pm_card_visa",
                               "confirm": "true"}).json()
    assert late["status"] == "succeeded", late
    assert post_event(shop, paid_event(result, amount=due, payment_id=late["id"])).status_code == 200
    order = orders.get(result["order"]["id"])
    assert (order.status, order.amount_refunded) == ("cancelled", due)
    assert order.amount_paid == due  # what was paid and is not back yet: the card payment; the gift card's is back

    again = shop.post(f"/admin/orders/{order.id}/refunds", {"amount": 3000}, headers=ADMIN)
    assert again.status_code == 409 and again.data["error"]["code"] == "refund_exceeds_payment", again.data
    assert card(shop, issued["id"])["balance"] == 3000


def test_goods_bought_with_store_credit_and_returned_for_store_credit_earn_no_bonus(client, pool, localstripe,
                                                                                    monkeypatch):
    """RETURN_STORE_CREDIT_BONUS_PERCENT rewards taking credit instead of money back. On credit that was credit
    already it would be a loop (buy with credit, return for credit + 10 %, again): no bonus on that part."""
    from chalicelib import config
    from chalicelib.models.customers import customer_id_for
    from tests.conftest import ready_cart
    from tests.customers_support import bearer
    from tests.orders_support import use_localstripe

    use_localstripe(localstripe)
    monkeypatch.setenv("RETURN_STORE_CREDIT_BONUS_PERCENT", "10")
    config.reset()
    make_product(client, price=6000, on_hand=10)  # 71.40 a shirt, shipped free
    token = pool.sign_up("ada@example.com")["id"]
    ada = customer_id_for("ada@example.com")
    store_credit.grant(ada, "EUR", 7140 + 3570, "goodwill", "test-1")
    cart = ready_cart(client, {"TEE-M": 2})  # 142.80: 107.10 from store credit, 35.70 by card
    assert client.post("/me/carts", {"cart_id": cart["id"]}, headers=bearer(token)).status_code == 200
    assert client.patch(f"/carts/{cart['id']}", {"use_store_credit": True}, headers=bearer(token)).status_code == 200
    result = client.post(f"/carts/{cart['id']}/checkout", {}, headers=bearer(token)).data
    assert [(p["method"], p["amount"]) for p in result["order"]["payments"]] == [("store_credit", 10710),
                                                                                ("stripe", 3570)]
    from tests.test_webhooks import paid_event

    assert post_event(client, paid_event(result, amount=3570)).status_code == 200
    assert client.post(f"/admin/orders/{result['order']['id']}/shipments", {"carrier": "dhl", "tracking_number": "J"},
                       headers=ADMIN).status_code == 201
    assert store_credit.balance(ada) == {"EUR": 0}
    ret = ask(client, result, [line(quantity=2)]).data
    assert admin(client, ret["id"], "approve").status_code == 200
    credited = admin(client, ret["id"], "refund", {"method": "store_credit"})
    assert credited.status_code == 200, credited.data
    # 142.80 back; the 10 % only on the 35.70 the card paid
    assert credited.data["refund"]["amount"] == 14280 + 357
    assert store_credit.balance(ada) == {"EUR": 14280 + 357}


def test_a_provider_refund_of_money_a_return_gave_back_as_store_credit_is_held_for_review(catalogue):
    """The return was credited as store credit; someone then refunds the same payment in the Stripe dashboard. We
    cannot undo it, but the order is not recorded as an ordinary refund: a person looks at it."""
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1)
    order = result["order"]
    assert settle(api, ret, method="store_credit").data["refund"]["amount"] == order["total"]
    assert post_event(api, stripe_event("charge.refunded", charge_refunded(order, order["total"]))).status_code == 200
    after = orders.get(order["id"])
    assert after.status == "needs_review" and "refunded" in after.review_reason, after.review_reason
    assert str(order["total"]) in after.review_reason


def test_the_goods_of_an_exchange_are_not_exchanged_again_but_refunded(catalogue):
    api = catalogue
    _, ret = approved(api, {"TEE-M": 1}, 1)
    exchange_id = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 1}]
                         ).data["refund"]["order_id"]
    assert api.post(f"/admin/orders/{exchange_id}/shipments", {"carrier": "dhl", "tracking_number": "J4"},
                    headers=ADMIN).status_code == 201
    back = api.post(f"/orders/{exchange_id}/returns", {"lines": [line("TEE-S")]},
                    headers={"X-Order-Token": orders.get(exchange_id).token}).data
    assert admin(api, back["id"], "approve").status_code == 200
    again = settle(api, back, method="exchange", exchange_lines=[{"sku": "TEE-M", "quantity": 1}])
    assert again.status_code == 409 and "exchanged again" in again.data["error"]["message"], again.data
    credited = settle(api, back, method="store_credit")
    assert credited.status_code == 200 and credited.data["refund"]["amount"] == 7140, credited.data
