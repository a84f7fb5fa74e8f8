"""A dearer exchange's difference, paid by the customer: GET /orders/{id}/payment gives the exchange order's
client secret while it waits (order token or the signed-in owner), the customer confirms at localstripe as
Stripe.js would, and localstripe's own signed webhook marks the order paid; the settled return's email says the
amount and links to the storefront's pay page."""

import json
import uuid

import pytest

from bench.aws_calls import count_calls
from chalicelib import events
from chalicelib.models.returns import ReturnRecord
from chalicelib.payments import stripe_http
from chalicelib.repository import orders, returns
from chalicelib.services import emails
from tests.conftest import ADMIN, make_product
from tests.stripe_support import PUBLISHABLE_KEY, WEBHOOK_SECRET, WebhookReceiver, pay, register_webhook
from tests.test_exchanges import PRICE, WORTH, approved, settle


@pytest.fixture
def catalogue(shop):
    make_product(shop, on_hand=10, price=PRICE)
    return shop


def dearer_exchange(api, localstripe: str | None = None) -> tuple[dict, str, str]:
    """An approved return of one shirt settled as two: the exchange order waits for the difference (one shirt)."""
    _, ret = approved(api, {"TEE-M": 1}, 1, localstripe)
    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 2}])
    assert exchanged.status_code == 200, exchanged.data
    order = orders.get(exchanged.data["refund"]["order_id"])
    assert order.status == "pending_payment" and order.total == WORTH
    return ret, order.id, order.token


def payment_of(api, order_id: str, headers: dict):
    return api.get(f"/orders/{order_id}/payment", headers=headers)


def delivered(localstripe: str, api, order_id: str, payment_id: str) -> list[int]:
    """Pay the PaymentIntent with a test card at localstripe, as Stripe.js does with the client secret, and hand
    localstripe's signed payment_intent.succeeded for the order to the app's webhook route; its answers."""
    endpoint = f"exchange-{uuid.uuid4().hex[:8]}"
    with WebhookReceiver() as receiver:
        register_webhook(localstripe, endpoint, receiver.url, WEBHOOK_SECRET, events=["payment_intent.succeeded"])
        try:
            assert pay(localstripe, payment_id)["status"] == "succeeded"

            def ours(received):  # events of earlier tests still on their way arrive too
                return [(headers, body) for headers, body in received if order_id.encode() in body]

            deliveries = ours(receiver.wait_for(lambda received: bool(ours(received))))
        finally:  # localstripe cannot forget an endpoint: leave this one listening to nothing
            register_webhook(localstripe, endpoint, receiver.url, WEBHOOK_SECRET, events=["none"])
    assert deliveries, "localstripe sent no payment_intent.succeeded for the exchange order"
    return [api.request("POST", "/webhooks/stripe", raw=body,
                        headers={"Stripe-Signature": headers.get("Stripe-Signature")
                                 or headers.get("stripe-signature")}).status_code
            for headers, body in deliveries]


def test_the_customer_pays_the_difference_and_the_webhook_marks_the_exchange_order_paid(catalogue, localstripe):
    api = catalogue
    ret, order_id, token = dearer_exchange(api, localstripe)
    answer = payment_of(api, order_id, {"X-Order-Token": token})
    assert answer.status_code == 200, answer.data
    payment = answer.data
    assert (payment["provider"], payment["status"], payment["publishable_key"]) == (
        "stripe", "requires_payment_method", PUBLISHABLE_KEY)
    assert (payment["amount_due"], payment["currency"], payment["exchange_of"]) == (WORTH, "EUR", ret["id"])
    payment_id = orders.get(order_id).payment.payment_id
    assert payment["client_secret"].startswith(payment_id + "_secret_")
    again = payment_of(api, order_id, {"X-Order-Token": token}).data
    assert again["client_secret"] == payment["client_secret"]  # one PaymentIntent per order, however often asked

    assert delivered(localstripe, api, order_id, payment_id) == [200]
    order = api.get(f"/orders/{order_id}", headers={"X-Order-Token": token}).data
    assert (order["status"], order["payment_status"], order["amount_paid"]) == ("paid", "paid", WORTH)
    paid = payment_of(api, order_id, {"X-Order-Token": token})
    assert paid.status_code == 409 and paid.data["error"]["code"] == "invalid_state", paid.data
    assert returns.get(ret["id"]).status == "refunded"


def test_a_paid_status_shows_before_the_webhook_arrives(catalogue, localstripe):
    api = catalogue
    _, order_id, token = dearer_exchange(api)
    pay(localstripe, orders.get(order_id).payment.payment_id)
    answer = payment_of(api, order_id, {"X-Order-Token": token})
    assert answer.status_code == 200 and answer.data["status"] == "succeeded", answer.data  # the provider's, live


