"""Builders for the search and feed tests: view documents without AWS, and the stream → relay →
schedule path that rebuilds the views in the moto world."""

from tests.growth_support import relay, scheduled


def doc(number: int, title: str, description: str = "", categories=(), price: int = 2500, available: int = 5,
        currency: str = "EUR", tags=(), images=("https://cdn.example.com/p.jpg",), **variant) -> dict:
    product_id = f"prod_{number:04d}"
    sku = f"SKU-{number}"
    return {
        "id": product_id, "title": title, "description": description,
        "created_at": f"2026-01-{number % 28 + 1:02d}T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "categories": list(categories), "tags": list(tags), "brand": None,
        "images": [{"url": url, "alt": title} for url in images],
        "variants": [{"sku": sku, "title": "", "prices": {currency: price}, "compare_at_prices": {},
                      "sale_starts_at": None, "sale_ends_at": None, "available": available, "gtin": None,
                      "mpn": None} | variant],
        "product": {"id": product_id, "title": title},
    }


def rebuild(api, stream) -> dict:
    """Relay what the stream holds, then run the one-minute schedule."""
    relay(api, stream)
    return scheduled(api, "refresh_catalogue_views")
