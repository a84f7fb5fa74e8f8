"""Products and their per-SKU price and stock items, and the shard items of a hot SKU's stock
(models/stock.py: the SKU item is shard 0, `PK=SKU#<sku>, SK=SHARD#<nn>` the others)."""

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.errors import Conflict, InvalidRequest, ResourceExists, ResourceMissing, SkuConflict
from chalicelib.models import ProductRecord, ShardLevel, SkuRecord
from chalicelib.models.stock import BelowReserved, ShardChange, rebalance
from chalicelib.repository import dynamo
from chalicelib.retry import retried

UNSHARDED = "(attribute_not_exists(shards) OR shards <= :one)"
MAX_ACTIONS = 100  # DynamoDB's limit of actions in one transaction


def product_key(product_id: str) -> dict:
    return {"PK": f"PRODUCT#{product_id}", "SK": "PRODUCT"}


def sku_key(sku: str) -> dict:
    return {"PK": f"SKU#{sku}", "SK": "SKU"}


def shard_key(sku: str, shard: int) -> dict:
    return sku_key(sku) if shard == 0 else {"PK": f"SKU#{sku}", "SK": f"SHARD#{shard:02d}"}


def get_product(product_id: str) -> ProductRecord | None:
    item = dynamo.get(product_key(product_id))
    return ProductRecord.model_validate(item) if item else None


def get_skus(skus: list[str]) -> dict[str, SkuRecord]:
    """The SKU items that exist among `skus`, by SKU (one BatchGetItem per 100), a sharded SKU's
    stock summed over its shards (one more BatchGetItem, only when one is sharded)."""
    if not skus:
        return {}
    items = dynamo.batch_get([sku_key(s) for s in skus])
    return with_shards({item["sku"]: SkuRecord.model_validate(item) for item in items})


def with_shards(found: dict[str, SkuRecord]) -> dict[str, SkuRecord]:
    """`found` with each sharded SKU's shard levels read and its stock summed over them."""
    sharded = [record for record in found.values() if record.shards > 1]
    if not sharded:
        return found
    levels: dict[str, list[ShardLevel]] = {
        r.sku: [ShardLevel(shard=0, on_hand=r.on_hand, reserved=r.reserved, available=r.available)] for r in sharded}
    for item in dynamo.batch_get([shard_key(r.sku, i) for r in sharded for i in range(1, r.shards)]):
        levels[item["sku"]].append(ShardLevel.model_validate(item))
    summed = dict(found)
    for record in sharded:
        shards = sorted(levels[record.sku], key=lambda level: level.shard)
        summed[record.sku] = record.model_copy(update={
            "shard_levels": shards, **{field: sum(getattr(level, field) for level in shards)
                                       for field in ("on_hand", "reserved", "available")}})
    return summed


def list_active(limit: int, cursor: str | None) -> tuple[list[ProductRecord], str | None]:
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", "PRODUCTS", limit, cursor)
    return [ProductRecord.model_validate(item) for item in items], next_cursor


def product_items_page(cursor: str | None, include_inactive: bool = False,
                       limit: int = 100) -> tuple[list[dict], str | None]:
    """A page of stored product items (plain dicts, as stored), for maintenance commands. Active
    products: a Query of GSI1 `PRODUCTS`. With `include_inactive`, every product item: a **Scan** of
    the whole table filtered to product items (inactive products have no key to query), for one-off
    maintenance (tools/backfill_listings.py) only, never a request path or a schedule."""
    if not include_inactive:
        return dynamo.query_page("GSI1", "GSI1PK", "PRODUCTS", limit, cursor)
    kwargs = {"TableName": dynamo.table(), "Limit": limit, "FilterExpression": "SK = :sk AND begins_with(PK, :pk)",
              "ExpressionAttributeValues": dynamo.values(sk="PRODUCT", pk="PRODUCT#")}
    start = dynamo.decode_cursor(cursor, key_names={"PK", "SK"})
    if start:
        kwargs["ExclusiveStartKey"] = start
    answer = dynamo.call("scan", **kwargs)
    return [dynamo.from_item(item) for item in answer["Items"]], dynamo.encode_cursor(answer.get("LastEvaluatedKey"))


class PricesMoved(Exception):
    """A SKU's prices changed (a sale started or ended) since the variants were priced: price them again."""


