"""devstack/stripejs.py: what the storefront's Stripe.js does in the browser, against localstripe: confirm
a PaymentIntent with the card, authenticated by the publishable key and the client secret."""

import json

import requests

from tests.stripe_support import DECLINED, PUBLISHABLE_KEY, THREE_D_SECURE, VISA, authenticate, stripe_api


def new_intent(base: str) -> dict:
    return stripe_api(base).v1.payment_intents.create(params={
        "amount": 2500, "currency": "eur", "payment_method_types": ["card"]}).to_dict()


def confirm_in_browser(base: str, intent: dict, number: str = VISA, client_secret: str | None = None):
    """As devstack/stripejs.js sends it: a "simple" request (JSON as text/plain), no secret key."""
    body = {"key": PUBLISHABLE_KEY, "client_secret": client_secret or intent["client_secret"],
            "payment_method_data": {"type": "card", "billing_details": {"name": "Ada"},
                                    "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}}}
    return requests.post(f"{base}/v1/payment_intents/{intent['id']}/confirm", data=json.dumps(body), timeout=10,
                         headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "http://127.0.0.1:8080"})


def test_a_card_confirms_the_payment_with_the_publishable_key_and_the_client_secret(localstripe):
    intent = new_intent(localstripe)
    answer = confirm_in_browser(localstripe, intent)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "succeeded"
    assert answer.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
    method = stripe_api(localstripe).v1.payment_methods.retrieve(answer.json()["payment_method"])
    assert method.card.last4 == "4242" and method.billing_details.name == "Ada"


def test_a_wrong_client_secret_or_no_key_is_refused(localstripe):
    intent = new_intent(localstripe)
    answer = confirm_in_browser(localstripe, intent, client_secret=intent["id"] + "_secret_forged")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "resource_missing"
    anonymous = requests.post(f"{localstripe}/v1/payment_intents/{intent['id']}/confirm", timeout=10,
                              data=json.dumps({"client_secret": intent["client_secret"]}))
    assert anonymous.status_code == 401
    assert stripe_api(localstripe).v1.payment_intents.retrieve(intent["id"]).status == "requires_payment_method"


def test_a_declined_card_can_be_followed_by_another(localstripe):
    intent = new_intent(localstripe)
    declined = confirm_in_browser(localstripe, intent, DECLINED)
    assert declined.status_code == 402 and declined.json()["error"]["code"] == "card_declined"
    assert confirm_in_browser(localstripe, intent, VISA).json()["status"] == "succeeded"


def test_a_3d_secure_card_asks_for_authentication_first(localstripe):
    intent = new_intent(localstripe)
    answer = confirm_in_browser(localstripe, intent, THREE_D_SECURE)
    assert answer.json()["status"] == "requires_action"
    assert authenticate(localstripe, intent["id"], intent["client_secret"])["status"] == "succeeded"


def test_the_stripe_js_stand_in_carries_the_browser_confirmation(localstripe):
    script = requests.get(f"{localstripe}/js.stripe.com/v3/", timeout=10)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert "class Element" in script.text  # localstripe's stand-in...
    assert "localstripe (devstack): Stripe().confirmCardPayment()" in script.text  # ...with the patch after it
