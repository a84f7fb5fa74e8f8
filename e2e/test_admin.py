"""The back office (admin/, built by `make admin`) in a real browser against the local stack: the
dashboard's chart shows purchases made in the test, an order is shipped (the shipment email lands),
partly refunded and its confirmation sent again, the pages pass axe-core with no serious or critical
violation, and fit a phone. Screenshots of the dashboard and an order page, and the dashboard's
weight and time to interactive, go to test-artifacts/."""

import datetime as dt
import gzip
import json
import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from devstack.accounts import STAFF, STAFF_PASSWORD
from devstack.admin import DIST
from devstack.stack import ROOT
from e2e.conftest import ARTIFACTS
from e2e.test_storefront import PHONE, emails_mentioning, fits_the_width

AXE = ROOT / "admin" / "node_modules" / "axe-core" / "axe.min.js"
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}

pytestmark = pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="admin/dist missing: run `make admin`")


def admin_headers(stack) -> dict:
    return {"Authorization": f"Bearer {stack.admin_key}"}


def buy(stack, lines: dict[str, int]) -> str:
    """A paid order bought through the API (the card confirmed at checkout); its id once it is paid."""
    api = stack.api
    cart = requests.post(f"{api}/carts", json={"currency": "EUR"}, timeout=10,
                         headers={"Idempotency-Key": str(uuid.uuid4())}).json()["id"]
    for sku, quantity in lines.items():
        assert requests.post(f"{api}/carts/{cart}/lines", json={"sku": sku, "quantity": quantity}, timeout=10).ok
    assert requests.patch(f"{api}/carts/{cart}", json={"email": "ada@example.com", "shipping_address": ADDRESS,
                                                       "shipping_method": "standard"}, timeout=10).ok
    checkout = requests.post(f"{api}/carts/{cart}/checkout", json={"payment_method": "pm_card_visa"}, timeout=30,
                             headers={"Idempotency-Key": str(uuid.uuid4())})
    assert checkout.status_code == 201, checkout.text
    order_id = checkout.json()["order"]["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        order = requests.get(f"{api}/admin/orders/{order_id}", headers=admin_headers(stack), timeout=10).json()
        if order["status"] == "paid" and order["fulfilment_status"] == "requested":
            return order_id
        time.sleep(0.5)
    raise AssertionError(f"order {order_id} not paid and handed to fulfilment: {order}")


def counted_today(stack, orders: int) -> None:
    """Wait until the relay counted at least `orders` paid orders today (the report is fed by the stream)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        report = requests.get(f"{stack.api}/admin/reports/sales", headers=admin_headers(stack), timeout=10).json()
        if report["by_day"][-1]["orders"] >= orders:
            return
        time.sleep(0.5)
    raise AssertionError(f"today's orders not counted: {report['by_day'][-1]}")


def sign_in(page, stack) -> None:
    """With the admin API key (an integration's credential, every scope)."""
    page.goto(stack.admin)
    page.get_by_role("button", name="Use an API key instead").click()
    page.get_by_label("Admin API key").fill(stack.admin_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def sign_in_as(page, stack, role: str) -> None:
    """As the demo staff user of `role` (devstack/accounts.py), through Cognito (moto) from the browser."""
    page.goto(stack.admin)
    page.get_by_label("Email").fill(STAFF[role])
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_test_id("who")).to_have_text(f"{STAFF[role]} ({role})")


def serious_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in found if v["impact"] in ("serious", "critical")]


def page_weight() -> dict:
    """The dashboard's JS and CSS as served (gzip), from the built files index.html loads."""
    html = (DIST / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="\./(assets/[^"]+\.(?:js|css))"', html)
    sizes = {name: len(gzip.compress((DIST / name).read_bytes(), 6)) for name in assets}
    return {"files": sizes, "js_css_gzip_bytes": sum(sizes.values())}


