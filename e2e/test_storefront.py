"""The demo storefront (examples/storefront/) in a real browser against the local stack: a customer buys
two products with a card in the Stripe.js stand-in, sees the order page turn paid and gets the email;
and asking for more than is in stock shows the API's out-of-stock message."""

import email
import email.policy
import re
import time

import pytest
import requests
from playwright.sync_api import expect

from devstack.seed import LOW_STOCK_SKU
from e2e.conftest import ARTIFACTS

PHONE = {"width": 375, "height": 812}
# What the page shows when the browser may not read an answer: an error answer without CORS headers.
UNREADABLE = ("network_error means the browser could not read the API's answer: error answers need "
              "Access-Control-Allow-Origin too (see test_the_api_lets_the_storefront_read_every_answer)")


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def emails_mentioning(outbox, text: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        parts = [message["Subject"] or ""] + [part.get_content() for part in message.walk()
                                              if part.get_content_maintype() == "text"]
        if any(text in part for part in parts):
            found.append(message)
    return found


def pay_with(page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry month (MM)").fill("12")
    page.get_by_label("Expiry year (YY)").fill("34")
    page.get_by_label("CVC").fill("123")
    page.locator("#card-element").get_by_label("Postal code").fill("10115")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def test_the_api_lets_the_storefront_read_every_answer(stack):
    """CORS from the storefront's origin: the preflights of the methods and headers it sends, and
    Access-Control-Allow-Origin on answers, errors included (without it the browser hides the body)."""
    origin = {"Origin": stack.storefront}
    cart = requests.post(f"{stack.api}/carts", json={}, headers=origin, timeout=10)
    assert cart.headers.get("Access-Control-Allow-Origin") == stack.storefront
    cart_id = cart.json()["id"]
    for method, path, headers in [("POST", "/carts", "content-type,idempotency-key"),
                                  ("PATCH", f"/carts/{cart_id}/lines/TEE-M", "content-type"),
                                  ("DELETE", f"/carts/{cart_id}/lines/TEE-M", ""),
                                  ("GET", "/orders/ord_x", "x-order-token")]:
        preflight = requests.options(f"{stack.api}{path}", timeout=10, headers={
            **origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})
        assert preflight.status_code == 200, (method, path)
        assert preflight.headers["Access-Control-Allow-Origin"] == stack.storefront
        assert method in preflight.headers["Access-Control-Allow-Methods"].split(","), (method, path)
        allowed = {name.strip().lower() for name in preflight.headers["Access-Control-Allow-Headers"].split(",")}
        assert set(filter(None, headers.split(","))) <= allowed, (method, path)

    too_many = requests.post(f"{stack.api}/carts/{cart_id}/lines", json={"sku": LOW_STOCK_SKU, "quantity": 4},
                             headers=origin, timeout=10)
    assert too_many.status_code == 409 and too_many.json()["error"]["code"] == "out_of_stock"
    assert too_many.headers.get("Access-Control-Allow-Origin") == stack.storefront, (
        "an error answer without Access-Control-Allow-Origin: the browser hides it from the storefront")


@pytest.mark.parametrize("browser", [PHONE], indirect=True)
def test_a_customer_buys_two_products_with_a_card_and_gets_a_paid_order_and_an_email(stack, browser):
    page = browser.page
    page.goto(f"{stack.storefront}/index.html")

    # The catalogue, prices formatted from cents, and the low-stock note.
    shirt = page.locator("#products li", has_text="Organic cotton T-shirt")
    expect(shirt).to_contain_text("€25.00")
    expect(page.locator("#products li", has_text="Limited-edition art print")).to_contain_text("Only 3 left")
    assert fits_the_width(page)

    shirt.get_by_role("link").click()
    page.get_by_role("radio", name=re.compile(r"^M ")).check()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#add-result")).to_contain_text("Added 1 × Organic cotton T-shirt – M")
    expect(page.locator("#cart-count")).to_have_text("1")
    assert fits_the_width(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    page.get_by_role("link", name="Enamel mug").click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#add-result")).to_contain_text("Added 1 × Enamel mug – White")
    expect(page.locator("#cart-count")).to_have_text("2")

    # The cart: change a quantity, try an unknown discount code, fill in the delivery details.
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Cart")).click()
    expect(page.locator("#lines > li")).to_have_count(2)
    mug = page.locator("#lines > li", has_text="Enamel mug")
    mug.get_by_role("spinbutton", name="Quantity of Enamel mug – White").fill("2")
    mug.get_by_role("button", name="Update quantity of Enamel mug – White").click()
    expect(page.locator("dd[data-total=subtotal]")).to_have_text("€53.00")
    page.get_by_label("Discount code").fill("NO-SUCH-CODE")
    page.locator("#discount-form").get_by_role("button", name="Apply").click()
    expect(page.locator("#discount-status [role=alert]"), UNREADABLE).to_have_attribute(
        "data-code", "discount_unknown")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address", exact=True).fill("Main street 1")
    page.get_by_label("Postal code").fill("10115")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("radio", name=re.compile("^Express")).check()
    expect(page.locator("dd[data-total=shipping]")).not_to_have_text("€0.00")
    assert fits_the_width(page)
    page.get_by_role("button", name="Continue to payment").click()

    # Payment in the Stripe.js stand-in: a declined card first, then the test card.
    page.wait_for_url("**/checkout.html")
    order_id = page.locator("#order-id").inner_text()
    assert order_id.startswith("ord_")
    assert fits_the_width(page)
    pay_with(page, "4000 0000 0000 0341")
    expect(page.locator("#pay-notice [role=alert]")).to_have_attribute("data-code", "payment_declined")
    pay_with(page, "4242 4242 4242 4242")

    # The order page polls until the webhook has marked the order paid.
    page.wait_for_url(re.compile(r"/order\.html\?id=ord_\w+&token="))
    assert f"id={order_id}" in page.url
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid", timeout=30_000)
    expect(page.locator("#order-lines > li")).to_have_count(2)
    expect(page.locator("#order-payment")).to_have_text("Paid")
    expect(page.locator("#cart-count")).to_have_text("0")  # the paid cart is forgotten
    assert fits_the_width(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "order-page.png"), full_page=True)

    # The confirmation email, with the order id, lands in the outbox.
    deadline = time.monotonic() + 30
    while not (found := emails_mentioning(stack.outbox, order_id)):
        assert time.monotonic() < deadline, f"no email mentioning {order_id} in {stack.outbox}:\n{stack.log}"
        time.sleep(0.5)
    assert found[0]["To"] == "ada@example.com"


def test_asking_for_more_than_is_in_stock_shows_the_out_of_stock_message(stack, browser):
    page = browser.page
    page.goto(f"{stack.storefront}/index.html")
    page.get_by_role("link", name="Limited-edition art print").click()
    expect(page.get_by_role("radio", name=re.compile("^A3 "))).to_be_checked()
    expect(page.locator("#variants")).to_contain_text("Only 3 left")

    page.get_by_label("Quantity").fill("4")
    page.get_by_role("button", name="Add to cart").click()

    alert = page.locator("#add-result [role=alert]")
    expect(alert, UNREADABLE).to_have_attribute("data-code", "out_of_stock")
    expect(alert).to_contain_text("Not enough stock")
    expect(alert).to_contain_text(f"Limited-edition art print – A3: Only 3 of SKU {LOW_STOCK_SKU} are left.")
    expect(page.locator("#cart-count")).to_have_text("0")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "out-of-stock.png"), full_page=True)


