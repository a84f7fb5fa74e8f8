"""The back office's Quotes inbox and Invoices pages in a real browser against the local stack: a buyer (the
demo customer, made a company buyer) asks for a quote through the API, the shop answers it in the inbox, the
buyer accepts paying by invoice, and the shop marks the invoice paid; both pages pass axe-core with no serious
or critical violation."""

import uuid

import pytest
import requests
from playwright.sync_api import expect

from devstack.admin import DIST
from e2e.test_accounts import id_token, storefront_config
from e2e.test_admin import serious_violations, sign_in

pytestmark = pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="admin/dist missing: run `make admin`")
ADDRESS = {"name": "Acme SARL", "line1": "1 rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"}


def call(stack, method: str, path: str, body=None, token: str | None = None) -> dict:
    auth = f"Bearer {token}" if token else f"Bearer {stack.admin_key}"
    answer = requests.request(method, f"{stack.api}{path}", json=body, timeout=20,
                              headers={"Idempotency-Key": str(uuid.uuid4()), "Authorization": auth})
    assert answer.status_code < 300, answer.text
    return answer.json()


def test_answer_a_quote_in_the_inbox_then_mark_its_invoice_paid(stack, browser):
    company = call(stack, "POST", "/admin/companies", {"name": "Docs SARL", "vat_id": "FR98765432101",
                                                      "billing_address": ADDRESS, "payment_terms_days": 30,
                                                      "credit_limit": {"EUR": 1_000_000}})
    call(stack, "POST", f"/admin/companies/{company['id']}/buyers", {"email": "demo@example.com"})
    token = id_token(storefront_config(stack)["cognito"])
    guest = call(stack, "POST", "/carts", {"currency": "EUR"}, token=token)
    cart = call(stack, "POST", "/me/carts", {"cart_id": guest["id"]}, token=token)
    call(stack, "POST", f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 12}, token=token)
    call(stack, "PATCH", f"/carts/{cart['id']}", {"shipping_address": ADDRESS, "shipping_method": "standard"},
         token=token)
    quote = call(stack, "POST", f"/carts/{cart['id']}/quote", {"message": "Twelve, please"}, token=token)

    page = browser.page
    sign_in(page, stack)
    page.get_by_role("link", name="Quotes").click()
    expect(page.get_by_role("heading", name="Quotes")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=quote["id"])
    expect(row).to_contain_text("Twelve, please")
    row.get_by_role("button", name="Answer").click()
    form = page.get_by_role("form", name=f"Answer {quote['id']}")
    form.get_by_label("TEE-M", exact=False).fill("19.00")
    form.get_by_role("button", name="Send answer").click()
    expect(page.get_by_role("row").filter(has_text=quote["id"])).to_have_count(0)  # out of the inbox
    assert serious_violations(page) == []

    accepted = call(stack, "POST", f"/quotes/{quote['id']}/accept", {"payment_method": "invoice"}, token=token)
    assert accepted["order"]["subtotal"] == 12 * 1900 and accepted["order"]["payment_status"] == "invoiced"
    number = accepted["order"]["invoice"]["number"]

    page.get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    invoice_row = page.get_by_role("row").filter(has_text=number)
    expect(invoice_row).to_contain_text("Docs SARL")
    invoice_row.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_role("status")).to_have_text(f"Invoice {number} marked paid.")
    assert serious_violations(page) == []
    assert call(stack, "GET", f"/admin/invoices/{accepted['order']['invoice']['id']}")["status"] == "paid"
