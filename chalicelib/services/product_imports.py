"""CSV export and import of products and their stock (the back office's Products page, and any
integration that keeps a catalogue in a spreadsheet).

One row per variant, the columns of COLUMNS; rows with the same `product_id` (or, for new products,
with no `product_id` and the same `product_title`) are one product, listing all its variants.
`price` is in the currency's minor units (cents). An import:

1. validates every row and cell first, and every row against the catalogue (a `product_id` that
   does not exist, a SKU that belongs to another product, `on_hand` below what orders reserved):
   with any error nothing is written, and the answer lists each one as {row, column, message}
   (row 1 is the header, so the first product row is row 2);
2. then writes each product (its variants, prices and stock) and each SKU's low-stock threshold.
   A new product's id is derived from the file's SHA-256 and its title, so uploading the same file
   again changes nothing (its products exist: they are updated to the same values) — and finishes
   an import that a failure stopped half-way (a concurrent order reserving stock, say), which the
   validation cannot rule out because products are written one transaction each.
"""

import csv
import hashlib
import io
import re

from chalicelib import config
from chalicelib.errors import InvalidRequest, ResourceExists
from chalicelib.models import SkuRecord
from chalicelib.repository import catalog as catalog_repository
from chalicelib.services import catalog

COLUMNS = ("product_id", "product_title", "description", "active", "sku", "variant_title", "price", "currency",
           "on_hand", "low_stock_threshold")
MAX_ROWS = 1000
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PRODUCT_ID = re.compile(r"^prod_[0-9a-f]{16}$")
MAX_STOCK = 10_000_000


