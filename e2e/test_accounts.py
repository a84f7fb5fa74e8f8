"""Customer accounts in the demo storefront against the local stack: a guest fills a cart, signs in (Cognito's
InitiateAuth called by the browser at the moto server's cognito-idp endpoint), the guest cart is merged into
the account's open cart (POST /me/carts), the signed-in checkout is paid, and the account page lists the order
(GET /me/orders)."""

import json
import re
import uuid

import requests
from playwright.sync_api import expect

from e2e.conftest import ARTIFACTS
from e2e.test_storefront import pay_with

DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "Demo-customer-1"


def storefront_config(stack) -> dict:
    """The settings `make run` writes into /config.js: the API's URL and the pool's endpoint and app client."""
    text = requests.get(f"{stack.storefront}/config.js", timeout=10).text
    return json.loads(text[text.index("{"):text.rindex("}") + 1])


def id_token(cognito: dict) -> str:
    """InitiateAuth as the browser sends it: unsigned JSON to the cognito-idp endpoint."""
    answer = requests.post(cognito["endpoint"], timeout=10, json={
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": cognito["clientId"],
        "AuthParameters": {"USERNAME": DEMO_EMAIL, "PASSWORD": DEMO_PASSWORD}}, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    answer.raise_for_status()
    return answer.json()["AuthenticationResult"]["IdToken"]


def an_account_cart_with_a_mug(stack, token: str) -> str:
    """The account's open cart, filled on another device: a guest cart with a mug attached to the account."""
    def post(path, body, **headers):
        answer = requests.post(f"{stack.api}{path}", json=body, timeout=10,
                               headers={"Idempotency-Key": str(uuid.uuid4()), **headers})
        answer.raise_for_status()
        return answer.json()

    cart = post("/carts", {"currency": "EUR"})
    post(f"/carts/{cart['id']}/lines", {"sku": "MUG-WHITE", "quantity": 1})
    return post("/me/carts", {"cart_id": cart["id"]}, Authorization=f"Bearer {token}")["id"]


def test_the_sign_in_endpoint_lets_the_storefront_call_it(stack):
    """CORS of the moto server's cognito-idp API for the storefront's origin: the preflight of InitiateAuth and
    Access-Control-Allow-Origin on its answers, a wrong password included."""
    cognito = storefront_config(stack)["cognito"]
    origin = {"Origin": stack.storefront}
    preflight = requests.options(cognito["endpoint"], timeout=10, headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == stack.storefront
    allowed = {name.strip().lower() for name in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-amz-target"} <= allowed
    wrong = requests.post(cognito["endpoint"], timeout=10, headers={
        **origin, "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"}, json={
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": cognito["clientId"],
        "AuthParameters": {"USERNAME": DEMO_EMAIL, "PASSWORD": "wrong-password-1"}})
    assert wrong.status_code == 400 and wrong.json()["__type"].endswith("NotAuthorizedException")
    assert wrong.headers.get("Access-Control-Allow-Origin") == stack.storefront


def test_a_guest_signs_in_keeps_the_cart_pays_and_sees_the_order_in_the_account(stack, browser):
    page = browser.page
    account_cart = an_account_cart_with_a_mug(stack, id_token(storefront_config(stack)["cognito"]))

    # A guest puts a T-shirt in a new cart.
    page.goto(f"{stack.storefront}/index.html")
    page.locator("#products li", has_text="Organic cotton T-shirt").get_by_role("link").click()
    page.get_by_role("radio", name=re.compile(r"^M ")).check()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-count")).to_have_text("1")
    guest_cart = page.evaluate("localStorage.getItem('commerce.cart_id')")
    assert guest_cart and guest_cart != account_cart

    # Sign in from the cart page: a wrong password first, then the demo customer's.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name=re.compile("^Cart")).click()
    expect(page.locator("#lines > li")).to_have_count(1)
    nav.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill("not-the-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#notice [role=alert]")).to_have_attribute("data-code", "NotAuthorizedException")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Back on the cart page, which is now the account's cart with the guest's T-shirt merged in.
    page.wait_for_url("**/cart.html")
    expect(nav.get_by_role("link", name="Account")).to_be_visible()
    assert page.evaluate("localStorage.getItem('commerce.cart_id')") == account_cart
    expect(page.locator("#lines > li")).to_have_count(2)
    expect(page.locator("#cart-count")).to_have_text("2")
    guest = requests.get(f"{stack.api}/carts/{guest_cart}", timeout=10).json()
    assert guest["lines"] == [], "the guest cart is emptied by the merge"

    # The signed-in checkout.
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Full name").fill("Demo Customer")
    page.get_by_label("Address", exact=True).fill("1 Main Street")
    page.get_by_label("Postal code").fill("10115")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("radio", name=re.compile("^Standard")).check()
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/checkout.html")
    order_id = page.locator("#order-id").inner_text()
    pay_with(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/order\.html\?id=ord_\w+"))
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid", timeout=30_000)

    # The account page: the profile and the order history, whose entry opens the order with the bearer token.
    nav.get_by_role("link", name="Account").click()
    page.wait_for_url("**/account.html")
    expect(page.locator("#account-email")).to_have_text(DEMO_EMAIL)
    entry = page.locator("#orders > li", has_text=order_id)
    expect(entry).to_have_count(1)
    expect(entry.locator("[data-status]")).to_have_attribute("data-status", "paid")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "account-page.png"), full_page=True)
    entry.get_by_role("link", name=order_id).click()
    page.wait_for_url(f"**/order.html?id={order_id}")
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
    expect(page.locator("#order-lines > li")).to_have_count(2)

    # Signing out forgets the session and the account's cart.
    page.go_back()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/index.html")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.locator("#cart-count")).to_have_text("0")