def test_the_dashboard_charts_todays_purchases(stack, browser):
    page = browser.page
    buy(stack, {"TEE-M": 2})
    buy(stack, {"MUG-BLACK": 1, "TOTE-NATURAL": 1})
    counted_today(stack, 2)
    today = dt.datetime.now(dt.UTC).date().isoformat()

    sign_in(page, stack)
    # Time to interactive: a fresh load of the signed-in dashboard until its chart and figures are there.
    started = time.monotonic()
    page.reload()
    chart = page.locator("figure.chart canvas")
    expect(chart).to_be_visible()
    expect(page.get_by_test_id("waiting-to-ship")).to_be_visible()
    interactive_ms = page.evaluate("performance.now()")
    wall_ms = (time.monotonic() - started) * 1000
    assert chart.bounding_box()["height"] > 100
    page.get_by_text("Figures per day (table)").click()
    row = page.get_by_role("row", name=re.compile(today))
    expect(row).to_be_visible()
    assert int(row.get_by_role("cell").nth(1).inner_text()) >= 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)
    assert serious_violations(page) == []

    figures = page_weight() | {"time_to_interactive_ms": round(interactive_ms), "reload_wall_ms": round(wall_ms)}
    (ARTIFACTS / "admin-dashboard-metrics.json").write_text(json.dumps(figures, indent=2))
    print("admin dashboard:", json.dumps(figures))


def test_ship_an_order_then_refund_part_of_it(stack, browser):
    page = browser.page
    order_id = buy(stack, {"TEE-S": 1, "BEANIE-GREY": 1})
    sign_in(page, stack)
    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_label("Order id").fill(order_id)
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=re.compile(order_id))).to_be_visible(timeout=45_000)
    assert serious_violations(page) == []

    # A split shipment: the T-shirt now, the beanie later.
    page.get_by_label("Tracking number").fill("JD0146000062812301")
    page.get_by_label("BEANIE-GREY (1 left)").fill("0")
    page.get_by_role("button", name="Record shipment").click()
    expect(page.get_by_test_id("fulfilment-status")).to_have_text("partially_shipped")
    page.get_by_label("Tracking number").fill("JD0146000062812302")
    page.get_by_role("button", name="Record shipment").click()
    expect(page.get_by_test_id("fulfilment-status")).to_have_text("shipped")
    deadline = time.monotonic() + 60
    while not emails_mentioning(stack.outbox, "JD0146000062812302") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert emails_mentioning(stack.outbox, "JD0146000062812302"), "no shipment email in the outbox"

    # More than was paid is refused before it is sent; part of it is refunded.
    order = requests.get(f"{stack.api}/admin/orders/{order_id}", headers=admin_headers(stack), timeout=10).json()
    page.get_by_label("Amount (EUR)").fill(f"{order['amount_paid'] / 100 + 1:.2f}")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_text(re.compile(r"Enter an amount above 0 and at most"))).to_be_visible()
    page.get_by_label("Amount (EUR)").fill("5.00")
    page.get_by_label("Reason (optional)").first.fill("scuffed beanie")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Refund requested.")
    expect(page.get_by_text(re.compile(r"Refund €5\.00"))).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-order.png"), full_page=True)
    refunded = requests.get(f"{stack.api}/admin/orders/{order_id}", headers=admin_headers(stack), timeout=10).json()
    assert [r["amount"] for r in refunded["refunds"]] == [500]

    # The confirmation email, again.
    def confirmations() -> int:
        return sum("is confirmed" in (m["Subject"] or "") for m in emails_mentioning(stack.outbox, order_id))

    assert confirmations() == 1
    page.get_by_role("button", name="Resend confirmation email").click()
    expect(page.get_by_role("status")).to_have_text("Confirmation email queued to ada@example.com.")
    deadline = time.monotonic() + 60
    while confirmations() == 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert confirmations() == 2