class _Raced(Exception):
    """A sharded SKU changed between its read and the write: read it again."""


def _gave_up() -> Conflict:
    return Conflict("The SKU's stock kept changing meanwhile; please try again.")


def save_product(product: ProductRecord, variants: list[dict], retired_skus: list[str], create: bool,
                 listing: tuple[dynamo.Piece, ...] = (), history: tuple[dynamo.Piece, ...] = ()) -> None:
    """Write a product and its SKU items in one transaction. `variants` carry sku, title, price,
    currency, prices (every currency, the default's included) and on_hand; stock already reserved by
    orders is kept, and a sharded SKU's on_hand is spread over its shards; `listing` are pieces
    written with them (listings.product_pieces), and `history` (prices.history_piece) too while the
    transaction has room, else right after it (each entry is keyed by its change: rewriting one is
    harmless). Raises Conflict when a SKU belongs to another product or on_hand would
    fall below what is reserved, ResourceMissing when updating a product that does not exist."""
    sharded: dict[str, SkuRecord] = {}

    def attempt() -> None:
        try:
            _save_product(product, variants, retired_skus, create, sharded, listing, history)
        except _Raced:
            # A SKU is sharded, or one of its shards moved meanwhile: read their levels again.
            sharded.clear()
            sharded.update({s: r for s, r in get_skus([v["sku"] for v in variants] + retired_skus).items()
                            if r.shards > 1 and r.product_id == product.id})
            raise

    retried(attempt, _Raced, _gave_up, backoff=0.02)