def test_a_cancelled_order_or_a_plain_paid_one_has_nothing_to_pay(catalogue):
    api = catalogue
    result, ret = approved(api, {"TEE-M": 1}, 1)
    assert payment_of(api, result["order"]["id"], {"X-Order-Token": result["order_token"]}).status_code == 409
    exchanged = settle(api, ret, method="exchange", exchange_lines=[{"sku": "TEE-S", "quantity": 2}])
    order_id = exchanged.data["refund"]["order_id"]
    token = orders.get(order_id).token
    assert api.post(f"/admin/orders/{order_id}/cancel", {}, headers=ADMIN).data["status"] == "cancelled"
    cancelled = payment_of(api, order_id, {"X-Order-Token": token})
    assert cancelled.status_code == 409 and cancelled.data["error"]["code"] == "invalid_state", cancelled.data


def test_another_customers_order_is_a_404(catalogue, pool):
    from tests.customers_support import bearer

    api = catalogue
    ada, bob = bearer(pool.sign_up("ada@example.com")["id"]), bearer(pool.sign_up("bob@example.com")["id"])
    _, order_id, token = dearer_exchange(api)
    for headers in ({"X-Order-Token": "not-the-token"}, {}, bob):
        answer = payment_of(api, order_id, headers)
        assert answer.status_code == 404 and answer.data["error"]["code"] == "resource_missing", (headers, answer.data)
    assert payment_of(api, "ord_" + "0" * 32, {"X-Order-Token": token}).status_code == 404
    owner = payment_of(api, order_id, ada)
    assert owner.status_code == 200 and owner.data["amount_due"] == WORTH, owner.data
    assert payment_of(api, order_id, bearer("not-a-token")).status_code == 401


def test_the_settled_emails_says_what_to_pay_and_links_to_the_pay_page(catalogue):
    api = catalogue
    ret, order_id, token = dearer_exchange(api)
    settled = returns.get(ret["id"])
    assert (settled.exchange_due, settled.exchange_token) == (WORTH, token)
    before = ReturnRecord.model_validate({**settled.model_dump(), "status": "approved", "refund": None})
    [event] = events.return_events(before, settled)
    assert "exchange_token" not in event.data["return"]  # the public view of the return stays as it was
    email = emails.render(json.loads(event.body("email")))
    link = f"http://127.0.0.1:8080/pay.html?id={order_id}&token={token}"
    assert "pay the difference of €71.40" in email.text and link in email.text, email.text
    assert "reserved for you for 72 hours" in email.text
    assert link.replace("&", "&amp;") in email.html and "Pay €71.40" in email.html
    # A return the exchange covers owes nothing: no pay link.
    covered = settled.model_copy(update={"exchange_due": 0})
    [event] = events.return_events(before, covered)
    assert "pay.html" not in emails.render(json.loads(event.body("email"))).text


def test_an_unpaid_difference_waits_the_exchange_window_then_expires_and_the_return_settles_again(catalogue):
    from datetime import timedelta

    from chalicelib.services import orders as order_service

    api = catalogue
    ret, order_id, token = dearer_exchange(api)
    placed = orders.get(order_id)
    assert placed.payment_deadline == placed.created_at + timedelta(hours=72)  # EXCHANGE_PAYMENT_WINDOW_HOURS
    assert order_service.expire_unpaid(placed.created_at + timedelta(hours=71)) == 0
    assert payment_of(api, order_id, {"X-Order-Token": token}).status_code == 200
    assert order_service.expire_unpaid(placed.created_at + timedelta(hours=72, seconds=1)) == 1
    assert orders.get(order_id).status == "cancelled"
    assert payment_of(api, order_id, {"X-Order-Token": token}).status_code == 409
    again = settle(api, ret, method="store_credit")
    assert again.status_code == 200 and again.data["refund"]["method"] == "store_credit", again.data


def test_asking_for_the_payment_costs_two_get_items_and_one_provider_read(catalogue, monkeypatch):
    api = catalogue
    _, order_id, token = dearer_exchange(api)
    sent: list[str] = []
    real = stripe_http.Client._send

    def send(self, method, target, body, headers):
        sent.append(f"{method} {target.split('?')[0]}")
        return real(self, method, target, body, headers)

    monkeypatch.setattr(stripe_http.Client, "_send", send)
    with count_calls() as calls:
        answer = payment_of(api, order_id, {"X-Order-Token": token})
    assert answer.status_code == 200
    assert calls.by_operation() == {("dynamodb", "GetItem"): 2}
    assert sent == [f"GET /v1/payment_intents/{orders.get(order_id).payment.payment_id}"]
