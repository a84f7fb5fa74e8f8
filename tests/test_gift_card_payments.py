"""What gift cards and store credit pay, after checkout: refunds go back to them first (or to the
card, REFUND_TO=provider), a cancelled order covered by them gives everything back once, store credit
is spent by the signed-in holder, and the sales report splits what paid the revenue."""

from datetime import date

from chalicelib.models.customers import customer_id_for
from chalicelib.services import store_credit
from tests.conftest import ADMIN, make_cart, make_product, ready_cart
from tests.customers_support import bearer
from tests.growth_support import relay
from tests.orders_support import Stream, post_event
from tests.test_gift_cards import apply, card, issue
from tests.test_webhooks import order_of, paid_event


def checkout(api, cart_id: str, **headers) -> dict:
    answer = api.post(f"/carts/{cart_id}/checkout", {}, headers=headers or None)
    assert answer.status_code == 201, answer.data
    return answer.data


def test_a_refund_goes_back_to_the_gift_card_first_then_to_the_card(shop):
    make_product(shop, price=4000, on_hand=10)
    issued = issue(shop, 3000)
    cart = ready_cart(shop, {"TEE-M": 1})
    apply(shop, cart["id"], issued["code"])
    answer = shop.post(f"/carts/{cart['id']}/checkout", {"payment_method": "pm_card_visa"})  # paid at localstripe
    assert answer.status_code == 201, answer.data
    result = answer.data
    due, payment_id = result["order"]["amount_due"], result["payment"]["client_secret"].split("_secret_")[0]
    assert post_event(shop, paid_event(result, amount=due, payment_id=payment_id)).status_code == 200

    answer = shop.post(f"/admin/orders/{result['order']['id']}/refunds", {"amount": 2000}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    assert (answer.data["amount_refunded"], answer.data["payment_status"]) == (2000, "partially_refunded")
    assert card(shop, issued["id"])["balance"] == 2000
    answer = shop.post(f"/admin/orders/{result['order']['id']}/refunds", {"amount": 1500}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    assert card(shop, issued["id"])["balance"] == 3000  # 1000 more to the gift card, 500 to the card
    assert [(r["amount"], r["status"]) for r in answer.data["refunds"]] == [(2000, "succeeded"), (1000, "succeeded"),
                                                                           (500, "succeeded")]
    left = answer.data["amount_paid"] - 3500
    answer = shop.post(f"/admin/orders/{result['order']['id']}/refunds", {"amount": left + 1}, headers=ADMIN)
    assert answer.status_code == 409 and answer.data["error"]["code"] == "refund_exceeds_payment"
    kinds = [(e["kind"], e["amount"]) for e in card(shop, issued["id"])["ledger"]]
    assert kinds == [("issue", 3000), ("spend", -3000), ("refund", 2000), ("refund", 1000)]


def test_cancelling_an_order_the_gift_card_paid_gives_it_all_back_once(shop):
    make_product(shop, price=1000, on_hand=10)
    issued = issue(shop, 10000)
    cart = ready_cart(shop, {"TEE-M": 1})
    apply(shop, cart["id"], issued["code"])
    result = checkout(shop, cart["id"])
    assert result["payment"] is None and card(shop, issued["id"])["balance"] == 10000 - result["order"]["total"]
    answer = shop.post(f"/admin/orders/{result['order']['id']}/cancel", {}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    assert (answer.data["status"], answer.data["amount_refunded"]) == ("cancelled", result["order"]["total"])
    assert shop.post(f"/admin/orders/{result['order']['id']}/cancel", {}, headers=ADMIN).status_code == 409
    assert card(shop, issued["id"])["balance"] == 10000


def test_the_signed_in_holder_spends_store_credit_at_checkout(client, pool, localstripe):
    from tests.orders_support import use_localstripe

    use_localstripe(localstripe)
    make_product(client, price=1000, on_hand=10)
    token = pool.sign_up("ada@example.com")["id"]
    ada = customer_id_for("ada@example.com")
    store_credit.grant(ada, "EUR", 500, "goodwill", "test-1")
    cart = ready_cart(client, {"TEE-M": 1})
    answer = client.patch(f"/carts/{cart['id']}", {"use_store_credit": True})
    assert answer.status_code == 401
    assert client.post("/me/carts", {"cart_id": cart["id"]}, headers=bearer(token)).status_code == 200
    answer = client.patch(f"/carts/{cart['id']}", {"use_store_credit": True}, headers=bearer(token))
    assert answer.status_code == 200, answer.data
    assert (answer.data["store_credit_applied"], answer.data["amount_due"]) == (500, answer.data["total"] - 500)
    other = make_cart(client)
    bob = pool.sign_up("bob@example.com")["id"]
    assert client.patch(f"/carts/{other['id']}", {"use_store_credit": True}, headers=bearer(bob)).status_code == 403
    result = checkout(client, cart["id"], **bearer(token))
    assert [(p["method"], p["amount"]) for p in result["order"]["payments"]] == [
        ("store_credit", 500), ("stripe", result["order"]["total"] - 500)]
    assert store_credit.balance(ada) == {"EUR": 0}
    assert sum(e.amount for e in store_credit.ledger(ada)) == 0


def test_the_sales_report_splits_what_paid_the_revenue(shop):
    stream = Stream()
    make_product(shop, price=4000, on_hand=10)
    issued = issue(shop, 1000)
    cart = ready_cart(shop, {"TEE-M": 1})
    apply(shop, cart["id"], issued["code"])
    result = checkout(shop, cart["id"])
    post_event(shop, paid_event(result, amount=result["order"]["amount_due"]))
    assert order_of(shop, result)["status"] == "paid"
    relay(shop, stream)
    today = date.today().isoformat()
    report = shop.get(f"/admin/reports/sales?from={today}&to={today}", headers=ADMIN).data
    total = result["order"]["total"]
    assert report["revenue"] == total
    assert report["amount_paid"] == {"provider": total - 1000, "gift_card": 1000, "store_credit": 0}
