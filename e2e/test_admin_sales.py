"""The back office's Sales page and product images in a real browser against the local stack: a sale
scheduled in the page lowers the price by itself (the local pump fires `apply_sales`), the product
editor keeps editing the regular price during the sale, and an image uploaded from the editor goes
to S3 through its presigned URL and is shown from IMAGES_BASE_URL."""

import datetime as dt
import struct
import time
import zlib
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from devstack.admin import DIST
from e2e.test_admin import serious_violations, sign_in

pytestmark = pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="admin/dist missing: run `make admin`")
BERLIN = ZoneInfo("Europe/Berlin")  # the browser's time zone (e2e/conftest.py)
SKU = "BEANIE-NAVY"


def png(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG (the browser decodes it)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\xc8\x32\x32" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def local(moment: dt.datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def product_with(stack, sku: str) -> dict:
    page = requests.get(f"{stack.api}/products?limit=100", timeout=10).json()["data"]
    return next(p for p in page if any(v["sku"] == sku for v in p["variants"]))


def variant_of(stack, sku: str) -> dict:
    return next(v for v in product_with(stack, sku)["variants"] if v["sku"] == sku)


def test_schedule_a_sale_then_upload_an_image_during_it(stack, browser):
    page = browser.page
    regular = variant_of(stack, SKU)["price"]
    now = dt.datetime.now(dt.UTC)
    sign_in(page, stack)
    page.get_by_role("link", name="Sales").click()
    expect(page.get_by_role("heading", name="Sales", exact=True)).to_be_visible()
    page.get_by_label("Name").fill("Winter sale")
    page.get_by_label("Starts").fill(local(now - dt.timedelta(minutes=1)))
    page.get_by_label("Ends").fill(local(now + dt.timedelta(minutes=15)))
    page.get_by_role("textbox", name="Percent").fill("25")
    page.get_by_label("SKUs (comma-separated)").fill(SKU)
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("status")).to_have_text("Winter sale scheduled.")
    expect(page.get_by_role("row", name="Winter sale")).to_contain_text(SKU)
    assert serious_violations(page) == []

    deadline = time.monotonic() + 90  # the pump fires apply_sales every 30 s
    while time.monotonic() < deadline and variant_of(stack, SKU)["price"] == regular:
        time.sleep(1)
    on_sale = variant_of(stack, SKU)
    assert (on_sale["price"], on_sale["compare_at_price"]) == (regular - regular // 4, regular)
    page.reload()
    expect(page.get_by_role("row", name="Winter sale")).to_contain_text("active")

    product = product_with(stack, SKU)
    page.get_by_role("link", name="Products").click()
    page.get_by_role("button", name=f"Edit {product['title']}").click()
    page.get_by_label("Add an image").set_input_files(files=[{"name": "navy.png", "mimeType": "image/png",
                                                               "buffer": png()}])
    expect(page.get_by_role("status").filter(has_text="navy.png uploaded.")).to_be_visible()
    page.get_by_label("Alt text").fill("Navy beanie, front")
    image = page.locator("fieldset img").first
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 4", arg=image.element_handle())
    page.get_by_role("button", name="Save product").click()
    expect(page.get_by_role("status").filter(has_text="saved.")).to_be_visible()

    saved = requests.get(f"{stack.api}/products/{product['id']}", timeout=10).json()
    assert [i["alt"] for i in saved["images"]] == ["Navy beanie, front"]
    assert requests.get(saved["images"][0]["url"], timeout=10).content == png()
    kept = next(v for v in saved["variants"] if v["sku"] == SKU)
    assert (kept["price"], kept["compare_at_price"]) == (on_sale["price"], regular)  # the editor kept the sale