def test_search_finds_products_as_the_shopper_types_typos_and_all(stack, browser):
    # The index is built by the pump's refresh_catalogue_views schedule (every PUMP_SCHEDULE_SECONDS).
    deadline = time.monotonic() + 120
    while requests.get(f"{stack.api}/search?q=mug", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the search index was not built within 2 minutes"
        time.sleep(2)
    page = browser.page
    page.goto(f"{stack.storefront}/index.html")
    expect(page.locator("#products li").first).to_be_visible()
    page.get_by_label("Search products").press_sequentially("enamel mu", delay=60)
    expect(page.locator("#products li")).to_have_count(1)
    expect(page.locator("#products li h2")).to_have_text("Enamel mug")
    page.get_by_label("Search products").fill("beanei")  # a typo
    expect(page.locator("#products li h2")).to_have_text(["Merino beanie"])
    page.get_by_label("Search products").fill("zzzzzz")
    expect(page.locator("#notice")).to_contain_text("Nothing found")
    page.get_by_label("Search products").fill("")
    expect(page.get_by_role("link", name="Organic cotton T-shirt")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)


@pytest.mark.parametrize("browser", [PHONE], indirect=True)
def test_category_pages_list_their_products_sorted_with_breadcrumbs(stack, browser):
    """The seeded tree (devstack/seed.py): Clothing > Tops, Hats; Home > Kitchen, Art prints; Bags."""
    page = browser.page
    page.goto(f"{stack.storefront}/index.html")
    categories = page.get_by_role("navigation", name="Categories")
    expect(categories.get_by_role("link", name="All products")).to_have_attribute("aria-current", "page")
    categories.get_by_role("link", name="Clothing", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Clothing")
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.locator("li")).to_have_text(["All products", "Clothing"])
    expect(page.locator("#products li h2")).to_have_count(2)
    expect(page.get_by_label("Sort by")).to_have_value("newest")
    page.get_by_label("Sort by").select_option(label="Price: high to low")
    expect(page.locator("#products li h2")).to_have_text(["Merino beanie", "Organic cotton T-shirt"])  # 32 €, 25 €
    page.get_by_label("Sort by").select_option(label="Price: low to high")
    expect(page.locator("#products li h2")).to_have_text(["Organic cotton T-shirt", "Merino beanie"])
    assert "sort=price_asc" in page.url  # a reload or a shared link keeps the order
    assert fits_the_width(page)

    # A sub-category, its breadcrumbs back up the tree, and the sort kept on the way.
    categories.get_by_role("link", name="Hats").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hats")
    expect(crumbs.locator("li")).to_have_text(["All products", "Clothing", "Hats"])
    expect(crumbs.locator("[aria-current=page]")).to_have_text("Hats")
    expect(page.locator("#products li h2")).to_have_text(["Merino beanie"])
    expect(categories.get_by_role("link", name="Hats")).to_have_attribute("aria-current", "page")
    crumbs.get_by_role("link", name="Clothing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clothing")
    expect(page.get_by_label("Sort by")).to_have_value("price_asc")
    expect(page.locator("#products li h2")).to_have_text(["Organic cotton T-shirt", "Merino beanie"])
    page.get_by_label("Sort by").select_option(label="Name")
    expect(page.locator("#products li h2")).to_have_text(["Merino beanie", "Organic cotton T-shirt"])

    # A product page shows its deepest category's path, which leads back to that category's page.
    page.get_by_role("link", name="Merino beanie").click()
    expect(crumbs.locator("li")).to_have_text(["All products", "Clothing", "Hats", "Merino beanie"])
    crumbs.get_by_role("link", name="Hats").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hats")
    crumbs.get_by_role("link", name="Clothing").click()
    expect(page.locator("#products li h2")).to_have_count(2)

    categories.get_by_role("link", name="Home", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    expect(page.locator("#products li h2")).to_have_count(2)  # the first listing is in before the order changes
    page.get_by_label("Sort by").select_option(label="Price: high to low")
    expect(page.locator("#products li h2")).to_have_text(["Limited-edition art print", "Enamel mug"])  # 45 €, 14 €
    page.get_by_label("Sort by").select_option(label="Name")
    expect(page.locator("#products li h2")).to_have_text(["Enamel mug", "Limited-edition art print"])
    crumbs.get_by_role("link", name="All products").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Products")
    expect(crumbs).to_be_hidden()
    # Every active product (other browser tests may have added some to the shared stack).
    listed = requests.get(f"{stack.api}/products?limit=100", timeout=10).json()["data"]
    expect(page.locator("#products li")).to_have_count(len(listed))
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{stack.storefront}/index.html?category=no-such-thing")
    expect(page.get_by_role("heading", level=1)).to_have_text("No such category")
    expect(page.locator("#notice [role=alert]")).to_have_attribute("data-code", "resource_missing")
    page.goto(f"{stack.storefront}/index.html?category=clothing&sort=title")
    expect(page.locator("#products li h2")).to_have_text(["Merino beanie", "Organic cotton T-shirt"])
    page.screenshot(path=str(ARTIFACTS / "category-page.png"), full_page=True)
