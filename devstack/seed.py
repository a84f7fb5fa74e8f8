"""The demo catalogue, created through the catalogue service like any admin would create it: a small
category tree (a product is in its category and that category's parent, so both pages list it) and
five products.

Prices are in EUR cents. The art print has 3 units (low-stock threshold 5), so an order of 4 shows
the out-of-stock answer and a few orders show the low-stock path.
"""

LOW_STOCK_SKU = "PRINT-A3"

CATEGORIES = [  # (slug, title, parent): parents first
    ("clothing", "Clothing", None), ("tops", "Tops", "clothing"), ("hats", "Hats", "clothing"),
    ("home", "Home", None), ("kitchen", "Kitchen", "home"), ("art", "Art prints", "home"), ("bags", "Bags", None),
]

# Each product is in its category and that category's parent, so both pages list it.
PRODUCT_CATEGORIES = {
    "Organic cotton T-shirt": ["clothing", "tops"], "Merino beanie": ["clothing", "hats"],
    "Canvas tote bag": ["bags"], "Enamel mug": ["home", "kitchen"], "Limited-edition art print": ["home", "art"],
}

CATALOGUE = [
    {"title": "Organic cotton T-shirt", "description": "Heavyweight organic cotton, boxy fit.", "variants": [
        {"sku": "TEE-S", "title": "S", "price": 2500, "on_hand": 20},
        {"sku": "TEE-M", "title": "M", "price": 2500, "on_hand": 25},
        {"sku": "TEE-L", "title": "L", "price": 2500, "on_hand": 15},
    ]},
    {"title": "Merino beanie", "description": "Fine-knit merino wool.", "variants": [
        {"sku": "BEANIE-GREY", "title": "Grey", "price": 3200, "on_hand": 12},
        {"sku": "BEANIE-NAVY", "title": "Navy", "price": 3200, "on_hand": 8},
    ]},
    {"title": "Canvas tote bag", "description": "Heavy canvas with long handles.", "variants": [
        {"sku": "TOTE-NATURAL", "title": "Natural", "price": 1800, "on_hand": 40},
    ]},
    {"title": "Enamel mug", "description": "350 ml, dishwasher-safe.", "variants": [
        {"sku": "MUG-WHITE", "title": "White", "price": 1400, "on_hand": 30},
        {"sku": "MUG-BLACK", "title": "Black", "price": 1400, "on_hand": 30},
    ]},
    {"title": "Limited-edition art print", "description": "Signed and numbered, A3.", "variants": [
        {"sku": LOW_STOCK_SKU, "title": "A3", "price": 4500, "on_hand": 3},
    ]},
]


def seed() -> list:
    """Create the demo categories and products (not idempotent: run it once on a fresh table). Returns
    the products."""
    from chalicelib.services import catalog, categories

    for slug, title, parent in CATEGORIES:
        categories.create_category(slug, title, parent)
    products = [
        catalog.create_product(title=item["title"], description=item["description"], active=True,
                               variants=[variant | {"currency": "EUR"} for variant in item["variants"]],
                               categories=PRODUCT_CATEGORIES[item["title"]])
        for item in CATALOGUE
    ]
    catalog.set_inventory(LOW_STOCK_SKU, 3, 5)
    return products
