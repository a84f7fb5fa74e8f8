"""Product feeds for other channels, built from the view documents (search/documents.py): Google
Merchant Center (RSS 2.0 with the `g:` namespace) and the Meta (Facebook/Instagram) catalogue CSV.
One item per variant, grouped by product (`item_group_id`). Pure: documents in, text out.

Both channels require an image: a product without one is left out (and counted) rather than sent to
be disapproved. Prices are "25.00 EUR" (major units with the currency's decimals, then ISO 4217).
During a sale `price` is the price before the reduction (`compare_at_price`) and `sale_price` the
current one, with `sale_price_effective_date` when the sale's start and end are known.
"""

import csv
import io
from xml.sax.saxutils import escape

from chalicelib import minor_units

GOOGLE_NAMESPACE = "http://base.google.com/ns/1.0"
META_COLUMNS = ("id", "title", "description", "availability", "condition", "price", "link", "image_link",
                "brand", "item_group_id", "sale_price", "sale_price_effective_date", "gtin", "mpn",
                "additional_image_link")
MAX_DESCRIPTION = 5000  # both channels' limit (characters)
MAX_TITLE = 150


def money(amount: int, currency: str) -> str:
    """Minor units as the feeds write money: 2500 EUR -> "25.00 EUR", 1500 JPY -> "1500 JPY", 1500 KWD ->
    "1.500 KWD" (ISO 4217 exponents: chalicelib/minor_units.py)."""
    return f"{minor_units.to_major(amount, currency, grouping=False)} {currency}"


def items(documents: list[dict], currency: str, shop: str, storefront_url: str) -> list[dict]:
    """One flat item per variant priced in `currency` of every product with an image, in the
    attribute names both channels share."""
    found = []
    for doc in documents:
        if not doc["images"]:
            continue
        for variant in doc["variants"]:
            if currency not in variant["prices"]:
                continue
            price = variant["prices"][currency]
            before = variant["compare_at_prices"].get(currency)
            title = doc["title"] if not variant["title"] else f"{doc['title']} – {variant['title']}"
            item = {
                "id": variant["sku"],
                "item_group_id": doc["id"],
                "title": title[:MAX_TITLE],
                "description": (doc["description"] or doc["title"])[:MAX_DESCRIPTION],
                "link": f"{storefront_url.rstrip('/')}/products/{doc['id']}?sku={variant['sku']}",
                "image_link": doc["images"][0]["url"],
                "additional_image_link": [i["url"] for i in doc["images"][1:11]],
                "in_stock": variant["available"] > 0,
                "condition": "new",
                "brand": doc.get("brand") or shop,
                "price": money(before if before and before > price else price, currency),
                "sale_price": money(price, currency) if before and before > price else None,
                "sale_price_effective_date": (
                    f"{variant['sale_starts_at']}/{variant['sale_ends_at']}"
                    if before and before > price and variant.get("sale_starts_at") and variant.get("sale_ends_at")
                    else None),
                "gtin": variant.get("gtin"),
                "mpn": variant.get("mpn"),
            }
            found.append(item)
    return found


def availability(item: dict) -> str:
    """Meta's words for the stock of an item: "in stock" or "out of stock"."""
    return "in stock" if item["in_stock"] else "out of stock"


def google_xml(feed_items: list[dict], shop: str, storefront_url: str) -> str:
    """The Google Merchant Center feed (RSS 2.0, `g:` attributes)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<rss version="2.0" xmlns:g="{GOOGLE_NAMESPACE}">', "<channel>",
           f"<title>{escape(shop)}</title>", f"<link>{escape(storefront_url)}</link>",
           f"<description>{escape(shop)} products</description>"]
    for item in feed_items:
        out.append("<item>")
        fields = [("g:id", item["id"]), ("g:item_group_id", item["item_group_id"]), ("g:title", item["title"]),
                  ("g:description", item["description"]), ("g:link", item["link"]),
                  ("g:image_link", item["image_link"])]
        fields += [("g:additional_image_link", url) for url in item["additional_image_link"]]
        # Google's availability values are Meta's with underscores: in_stock, out_of_stock.
        fields += [("g:availability", availability(item).replace(" ", "_")),
                   ("g:condition", item["condition"]), ("g:price", item["price"]),
                   ("g:sale_price", item["sale_price"]),
                   ("g:sale_price_effective_date", item["sale_price_effective_date"]),
                   ("g:brand", item["brand"]), ("g:gtin", item["gtin"]), ("g:mpn", item["mpn"])]
        if not item["gtin"] and not item["mpn"]:
            fields.append(("g:identifier_exists", "no"))
        out += [f"<{name}>{escape(str(value))}</{name}>" for name, value in fields if value]
        out.append("</item>")
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def meta_csv(feed_items: list[dict]) -> str:
    """The Meta catalogue feed (CSV with a header row; availability "in stock" / "out of stock")."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=META_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in feed_items:
        writer.writerow({
            **{column: item.get(column) or "" for column in META_COLUMNS},
            "availability": availability(item),
            "additional_image_link": ",".join(item["additional_image_link"]),
        })
    return buffer.getvalue()