@pytest.mark.parametrize("browser", [PHONE], indirect=True)
def test_the_dashboard_and_orders_fit_a_phone(stack, browser):
    page = browser.page
    sign_in(page, stack)
    expect(page.locator("figure.chart canvas")).to_be_visible()
    assert fits_the_width(page)
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect(page.locator("table.orders")).to_be_visible()
    assert fits_the_width(page)
    # Keyboard: on a fresh load the skip link is the first stop, and it moves focus to the page.
    page.reload()
    expect(page.locator("table.orders")).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_import_a_csv_with_an_error_then_a_good_one_then_count_stock(stack, browser):
    page = browser.page
    header = ("product_id,product_title,description,active,sku,variant_title,price,currency,on_hand,"
              "low_stock_threshold\n")
    bad = header + ",Poster,,true,POSTER-A2,A2,1500,EUR,10,3\n,Poster,,true,POSTER-A1,A1,lots,EUR,4,\n"
    good = bad.replace("lots", "2500")
    sign_in(page, stack)
    page.get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", name="Products and inventory")).to_be_visible()
    csv_file = page.get_by_label("Import CSV")

    csv_file.set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}])
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_be_visible()
    expect(errors.get_by_role("row").nth(1)).to_contain_text("3price")
    expect(page.get_by_role("alert").filter(has_text="nothing was imported")).to_be_visible()
    assert page.get_by_role("heading", name="Poster").count() == 0

    csv_file.set_input_files(files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": good.encode()}])
    expect(page.get_by_role("status")).to_have_text("good.csv: 2 rows, 1 products created, 0 updated.")
    expect(page.get_by_role("heading", name="Poster")).to_be_visible()
    expect(errors).to_have_count(0)

    # A stock count with a reason lands in the SKU's ledger.
    page.get_by_label("On hand of POSTER-A1").fill("6")
    page.get_by_label("Reason for POSTER-A1").fill("recount")
    page.get_by_role("button", name="Save stock of POSTER-A1").click()
    expect(page.get_by_role("status")).to_have_text("Stock of POSTER-A1 saved.")
    page.get_by_role("button", name="Stock history of POSTER-A1").click()
    expect(page.get_by_label("Stock ledger of POSTER-A1")).to_contain_text("4 → 6 (recount")
    assert serious_violations(page) == []


B2B = ["Companies", "Price lists", "Quotes", "Invoices"]
NAVIGATION = {
    "owner": ["Dashboard", "Orders", "Products", "Returns", "Discounts", "Sales", *B2B, "Customers", "Messages",
              "Audit", "Gift cards", "Staff"],
    "manager": ["Dashboard", "Orders", "Products", "Returns", "Discounts", "Sales", *B2B, "Customers", "Messages",
                "Gift cards"],
    "support": ["Dashboard", "Orders", "Products", "Returns", "Discounts", "Sales", *B2B, "Customers", "Messages",
                "Gift cards"],
    "fulfilment": ["Dashboard", "Orders", "Products", "Returns"],
}


@pytest.mark.parametrize("role", list(NAVIGATION))
def test_each_role_signs_in_and_sees_its_sections(stack, browser, role):
    page = browser.page
    sign_in_as(page, stack, role)
    sections = page.get_by_role("navigation", name="Sections").get_by_role("link")
    expect(sections).to_have_text(NAVIGATION[role])
    page.get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", name="Products and inventory")).to_be_visible()
    expect(page.get_by_role("button", name="New product")).to_have_count(1 if role in ("owner", "manager") else 0)


def test_support_is_refused_a_refund_above_its_limit_by_the_api_and_the_owner_sees_it_audited(stack, browser):
    page = browser.page
    order_id = buy(stack, {"TEE-M": 1})
    sign_in_as(page, stack, "support")
    page.goto(f"{stack.admin}/#/orders/{order_id}")
    expect(page.get_by_role("heading", name=re.compile(order_id))).to_be_visible(timeout=45_000)
    expect(page.get_by_role("heading", name="Ship")).to_have_count(0)  # not support's to do
    expect(page.get_by_role("heading", name="Cancel")).to_have_count(0)
    page.get_by_label("Amount (EUR)").fill("15.00")  # within what was paid: only the API says no
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="may refund at most 1000")).to_be_visible()
    order = requests.get(f"{stack.api}/admin/orders/{order_id}", headers=admin_headers(stack), timeout=10).json()
    assert order["refunds"] == [] and order["amount_refunded"] == 0
    page.get_by_label("Amount (EUR)").fill("4.00")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Refund requested.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-support-refund.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    sign_in_as(page, stack, "owner")
    page.get_by_role("link", name="Audit").click()
    page.get_by_label("Resource starts with").fill(f"orders/{order_id}")
    page.get_by_role("button", name="Filter").click()
    # The refund's writes (the order with its pending refund, then the provider's answer), each its record.
    rows = page.get_by_role("row").filter(has_text="POST /admin/orders/{order_id}/refunds")
    expect(page.get_by_role("row").filter(has_text="admin_key:")).to_have_count(0)  # only this order's records
    expect(rows.first).to_contain_text(STAFF["support"])
    expect(rows.first).to_contain_text(f"ORDER#{order_id}")  # the order item and its changed fields
    assert rows.count() >= 1 and all(STAFF["support"] in text for text in rows.all_inner_texts())
    page.screenshot(path=str(ARTIFACTS / "admin-audit.png"), full_page=True)
    assert serious_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    exported = download.value.path().read_text()
    assert exported.startswith("id,at,actor,action,resource,before,after") and STAFF["support"] in exported