def export_csv() -> str:
    """Every active product, one row per variant, in the import's columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    cursor = None
    while True:
        records, cursor = catalog_repository.list_active(100, cursor)
        skus = catalog_repository.get_skus([sku for record in records for sku in record.skus])
        for record in records:
            for sku in record.skus:
                level = skus.get(sku)
                if level is None:
                    continue
                writer.writerow([record.id, record.title, record.description, "true" if record.active else "false",
                                 # the regular price, also during a sale: an import sets regular prices
                                 sku, level.title, level.compare_at_prices.get(level.currency, level.price),
                                 level.currency, level.on_hand,
                                 "" if level.low_stock_threshold is None else level.low_stock_threshold])
        if not cursor:
            return out.getvalue()


def _integer(value: str, low: int, high: int) -> int | None:
    return int(value) if re.fullmatch(r"\d+", value) and low <= int(value) <= high else None


def _parse(text: str) -> tuple[list[dict], list[dict]]:
    """The rows as values, and the errors of their cells ({row, column, message})."""
    errors: list[dict] = []
    reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader, [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        return [], [{"row": 1, "column": name, "message": "missing column"} for name in missing]
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        raw = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}

        def bad(column: str, message: str, number=number) -> None:
            errors.append({"row": number, "column": column, "message": message})

        row = {"row": number, "product_id": raw["product_id"] or None, "product_title": raw["product_title"],
               "description": raw["description"], "sku": raw["sku"], "variant_title": raw["variant_title"]}
        if row["product_id"] and not PRODUCT_ID.match(row["product_id"]):
            bad("product_id", "must be empty (a new product) or an existing product's id")
        if not 1 <= len(row["product_title"]) <= 200:
            bad("product_title", "required, at most 200 characters")
        if len(row["description"]) > 5000:
            bad("description", "at most 5000 characters")
        if len(row["variant_title"]) > 200:
            bad("variant_title", "at most 200 characters")
        if raw["active"].lower() not in ("true", "false", ""):
            bad("active", "must be true or false")
        row["active"] = raw["active"].lower() != "false"
        if not SKU.match(row["sku"]):
            bad("sku", "required: letters, digits, '.', '_' or '-', at most 64")
        row["price"] = _integer(raw["price"], 0, 10_000_000_000)
        if row["price"] is None:
            bad("price", "must be a whole number of minor units (cents), 0 or more")
        row["currency"] = raw["currency"].upper()
        if row["currency"] not in config.settings().currencies:
            bad("currency", f"must be one of {', '.join(config.settings().currencies)}")
        row["on_hand"] = _integer(raw["on_hand"], 0, MAX_STOCK)
        if row["on_hand"] is None:
            bad("on_hand", f"must be a whole number from 0 to {MAX_STOCK}")
        threshold = raw["low_stock_threshold"]
        row["low_stock_threshold"] = _integer(threshold, 0, MAX_STOCK) if threshold else None
        if threshold and row["low_stock_threshold"] is None:
            bad("low_stock_threshold", f"must be empty or a whole number from 0 to {MAX_STOCK}")
        rows.append(row)
    if len(rows) > MAX_ROWS:
        errors.append({"row": MAX_ROWS + 2, "column": "sku", "message": f"at most {MAX_ROWS} rows per file"})
    if not rows and not errors:
        errors.append({"row": 2, "column": "sku", "message": "the file has no product rows"})
    return rows, errors


def _products(rows: list[dict], digest: str, errors: list[dict]) -> dict[str, dict]:
    """Rows grouped into products (by id, or by title for new ones), checked for consistency."""
    products: dict[str, dict] = {}
    seen_skus: dict[str, int] = {}
    for row in rows:
        if row["sku"] in seen_skus:
            errors.append({"row": row["row"], "column": "sku", "message": f"also on row {seen_skus[row['sku']]}"})
        seen_skus.setdefault(row["sku"], row["row"])
        key = row["product_id"] or "new:" + row["product_title"]
        product = products.setdefault(key, {
            "product_id": row["product_id"] or "prod_" + hashlib.sha256(f"{digest}:{key}".encode()).hexdigest()[:16],
            "new": row["product_id"] is None, "title": row["product_title"], "description": row["description"],
            "active": row["active"], "rows": []})
        if row["product_title"] != product["title"]:
            errors.append({"row": row["row"], "column": "product_title",
                           "message": f"differs from row {product['rows'][0]['row']} of the same product"})
        product["rows"].append(row)
        if len(product["rows"]) > 50:
            errors.append({"row": row["row"], "column": "sku", "message": "a product has at most 50 variants"})
    return products


def _check_against_catalogue(products: dict[str, dict], errors: list[dict]) -> dict[str, SkuRecord]:
    """Check the rows against the catalogue; returns the SKUs that exist already."""
    rows = [row for product in products.values() for row in product["rows"]]
    existing = catalog_repository.get_skus([row["sku"] for row in rows])
    for product in products.values():
        if not product["new"] and catalog_repository.get_product(product["product_id"]) is None:
            errors.append({"row": product["rows"][0]["row"], "column": "product_id", "message": "no such product"})
        for row in product["rows"]:
            level = existing.get(row["sku"])
            if level is None:
                continue
            if level.product_id != product["product_id"]:
                errors.append({"row": row["row"], "column": "sku",
                               "message": f"belongs to another product ({level.product_id})"})
            elif row["on_hand"] is not None and row["on_hand"] < level.reserved:
                errors.append({"row": row["row"], "column": "on_hand",
                               "message": f"{level.reserved} are reserved by orders: on_hand cannot be lower"})
    return existing


def _create(product_id: str, fields: dict, variants: list[dict]) -> bool:
    """Create the product; False when it exists already (this file was imported before)."""
    try:
        catalog.create_product(**fields, variants=variants, product_id=product_id, reason="import")
    except ResourceExists:
        return False
    return True


def import_csv(text: str) -> dict:
    """Validate all, then apply (see the module's docstring). Raises InvalidRequest (param `csv`)
    with `rows`: the errors, row and column each."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    try:
        rows, errors = _parse(text)
    except csv.Error as error:  # a NUL byte, a newline inside an unquoted field...
        raise InvalidRequest(f"Not a CSV file: {error}.", param="csv") from error
    products = _products(rows, digest, errors)
    existing = {} if errors else _check_against_catalogue(products, errors)
    if errors:
        errors.sort(key=lambda e: (e["row"], COLUMNS.index(e["column"])))
        raise InvalidRequest(f"{len(errors)} error(s) in the file; nothing was imported.", param="csv",
                             rows=errors[:200])
    created = updated = 0
    for product in products.values():
        # The file has no gift-card column: a gift-card variant stays one.
        variants = [{"sku": r["sku"], "title": r["variant_title"], "price": r["price"], "currency": r["currency"],
                     "on_hand": r["on_hand"], "gift_card": r["sku"] in existing and existing[r["sku"]].gift_card}
                    for r in product["rows"]]
        fields = {"title": product["title"], "description": product["description"], "active": product["active"]}
        if product["new"] and _create(product["product_id"], fields, variants):
            created += 1
        else:
            catalog.update_product(product["product_id"], **fields, variants=variants, reason="import")
            updated += 1
        for row in product["rows"]:
            if row["low_stock_threshold"] is not None:
                catalog.set_inventory(row["sku"], row["on_hand"], row["low_stock_threshold"])
    return {"import_id": digest, "rows": len(rows), "products_created": created, "products_updated": updated}