def _save_product(product: ProductRecord, variants: list[dict], retired_skus: list[str], create: bool,
                  sharded: dict[str, SkuRecord], listing: tuple[dynamo.Piece, ...] = (),
                  history: tuple[dynamo.Piece, ...] = ()) -> None:
    item = product.model_dump(mode="json")
    if product.active:
        item |= {"GSI1PK": "PRODUCTS", "GSI1SK": f"{iso(product.created_at)}#{product.id}"}
    pieces = [dynamo.put("product", product_key(product.id) | item,
                         "attribute_not_exists(PK)" if create else "attribute_exists(PK)")]
    for index, variant in enumerate(variants):
        fields = {"sku": variant["sku"], "product_id": product.id, "product_title": product.title,
                  "title": variant["title"], "price": variant["price"], "currency": variant["currency"],
                  "prices": variant["prices"], "active": product.active,
                  "gift_card": bool(variant.get("gift_card"))}
        if variant.get("compare_at_prices"):
            fields["compare_at_prices"] = variant["compare_at_prices"]
        if variant["sku"] in sharded:
            record = sharded[variant["sku"]]
            try:
                changes = rebalance(record.shard_levels, record.shards, variant["on_hand"])
            except BelowReserved as below:
                raise SkuConflict(f"{below.reserved} units of {record.sku} are reserved by orders; on_hand cannot be "
                                  "lower.", param=f"variants.{index}.on_hand") from None
            pieces += _shard_pieces(f"variant:{index}", record, changes, head=fields)
            continue
        # A SKU on sale keeps its sale (services/catalog.py priced it): the admin's prices are its regular ones.
        on_sale = {"cap": variant["compare_at_prices"]} if variant.get("compare_at_prices") else {}
        # Priced from the SKU as read (its sales): written only if no sale started or ended since.
        read = {"pv": variant["price_version"]} if variant.get("price_version") is not None else {}
        pieces.append(dynamo.update(
            f"variant:{index}", sku_key(variant["sku"]),
            "SET sku = :sku, product_id = :pid, product_title = :ptitle, title = :title, price = :price, "
            "currency = :currency, prices = :prices, active = :active, gift_card = :gift_card, on_hand = :on_hand, "
            "reserved = if_not_exists(reserved, :zero), available = :on_hand - if_not_exists(reserved, :zero), "
            "price_version = if_not_exists(price_version, :zero) + :one"
            + (", compare_at_prices = :cap" if on_sale else ""),
            "attribute_not_exists(PK) OR "
            f"(product_id = :pid AND (attribute_not_exists(reserved) OR reserved <= :on_hand) AND {UNSHARDED}"
            + (" AND (attribute_not_exists(price_version) OR price_version = :pv))" if read else ")"),
            sku=variant["sku"], pid=product.id, ptitle=product.title, title=variant["title"],
            price=variant["price"], currency=variant["currency"], prices=variant["prices"], active=product.active,
            gift_card=bool(variant.get("gift_card")), on_hand=variant["on_hand"], zero=0, one=1, **on_sale, **read))
    for sku in retired_skus:
        if sku in sharded:
            pieces += [dynamo.update(f"retired:{sku}" + (f"@{i}" if i else ""), shard_key(sku, i),
                                     "SET active = :false", "product_id = :pid" if i == 0 else "attribute_exists(PK)",
                                     false=False, **({"pid": product.id} if i == 0 else {}))
                       for i in range(sharded[sku].shards)]
        else:
            pieces.append(dynamo.update(f"retired:{sku}", sku_key(sku), "SET active = :false",
                                        f"product_id = :pid AND {UNSHARDED}", false=False, pid=product.id, one=1))
    pieces += listing
    room = dynamo.transaction_room() - len(pieces)  # the audit record of an admin write takes one
    pieces, later = pieces + list(history[:max(room, 0)]), history[max(room, 0):]
    if len(pieces) > dynamo.transaction_room():
        raise InvalidRequest(f"The product's SKUs and their stock shards are {len(pieces)} items, more than "
                             f"{MAX_ACTIONS} can be written together; fewer variants or shards.", param="variants")
    try:
        dynamo.transact(pieces)
        for piece in later:
            dynamo.call("put_item", **piece.action["Put"])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("product"):
            if create:
                raise ResourceExists("A product with this id exists already.") from cancelled
            raise ResourceMissing("No such product.") from cancelled
        if cancelled.conflict:
            raise _Raced() from cancelled
        variant = cancelled.first_failed("variant:")
        if (variant or cancelled.first_failed("retired:")) and not create:
            failed = [name.split("@")[0] for name, reason in cancelled.reasons.items()
                      if reason == "ConditionalCheckFailed" and name.startswith(("variant:", "retired:"))]
            skus = {variants[int(name[8:])]["sku"] if name.startswith("variant:") else name[8:] for name in failed}
            now_sharded = {s for s, r in get_skus(list(skus)).items() if r.shards > 1 and r.product_id == product.id}
            if now_sharded:
                raise _Raced() from cancelled  # a SKU is sharded (now), or one of its shards moved meanwhile
            moved = [v["sku"] for v in variants if v.get("price_version") is not None and v["sku"] in skus]
            now = get_skus(moved)
            if any(s in now and now[s].product_id == product.id and now[s].price_version != v["price_version"]
                   for v in variants for s in [v["sku"]] if s in moved):
                raise PricesMoved() from cancelled
        if variant:
            index = int(variant.split(":")[1].split("@")[0])
            raise SkuConflict(
                f"SKU {variants[index]['sku']} belongs to another product, or on_hand is below the "
                "quantity already reserved by orders.", param=f"variants.{index}.sku",
            ) from cancelled
        raise


