"""The catalogue's derived views (search index, channel feeds): the catalogue read whole for a
rebuild, the marker that says the views are stale, and the S3 objects they are stored as.

| pattern                          | key or index                                       |
| -------------------------------- | -------------------------------------------------- |
| every active product + its SKUs  | GSI1: PRODUCTS (Query, pages of 500) + BatchGetItem |
| views stale / built              | PK=VIEWS#catalogue, SK=VIEWS: version, built_version |
| a view's bytes                   | S3 object <VIEWS_BUCKET>/<key>                     |

The relay bumps `version` (ADD) for every batch with a catalogue change; a rebuild reads the version
first and, when done, sets `built_version` to it only if that is higher, so an edit made during a
rebuild leaves the views stale for the next one.
"""

from collections.abc import Iterator
from functools import lru_cache

from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib import clock, config
from chalicelib.models import SkuRecord
from chalicelib.repository import dynamo
from chalicelib.repository.catalog import sku_key, with_shards

KEYS = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"}
# What a change of a SKU item must touch to change a view (reserving stock changes `available`, which
# matters only when it crosses zero: in stock / out of stock).
SKU_FIELDS = ("price", "currency", "prices", "title", "active", "compare_at_price", "compare_at_prices",
              "sale_starts_at", "sale_ends_at", "gtin", "mpn", "gift_card")


def views_key() -> dict:
    return {"PK": "VIEWS#catalogue", "SK": "VIEWS"}


def each_product(page_size: int = 500) -> Iterator[tuple[dict, dict[str, dict]]]:
    """Every active product item with its SKU items (by SKU), as stored (plain dicts, keys removed):
    the derived views carry fields the domain models may not know yet."""
    start = None
    while True:
        kwargs = {"TableName": dynamo.table(), "IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk",
                  "ExpressionAttributeValues": dynamo.values(pk="PRODUCTS"), "Limit": page_size}
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = dynamo.call("query", **kwargs)
        products = [_plain(dynamo.from_item(item)) for item in answer["Items"]]
        skus = [sku for product in products for sku in product.get("skus", [])]
        found = {item["sku"]: _plain(item) for item in dynamo.batch_get([sku_key(s) for s in skus], consistent=False)}
        # A hot SKU's stock is split over shard items (models/stock.py): its availability is their sum.
        sharded = {sku: SkuRecord.model_validate(item) for sku, item in found.items() if item.get("shards", 1) > 1}
        for sku, record in with_shards(sharded).items():
            found[sku] |= {"on_hand": record.on_hand, "reserved": record.reserved, "available": record.available}
        for product in products:
            yield product, {sku: found[sku] for sku in product.get("skus", []) if sku in found}
        start = answer.get("LastEvaluatedKey")
        if not start:
            return


def _plain(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in KEYS}


def changes_views(record: dict) -> bool:
    """Whether a DynamoDB stream record (Lambda's shape) changes what the views show: any change of a
    product item; a SKU item's price, title, activity, sale or identifiers, or its stock (or a shard's
    of a hot SKU) crossing zero."""
    found = record.get("dynamodb", {})
    old, new = dynamo.from_item(found.get("OldImage")) or {}, dynamo.from_item(found.get("NewImage")) or {}
    kind = (new or old).get("SK", "")
    if kind == "PRODUCT":
        return True
    if kind.startswith("SHARD#"):  # one shard of a hot SKU: the sum may have crossed zero with it
        return not old or not new or (old.get("available", 0) > 0) != (new.get("available", 0) > 0)
    if kind != "SKU":
        return False
    if not old or not new:
        return True
    return (any(old.get(f) != new.get(f) for f in SKU_FIELDS)
            or (old.get("available", 0) > 0) != (new.get("available", 0) > 0))


def mark_stale() -> None:
    """Say the views need a rebuild (an ADD: safe to repeat, it only rebuilds once more)."""
    dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(views_key()),
                UpdateExpression="ADD version :one SET changed_at = :now",
                ExpressionAttributeValues=dynamo.values(one=1, now=clock.iso(clock.now())))


def staleness() -> tuple[int, int | None, int]:
    """(version, built_version, index_format): stale when built_version is None (never built) or
    below version, or when the index was built in another format (0: before formats were recorded)."""
    item = dynamo.get(views_key()) or {}
    built = item.get("built_version")
    return int(item.get("version", 0)), int(built) if built is not None else None, int(item.get("index_format", 0))


def mark_built(version: int, summary: dict, index_format: int = 0) -> None:
    """Record that the views show the catalogue as of `version`, in `index_format`; an older rebuild
    finishing late changes nothing (a rebuild of the same version in a newer format is recorded)."""
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(views_key()),
                    UpdateExpression="SET built_version = :v, built_at = :now, built = :summary, index_format = :f",
                    ConditionExpression="attribute_not_exists(built_version) OR built_version < :v OR "
                                        "(built_version = :v AND (attribute_not_exists(index_format) OR "
                                        "index_format < :f))",
                    ExpressionAttributeValues=dynamo.values(v=version, now=clock.iso(clock.now()), summary=summary,
                                                            f=index_format))
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise


# --- S3 ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def s3():
    import boto3

    return boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 4},
                                            connect_timeout=2, read_timeout=10))


def _bucket() -> str:
    return config.settings().views_bucket


def put_object(key: str, body: bytes, content_type: str) -> None:
    s3().put_object(Bucket=_bucket(), Key=key, Body=body, ContentType=content_type)


def get_object(key: str) -> tuple[bytes, str] | None:
    """The object's bytes and ETag, or None when it does not exist."""
    try:
        answer = s3().get_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if dynamo.error_code(error) in ("NoSuchKey", "404"):
            return None
        raise
    return answer["Body"].read(), answer["ETag"]


def head_object(key: str) -> tuple[str, int] | None:
    """The object's ETag and size, or None when it does not exist."""
    try:
        answer = s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if dynamo.error_code(error) in ("NoSuchKey", "404"):
            return None
        raise
    return answer["ETag"], answer["ContentLength"]


def object_url(key: str, seconds: int) -> str:
    """A presigned GET URL of the object, valid for `seconds`."""
    return s3().generate_presigned_url("get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=seconds)
