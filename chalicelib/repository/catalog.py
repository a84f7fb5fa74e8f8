"""Products and their per-SKU price and stock items."""

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.errors import Conflict, ResourceExists, ResourceMissing, SkuConflict
from chalicelib.models import ProductRecord, SkuRecord
from chalicelib.repository import dynamo


def product_key(product_id: str) -> dict:
    return {"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT"}


def sku_key(sku: str) -> dict:
    return {"PK": f"SKU#{sku}", "SK": "SKU"}


def get_product(product_id: str) -> ProductRecord | None:
    item = dynamo.get(product_key(product_id))
    return ProductRecord.model_validate(item) if item else None


def get_skus(skus: list[str]) -> dict[str, SkuRecord]:
    """The SKU items that exist among `skus`, by SKU (one BatchGetItem per 100)."""
    if not skus:
        return {}
    items = dynamo.batch_get([sku_key(s) for s in skus])
    return {item["sku"]: SkuRecord.model_validate(item) for item in items}


def list_active(limit: int, cursor: str | None) -> tuple[list[ProductRecord], str | None]:
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", "PRODUCTS", limit, cursor)
    return [ProductRecord.model_validate(item) for item in items], next_cursor


def save_product(product: ProductRecord, variants: list[dict], retired_skus: list[str], create: bool,
                 listing: tuple[dynamo.Piece, ...] = ()) -> None:
    """Write a product and its SKU items in one transaction. `variants` carry sku, title, price,
    currency, prices (every currency, the default's included) and on_hand; stock already reserved by
    orders is kept; `listing` are pieces written with them (listings.product_pieces). Raises Conflict when a SKU
    belongs to another product or on_hand would fall below what is reserved, ResourceMissing when
    updating a product that does not exist."""
    item = product.model_dump(mode="json")
    if product.active:
        item |= {"GSI1PK": "PRODUCTS", "GSI1SK": f"{iso(product.created_at)}#{product.id}"}
    pieces = [dynamo.put("product", product_key(product.id) | item,
                         "attribute_not_exists(PK)" if create else "attribute_exists(PK)")]
    for index, variant in enumerate(variants):
        pieces.append(dynamo.update(
            f"variant:{index}", sku_key(variant["sku"]),
            "SET sku = :sku, product_id = :pid, product_title = :ptitle, title = :title, price = :price, "
            "currency = :currency, prices = :prices, active = :active, on_hand = :on_hand, "
            "reserved = if_not_exists(reserved, :zero), available = :on_hand - if_not_exists(reserved, :zero)",
            "attribute_not_exists(PK) OR "
            "(product_id = :pid AND (attribute_not_exists(reserved) OR reserved <= :on_hand))",
            sku=variant["sku"], pid=product.id, ptitle=product.title, title=variant["title"],
            price=variant["price"], currency=variant["currency"], prices=variant["prices"], active=product.active,
            on_hand=variant["on_hand"], zero=0))
    pieces += [dynamo.update(f"retired:{sku}", sku_key(sku), "SET active = :false", "product_id = :pid",
                             false=False, pid=product.id) for sku in retired_skus]
    pieces += listing
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("product"):
            if create:
                raise ResourceExists("A product with this id exists already.") from cancelled
            raise ResourceMissing("No such product.") from cancelled
        variant = cancelled.first_failed("variant:")
        if variant:
            index = int(variant.split(":")[1])
            raise SkuConflict(
                f"SKU {variants[index]['sku']} belongs to another product, or on_hand is below the "
                "quantity already reserved by orders.", param=f"variants.{index}.sku",
            ) from cancelled
        raise


def set_stock(sku: str, on_hand: int, low_stock_threshold: int | None) -> SkuRecord:
    """Set the counted stock of a SKU; what orders have reserved stays reserved. Raises
    ResourceMissing for an unknown SKU, Conflict if on_hand is below the reserved quantity."""
    expression = "SET on_hand = :on_hand, available = :on_hand - reserved"
    if low_stock_threshold is not None:
        expression += ", low_stock_threshold = :threshold"
    try:
        answer = dynamo.call(
            "update_item", TableName=dynamo.table(), Key=dynamo.to_item(sku_key(sku)),
            UpdateExpression=expression, ConditionExpression="attribute_exists(PK) AND reserved <= :on_hand",
            ExpressionAttributeValues=dynamo.values(
                on_hand=on_hand, **({"threshold": low_stock_threshold} if low_stock_threshold is not None else {})),
            ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise
        if not error.response.get("Item"):
            raise ResourceMissing("No such SKU.") from error
        reserved = dynamo.from_item(error.response["Item"])["reserved"]
        raise Conflict(f"{reserved} units of {sku} are reserved by orders; on_hand cannot be lower.",
                       param="on_hand") from error
    return SkuRecord.model_validate(dynamo.from_item(answer["Attributes"]))