def _shard_pieces(name: str, record: SkuRecord, changes: list[ShardChange], count: int | None = None,
                  head: dict | None = None, threshold: int | None = None) -> list[dynamo.Piece]:
    """The pieces writing `changes` to a sharded SKU's items, each conditioned on what was read: the
    SKU item also gets `head`'s fields, `count` as its shard count and the low-stock `threshold`;
    the shards copy the prices and active flag that checkout's reservation checks (as read: the SKU
    item is conditioned on its price_version, so a sale that started or ended meanwhile is read again)."""
    copies = {"price": (head or {}).get("price", record.price), "prices": (head or {}).get("prices", record.prices),
              "active": (head or {}).get("active", record.active)}
    pieces = []
    for change in changes:
        key, piece_name = shard_key(record.sku, change.shard), name + (f"@{change.shard}" if change.shard else "")
        before, after = change.before, change.after
        if not change.keep:
            pieces.append(dynamo.delete(piece_name, key, "on_hand = :o AND reserved = :r AND available = :a",
                                        o=before.on_hand, r=before.reserved, a=before.available))
        elif not change.existed:
            pieces.append(dynamo.put(piece_name, key | {"sku": record.sku, **copies, **after.model_dump()},
                                     "attribute_not_exists(PK)"))
        else:
            sets = {"price": copies["price"], "prices": copies["prices"], "active": copies["active"]}
            condition = "on_hand = :was AND available >= :need"
            if change.shard == 0:
                sets = dict(head or {}) | {"shards": count or record.shards}
                if threshold is not None:
                    sets["low_stock_threshold"] = threshold
                condition += (" AND shards = :count_was" if record.shards > 1 else
                              " AND (attribute_not_exists(shards) OR shards = :count_was)") + " AND product_id = :pid"
                condition += (" AND price_version = :pv_was" if record.price_version else
                              " AND (attribute_not_exists(price_version) OR price_version = :pv_was)")
            expression = "SET on_hand = on_hand + :by_on_hand, reserved = reserved + :by_reserved, " \
                         "available = available + :by_available, " + ", ".join(f"{k} = :{k}" for k in sets)
            pieces.append(dynamo.update(
                piece_name, key, expression, condition, was=before.on_hand, need=max(0, -change.by("available")),
                **{f"by_{f}": change.by(f) for f in ("on_hand", "reserved", "available")}, **sets,
                **({"count_was": record.shards, "pid": record.product_id, "pv_was": record.price_version}
                   if change.shard == 0 else {})))
    return pieces


def set_stock(sku: str, on_hand: int, low_stock_threshold: int | None, shards: int | None = None) -> SkuRecord:
    """Set the counted stock of a SKU, and with `shards` the number of items it is split over;
    what orders have reserved stays reserved, and no unit is made or lost by a change of the shard
    count. Idempotent. Raises ResourceMissing for an unknown SKU, Conflict if on_hand is below the
    reserved quantity."""
    if shards is None or shards == 1:
        single = _set_single(sku, on_hand, low_stock_threshold)
        if single is not None:
            return single
    return retried(lambda: _set_sharded(sku, on_hand, low_stock_threshold, shards), _Raced, _gave_up, backoff=0.02)


def _below_reserved(sku: str, reserved: int) -> Conflict:
    return Conflict(f"{reserved} units of {sku} are reserved by orders; on_hand cannot be lower.", param="on_hand")


def _set_single(sku: str, on_hand: int, low_stock_threshold: int | None) -> SkuRecord | None:
    """The stock of an unsharded SKU set in one conditional update; None when the SKU is sharded."""
    expression = "SET on_hand = :on_hand, available = :on_hand - reserved"
    if low_stock_threshold is not None:
        expression += ", low_stock_threshold = :threshold"
    try:
        answer = dynamo.call(
            "update_item", TableName=dynamo.table(), Key=dynamo.to_item(sku_key(sku)),
            UpdateExpression=expression,
            ConditionExpression=f"attribute_exists(PK) AND reserved <= :on_hand AND {UNSHARDED}",
            ExpressionAttributeValues=dynamo.values(
                on_hand=on_hand, one=1,
                **({"threshold": low_stock_threshold} if low_stock_threshold is not None else {})),
            ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise
        if not error.response.get("Item"):
            raise ResourceMissing("No such SKU.") from error
        old = SkuRecord.model_validate(dynamo.from_item(error.response["Item"]))
        if old.shards > 1:
            return None
        raise _below_reserved(sku, old.reserved) from error
    return SkuRecord.model_validate(dynamo.from_item(answer["Attributes"]))


def _set_sharded(sku: str, on_hand: int, low_stock_threshold: int | None, shards: int | None) -> SkuRecord:
    record = get_skus([sku]).get(sku)
    if record is None:
        raise ResourceMissing("No such SKU.")
    levels = record.shard_levels or [ShardLevel(shard=0, on_hand=record.on_hand, reserved=record.reserved,
                                                available=record.available)]
    count = shards or record.shards
    try:
        changes = rebalance(levels, count, on_hand)
    except BelowReserved as below:
        raise _below_reserved(sku, below.reserved) from None
    try:
        dynamo.transact(_shard_pieces("stock", record, changes, count, threshold=low_stock_threshold))
    except dynamo.Cancelled as cancelled:
        raise _Raced() from cancelled  # a checkout, a shipment or another change moved a shard meanwhile
    return get_skus([sku])[sku]
