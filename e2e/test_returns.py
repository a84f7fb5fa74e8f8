"""Returns in real browsers against the local stack: the customer asks for a return on the demo storefront's
order page, the shop approves it, records it received and refunds it on the back office's Returns page
(which passes axe-core with no serious or critical violation); the approval email lands in the outbox. A return
settled as a dearer exchange: the settled email links to the pay page, the exchange order's page offers "pay the
difference", and the customer pays it with the Stripe.js stand-in until the webhook marks the order paid."""

import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from devstack.admin import DIST
from e2e.test_admin import ADDRESS, admin_headers, serious_violations, sign_in
from e2e.test_storefront import emails_mentioning, pay_with

needs_admin = pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="admin/dist missing: run `make admin`")


def shipped(stack, lines: dict[str, int]) -> tuple[str, str]:
    """A paid order bought through the API and shipped: its id and order token."""
    api = stack.api
    cart = requests.post(f"{api}/carts", json={"currency": "EUR"}, timeout=10,
                         headers={"Idempotency-Key": str(uuid.uuid4())}).json()["id"]
    for sku, quantity in lines.items():
        assert requests.post(f"{api}/carts/{cart}/lines", json={"sku": sku, "quantity": quantity}, timeout=10).ok
    assert requests.patch(f"{api}/carts/{cart}", json={"email": "ada@example.com", "shipping_address": ADDRESS,
                                                       "shipping_method": "standard"}, timeout=10).ok
    checkout = requests.post(f"{api}/carts/{cart}/checkout", json={"payment_method": "pm_card_visa"}, timeout=30,
                             headers={"Idempotency-Key": str(uuid.uuid4())}).json()
    order_id, token = checkout["order"]["id"], checkout["order_token"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = requests.post(f"{api}/admin/orders/{order_id}/shipments", timeout=10, headers=admin_headers(stack),
                               json={"carrier": "dhl", "tracking_number": "JD01460000628"})
        if answer.status_code == 201:
            return order_id, token
        time.sleep(0.5)  # until the payment's webhook has made it paid
    raise AssertionError(f"order {order_id} could not be shipped: {answer.text}")


@needs_admin
def test_a_customer_asks_for_a_return_and_the_shop_settles_it(stack, browser):
    order_id, token = shipped(stack, {"TEE-M": 2})
    page = browser.page
    page.goto(f"{stack.storefront}/order.html?id={order_id}&token={token}")
    expect(page.get_by_role("heading", name="Returns")).to_be_visible(timeout=30_000)
    page.get_by_label(re.compile(r"T-shirt")).fill("1")
    page.get_by_label("Reason").select_option("size_or_fit")
    page.get_by_label("Comment").fill("Too small.")
    page.get_by_role("button", name="Ask for a return").click()
    expect(page.get_by_text("Your return request is on its way")).to_be_visible()
    expect(page.locator("#return-list li")).to_contain_text("1 × TEE-M")

    sign_in(page, stack)
    page.get_by_role("link", name="Returns", exact=True).click()
    card = page.get_by_role("region").filter(has_text=order_id)
    expect(card).to_be_visible()
    assert serious_violations(page) == []
    card.get_by_label("Message to the customer").fill("Use the enclosed label.")
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("approved")
    number = re.search(r"R-\d{4}-\d{6}", page.get_by_role("status").inner_text()).group(0)

    page.get_by_label("Status").select_option("approved")
    card = page.get_by_role("region").filter(has_text=order_id)
    card.get_by_role("button", name="Record received").click()
    expect(page.get_by_role("status")).to_contain_text("received")
    page.get_by_label("Status").select_option("received")
    page.get_by_role("region").filter(has_text=order_id).get_by_role(
        "button", name="Refund to the original payment").click()
    expect(page.get_by_role("status")).to_contain_text("refunded")

    order = requests.get(f"{stack.api}/admin/orders/{order_id}", headers=admin_headers(stack), timeout=10).json()
    assert order["return_status"] == "refunded" and order["amount_refunded"] > 0
    deadline = time.monotonic() + 60
    while not emails_mentioning(stack.outbox, number) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert emails_mentioning(stack.outbox, number), "no approval email in the outbox"


def test_a_customer_pays_the_difference_of_a_dearer_exchange(stack, browser):
    api, admin = stack.api, admin_headers(stack)
    order_id, token = shipped(stack, {"TEE-M": 1})
    asked = requests.post(f"{api}/orders/{order_id}/returns", timeout=10,
                          json={"lines": [{"sku": "TEE-M", "quantity": 1, "reason": "size_or_fit"}]},
                          headers={"X-Order-Token": token, "Idempotency-Key": str(uuid.uuid4())})
    assert asked.status_code == 201, asked.text
    return_id = asked.json()["id"]
    approved = requests.post(f"{api}/admin/returns/{return_id}/approve", json={}, headers=admin, timeout=10)
    assert approved.status_code == 200, approved.text
    settled = requests.post(f"{api}/admin/returns/{return_id}/refund", headers=admin, timeout=30, json={
        "method": "exchange", "exchange_lines": [{"sku": "TEE-S", "quantity": 2}]})
    assert settled.status_code == 200, settled.text
    exchange_id = settled.json()["refund"]["order_id"]

    # The settled email says what is left to pay and links to the storefront's pay page.
    deadline = time.monotonic() + 60
    while not (found := emails_mentioning(stack.outbox, f"pay.html?id={exchange_id}")):
        assert time.monotonic() < deadline, f"no email with the pay link of {exchange_id}:\n{stack.log}"
        time.sleep(0.5)
    text = found[0].get_body(("plain",)).get_content()
    assert "pay the difference of" in text
    link = re.search(r"(http\S+/pay\.html\?id=ord_\w+&token=\S+)", text).group(1)
    exchange_token = re.search(r"token=(\S+)", link).group(1)

    # The exchange order's page offers to pay the difference; the pay page takes the card like checkout.
    page = browser.page
    page.goto(f"{stack.storefront}/order.html?id={exchange_id}&token={exchange_token}")
    offer = page.get_by_role("link", name=re.compile(r"^Pay the difference"))
    expect(offer).to_be_visible(timeout=30_000)
    offer.click()
    page.wait_for_url("**/pay.html?*")
    expect(page.get_by_role("heading", name="Pay the difference")).to_be_visible()
    expect(page.locator("#order-id")).to_have_text(exchange_id)
    pay_with(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/order\.html\?id=ord_\w+&token="))
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid", timeout=30_000)
    expect(page.locator("#pay-due")).to_be_hidden()
    order = requests.get(f"{api}/admin/orders/{exchange_id}", headers=admin, timeout=10).json()
    assert (order["status"], order["payment_status"]) == ("paid", "paid") and order["amount_paid"] == order["total"] > 0

    # The link of the email, followed again, has nothing left to pay.
    page.goto(link)
    expect(page.get_by_text("There is nothing left to pay on this order.")).to_be_visible()
