"""Returns in real browsers against the local stack: the customer asks for a return on the demo storefront's
order page, the shop approves it, records it received and refunds it on the back office's Returns page
(which passes axe-core with no serious or critical violation); the approval email lands in the outbox."""

import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from devstack.admin import DIST
from e2e.test_admin import ADDRESS, admin_headers, serious_violations, sign_in
from e2e.test_storefront import emails_mentioning

pytestmark = pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="admin/dist missing: run `make admin`")


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
