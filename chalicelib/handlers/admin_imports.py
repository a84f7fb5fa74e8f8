"""CSV export and import of products and stock (chalicelib/services/product_imports.py)."""

from typing import Annotated

from chalice import Blueprint
from pydantic import Field

from chalicelib.errors import Conflict, ResourceMissing, SkuConflict
from chalicelib.handlers.common import documented, parse, require_admin
from chalicelib.models import Request
from chalicelib.models.base import Model
from chalicelib.services import product_imports

bp = Blueprint(__name__)
COLUMNS = ", ".join(f"`{c}`" for c in product_imports.COLUMNS)


class ProductImportIn(Request):
    csv: Annotated[str, Field(min_length=1, max_length=2_000_000,
                              description=f"The CSV text (UTF-8), with a header row of the columns {COLUMNS}.")]


class ProductImport(Model):
    import_id: str = Field(description="The SHA-256 of the file: the same file imports to the same result.")
    rows: int
    products_created: int
    products_updated: int


class ProductExport(Model):
    csv: str = Field(description=f"The CSV text: a header row of {COLUMNS}, then one row per variant.")
    rows: int


@bp.route("/admin/products/export", methods=["GET"])
@documented(ProductExport, summary="Export products and stock as CSV", tag="admin")
def export_products():
    """`GET /admin/products/export` → `{csv, rows}`: every active product, one CSV row per variant with
    its price (minor units), stock and low-stock threshold, in the columns `POST
    /admin/products/import` takes back (JSON, as every answer of this API; the text is the file)."""
    require_admin(bp.current_request)
    text = product_imports.export_csv()
    return {"csv": text, "rows": text.count("\n") - 1}


@bp.route("/admin/products/import", methods=["POST"])
@documented(ProductImport, request=ProductImportIn, summary="Import products and stock from CSV", tag="admin",
            errors=[ResourceMissing, SkuConflict, Conflict])
def import_products():
    """Validate every row of the CSV first — each error is reported with its `row` (the header is row
    1) and `column` in the 400's `error.rows`, and then nothing is written — then create or update
    each product (rows with the same `product_id`, or for a new product no id and the same
    `product_title`), its variants, prices (minor units), `on_hand` and `low_stock_threshold`.
    Importing the same file again changes nothing: a new product's id is derived from the file's
    hash. `price` in minor units; `active` true/false (default true)."""
    require_admin(bp.current_request)
    body = parse(ProductImportIn, bp.current_request)
    return product_imports.import_csv(body.csv)
