"""Orders: placing one (the checkout transaction), reading, and moving one through its states.

Every write to an order bumps its `version`; writes that read-modify-write are conditioned on the
version read, so a racing webhook, storefront or schedule re-reads instead of overwriting.
"""

import time
from collections.abc import Iterator
from datetime import timedelta

from botocore.exceptions import ClientError

from chalicelib import clock, observability
from chalicelib.clock import iso
from chalicelib.errors import (
    CartChanged,
    Conflict,
    CreditLimitExceeded,
    DiscountUsedUp,
    DuplicateEvent,
    GiftCardInsufficient,
    InvalidRequest,
    OrderChanged,
    QuoteExpired,
    StockShort,
    StoreCreditInsufficient,
)
from chalicelib.models import DiscountRecord
from chalicelib.models.balances import CreditEntry
from chalicelib.models.invoices import InvoiceRecord
from chalicelib.models.orders import OrderRecord, PaymentRef, StockMove, Tender, quantities
from chalicelib.models.quotes import QuoteRecord
from chalicelib.repository import discounts, dynamo, gift_cards, invoices, quotes, store_credit
from chalicelib.repository.carts import IDLE_ATTRIBUTES, cart_key
from chalicelib.repository.catalog import shard_key, sku_key

EVENT_RETENTION = timedelta(days=30)


def order_key(order_id: str) -> dict:
    return {"PK": f"ORDER#{order_id}", "SK": "ORDER"}


def event_key(provider: str, event_id: str) -> dict:
    return {"PK": f"EVENT#{provider}#{event_id}", "SK": "EVENT"}


def _item(order: OrderRecord) -> dict:
    stamp = f"{iso(order.created_at)}#{order.id}"
    customer = {"GSI3PK": f"CUSTOMER#{order.customer_id}", "GSI3SK": stamp} if order.customer_id else {}
    company = {"GSI4PK": f"COMPANY#{order.company_id}", "GSI4SK": stamp} if order.company_id else {}
    return (order_key(order.id) | order.model_dump(mode="json")
            | {"correlation_id": observability.correlation_id() or order.correlation_id}
            | {"GSI1PK": f"ORDERS#{order.status}", "GSI1SK": stamp, "GSI2PK": "ORDERS", "GSI2SK": stamp}
            | customer | company)


STOCK_MOVES = {
    # kind: (update, condition) on the SKU item
    "reserve": ("SET available = available - :q, reserved = reserved + :q", "available >= :q"),
    "release": ("SET available = available + :q, reserved = reserved - :q", "reserved >= :q"),
    "ship": ("SET on_hand = on_hand - :q, reserved = reserved - :q", "reserved >= :q AND on_hand >= :q"),
}


def _stock_move(sku: str, quantity: int, kind: str, shard: int | None = None,
                price: int | None = None, currency: str | None = None) -> dynamo.Piece:
    """The piece "stock:<sku>" ("stock:<sku>@<shard>" on a shard) moving `quantity` of a SKU:
    reserve (only if enough is available and the SKU is still sold: a late payment's too), release, or
    ship. On a shard only what is available is conditioned (models/stock.py: a shard's `reserved` is exact
    only in sum); the shard must exist."""
    expression, condition = STOCK_MOVES[kind]
    if shard is not None and kind != "reserve":
        condition = "attribute_exists(PK)"
    values, names = {"q": quantity}, None
    if kind == "reserve" and price is None:
        condition += " AND active = :true"
        values["true"] = True
    if price is not None:
        # the price in the order's currency; an item written before prices per currency has only `price`
        condition += " AND (prices.#currency = :price OR (attribute_not_exists(prices) AND price = :price))" \
                     " AND active = :true"
        values |= {"price": price, "true": True}
        names = {"#currency": currency}
    key = sku_key(sku) if shard is None else shard_key(sku, shard)
    return dynamo.update(f"stock:{sku}" if shard is None else f"stock:{sku}@{shard}", key, expression,
                         condition, names=names, **values)


def _reservations(order: OrderRecord) -> list[dynamo.Piece]:
    # Conditioned on the catalogue price only where the line has it (a company's price list sets its own; a
    # quoted price is the quote's, whose piece is in the transaction). A line charged as the cart showed it
    # (checkout's grace after a sale) reserves at the catalogue's price.
    prices = {line.sku: line.unit_price if line.catalogue_price is None else line.catalogue_price
              for line in order.lines if not line.free and line.price_source == "public"}
    pieces = []
    for sku, quantity in quantities(order).items():
        plan = order.stock_shards.get(sku) or [(None, quantity)]
        pieces += [_stock_move(sku, part, "reserve", shard, price=prices.get(sku), currency=order.currency)
                   for shard, part in plan]
    return pieces


def _short(cancelled: dynamo.Cancelled) -> StockShort | None:
    name = cancelled.first_failed("stock:")
    return StockShort(name.removeprefix("stock:").split("@")[0]) if name else None


MAX_ACTIONS = 100  # DynamoDB's limit on one transaction


def _spends(order: OrderRecord) -> list[dynamo.Piece]:
    """The order's gift card and store credit spends, each conditioned on its balance covering it."""
    at = iso(order.created_at)
    pieces = []
    for tender in order.tenders:
        if tender.method == "gift_card":
            pieces += gift_cards.spend_pieces(tender.gift_card_id, tender.amount, order.id, at)
        else:
            entry = CreditEntry(source_id=f"spend:{order.id}", currency=order.currency, amount=-tender.amount,
                                reason="checkout", at=order.created_at, order_id=order.id)
            pieces += store_credit.change_pieces(tender.customer_id, entry)
    return pieces


def _give_backs(order: OrderRecord, parts: list[tuple[Tender, int]], source: str, kind: str) -> list[dynamo.Piece]:
    """Put `amount` of each (tender, amount) back on its balance, once per `source` (with the order id)."""
    at = clock.now()
    pieces = []
    for tender, amount in parts:
        if amount <= 0:
            continue
        if tender.method == "gift_card":
            pieces += gift_cards.give_back_pieces(tender.gift_card_id, amount, order.id, iso(at),
                                                  f"{source}:{order.id}", kind)
        else:
            entry = CreditEntry(source_id=f"{source}:{order.id}", currency=order.currency, amount=amount,
                                reason=kind, at=at, order_id=order.id)
            pieces += store_credit.change_pieces(tender.customer_id, entry)
    return pieces


def get(order_id: str) -> OrderRecord | None:
    item = dynamo.get(order_key(order_id))
    return OrderRecord.model_validate(item) if item else None


def place(order: OrderRecord, cart_version: int | None, redeem: DiscountRecord | None = None,
          extra: list[dynamo.Piece] = (), invoice: tuple[InvoiceRecord, int] | None = None,
          quote: QuoteRecord | None = None) -> None:
    """The checkout transaction: write the order, reserve every SKU's stock (at the price the
    order was computed with; a sharded SKU on the shards in `order.stock_shards`), count a use of
    the `redeem` discount code, issue the `invoice` (with the company's credit limit: its number and
    the open credit, repository/invoices.py), accept the `quote` it is placed from and retire the cart at
    the version read; all or nothing. Raises StockShort naming a short SKU, DiscountUsedUp,
    CreditLimitExceeded, QuoteExpired (the quote lapsed or changed), CartChanged if the cart moved on or
    was checked out (or the invoice number was taken meanwhile: read again). An order that settles a
    return (an exchange: repository/returns.py) has no cart (`cart_version` None) and brings the return's
    pieces (`extra`); their failures are raised as `dynamo.Cancelled`."""
    pieces = [dynamo.put("order", _item(order), "attribute_not_exists(PK)"), *_reservations(order)]
    if redeem:
        pieces += discounts.redeem(redeem, order.email, iso(order.created_at))
    pieces += _spends(order)
    if invoice:
        pieces += invoices.issue(*invoice)
    if quote:
        pieces.append(quotes.accept(quote, order.id, iso(order.created_at)))
    pieces += extra
    if cart_version is not None:
        pieces.append(_retire_cart(order, cart_version))
    if len(pieces) > MAX_ACTIONS:
        raise InvalidRequest("Too many lines to check out with these gift cards; remove a gift card or a line.",
                             param="gift_cards")
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("cart") or cancelled.failed("invoice_number") or cancelled.conflict:
            # TransactionConflict: another transaction held one of the items (a SKU or the
            # discount code, under a sale-day rush); the caller reads again and retries.
            raise CartChanged("The cart changed while checking out.") from cancelled
        short = _short(cancelled)
        if short:
            raise short from cancelled
        if cancelled.failed("quote"):
            raise QuoteExpired("The quote lapsed or changed meanwhile; read it again.") from cancelled
        if cancelled.failed("credit_limit"):
            raise CreditLimitExceeded("The order would take the company over its credit limit.",
                                      param="payment_method") from cancelled
        if cancelled.failed("discount") or cancelled.failed("discount_use"):
            raise DiscountUsedUp(f"Discount code {order.discount_code} can no longer be used.",
                                 param="discount_code") from cancelled
        if gift_cards.failed_card(cancelled):
            raise GiftCardInsufficient("A gift card's balance no longer covers what the cart applied.",
                                       param="gift_cards") from cancelled
        if cancelled.failed("credit"):
            raise StoreCreditInsufficient("The store credit no longer covers what the cart applied.",
                                          param="use_store_credit") from cancelled
        raise


def _retire_cart(order: OrderRecord, cart_version: int) -> dynamo.Piece:
    return dynamo.update(
        "cart", cart_key(order.cart_id),
        # Out of the abandoned-cart idle index (carts.IDLE_ATTRIBUTES): a checked-out cart is not idle.
        "SET #status = :done, order_id = :order, version = version + :one, updated_at = :now "
        "REMOVE " + ", ".join(IDLE_ATTRIBUTES),
        "#status = :open AND version = :version", {"#status": "status"},
        done="checked_out", order=order.id, one=1, open="open", version=cart_version, now=iso(order.created_at))


def attach_payment(order_id: str, payment: PaymentRef) -> None:
    """Remember the provider's payment for the order (idempotent). Checkout writes new orders with their
    payment; this completes an order stored without one (placed before that, or by older code)."""
    dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(order_key(order_id)),
                UpdateExpression="SET payment = :payment, version = version + :one",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=dynamo.values(payment=payment.model_dump(), one=1))


def still_issuing(order_id: str) -> dynamo.Piece:
    """The piece "order" of a gift card's issuance (gift_cards.issue): the order is still paid, neither
    cancelled nor refunded in full. A cancel that commits first leaves nothing to issue; one that commits
    after finds the card and voids it (gift_cards.void_pieces, or fails on gift_cards.absent_piece)."""
    return dynamo.check("order", order_key(order_id), "#status = :paid AND payment_status <> :refunded",
                        {"#status": "status"}, paid="paid", refunded="refunded")


def save(before: OrderRecord, after: OrderRecord, stock: list[StockMove] = (),
         event: tuple[str, str] | None = None, give_back_discount: bool = False,
         give_back: tuple[list[tuple[Tender, int]], str, str] | None = None,
         extra: list[dynamo.Piece] = ()) -> OrderRecord:
    """Write `after` if the order is still at `before`'s version, with its stock moves (sku,
    quantity, "reserve" | "release" | "ship", shard or None), the give-back of its discount code's
    use when `give_back_discount`, and, when `event` (provider, event id) is given, the record that
    the event was applied, in one transaction. Stock going back to a shard that a change of the
    shard count removed goes to shard 0 instead. Raises OrderChanged (re-read and retry),
    DuplicateEvent, StockShort (a move's condition failed).

    `give_back` ([(tender, amount)], source, kind) puts money back on gift cards and store credit, once
    per source and order; without it, an unpaid order moving to `cancelled` gives every tender back
    (source "give_back"), once: the order records it in `balances_returned`.

    `extra` pieces go in the same transaction (a cancel's gift-card voids: gift_cards.void_pieces and
    absent_piece); when one of their conditions fails the order is treated as changed (OrderChanged: the
    caller reads everything again and decides anew). Raises Conflict when the whole would not fit in one
    transaction."""
    if (give_back is None and after.status == "cancelled" and before.status != "cancelled" and before.tenders
            and not before.balances_returned and not before.amount_paid):
        give_back = ([(t, t.amount) for t in before.tenders], "give_back", "give_back")
        after = after.model_copy(update={"balances_returned": True})
    saved = after.model_copy(update={"version": before.version + 1})
    pieces = [dynamo.put("order", _item(saved), "version = :version", version=before.version)]
    pieces += [_stock_move(sku, quantity, kind, shard) for sku, quantity, kind, shard in stock]
    if give_back_discount:
        pieces += discounts.give_back(before.discount_code, before.email, before.discount_per_customer)
    if give_back:
        pieces += _give_backs(before, *give_back)
    if event:
        expires = int(time.time() + EVENT_RETENTION.total_seconds())
        pieces.append(dynamo.put("event", event_key(*event) | {"order_id": before.id, "expires_at": expires},
                                 "attribute_not_exists(PK)"))
    pieces += extra
    if len(pieces) > dynamo.transaction_room():
        raise Conflict(f"This change of the order would write {len(pieces)} items at once, more than one transaction "
                       "holds (an order of many gift cards: disable them and refund instead of cancelling).")
    try:
        dynamo.transact(pieces)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("event"):
            raise DuplicateEvent("This event was applied already.") from cancelled
        if cancelled.failed("order") or cancelled.conflict or any(cancelled.failed(p.name) for p in extra):
            raise OrderChanged("The order changed meanwhile.") from cancelled
        gone = {(sku, shard) for sku, _, kind, shard in stock
                if shard and kind != "reserve" and cancelled.failed(f"stock:{sku}@{shard}")}
        if gone:
            return save(before, after, _to_first_shard(stock, gone), event, give_back_discount, give_back, extra)
        short = _short(cancelled)
        if short:
            raise short from cancelled
        raise
    return saved


def _to_first_shard(stock: list[StockMove], gone: set[tuple[str, int]]) -> list[StockMove]:
    moved: dict[tuple[str, str, int | None], int] = {}
    for sku, quantity, kind, shard in stock:
        target = (sku, kind, 0 if (sku, shard) in gone else shard)
        moved[target] = moved.get(target, 0) + quantity
    return [(sku, quantity, kind, shard) for (sku, kind, shard), quantity in moved.items()]


def event_seen(provider: str, event_id: str) -> bool:
    return dynamo.get(event_key(provider, event_id)) is not None


def each_pending_created_before(cutoff: str, page: int = 100) -> Iterator[OrderRecord]:
    """Unpaid orders created before `cutoff` (ISO), oldest first, page by page from the sparse status
    partition of GSI1: its size is the number of unpaid orders, not the number of orders."""
    items = dynamo.query_all("GSI1", "GSI1PK", "ORDERS#pending_payment", page, sk_condition=" AND #sk < :cutoff",
                             cutoff=cutoff)
    return map(OrderRecord.model_validate, items)


def _move_fulfilment(order_id: str, to: str, allowed: tuple[str, ...]) -> bool:
    """Set a paid order's `fulfilment_status` to `to` if it is one of `allowed` (statuses other than `to`);
    False when it was not. Each status is its own placeholder (`:requested`)."""
    among = ", ".join(f":{status}" for status in allowed)
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(order_key(order_id)),
                    UpdateExpression=f"SET fulfilment_status = :{to}, version = version + :one",
                    ConditionExpression=f"#status = :paid AND fulfilment_status IN ({among})",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(one=1, paid="paid", **{s: s for s in (to, *allowed)}))
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


def mark_fulfilment_requested(order_id: str) -> bool:
    """Move a paid, unfulfilled order's fulfilment to `requested`. Idempotent: returns False when it
    was not unfulfilled-and-paid (already requested, shipped, or not paid)."""
    return _move_fulfilment(order_id, "requested", ("unfulfilled",))


def mark_delivered_without_shipping(order_id: str) -> bool:
    """Mark a paid order with nothing to ship (gift cards only, their cards issued) fulfilled: its
    `fulfilment_status` becomes `shipped` with no shipment (so no ShipmentCreated, no "on its way"
    email). Idempotent: returns False when it was not paid and waiting (already done, or not paid)."""
    return _move_fulfilment(order_id, "shipped", ("unfulfilled", "requested"))


def list_recent(status: str | None, limit: int, cursor: str | None) -> tuple[list[OrderRecord], str | None]:
    """Orders newest first, all of them (GSI2) or one status (GSI1's status partitions)."""
    if status:
        items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", f"ORDERS#{status}", limit, cursor, newest_first=True)
    else:
        items, next_cursor = dynamo.query_page("GSI2", "GSI2PK", "ORDERS", limit, cursor, newest_first=True)
    return [OrderRecord.model_validate(item) for item in items], next_cursor


def list_by_customer(customer_id: str, limit: int, cursor: str | None) -> tuple[list[OrderRecord], str | None]:
    """A customer's orders, newest first (GSI3: CUSTOMER#<customer id>, <created_at>#<id>; a cursor of
    another customer's listing is a 400)."""
    items, next_cursor = dynamo.query_page("GSI3", "GSI3PK", f"CUSTOMER#{customer_id}", limit, cursor,
                                           newest_first=True)
    return [OrderRecord.model_validate(item) for item in items], next_cursor


def list_by_company(company_id: str, limit: int, cursor: str | None) -> tuple[list[OrderRecord], str | None]:
    """A company's orders, newest first (GSI4: COMPANY#<company id>, <created_at>#<id>; a cursor of another
    company's listing is a 400)."""
    items, next_cursor = dynamo.query_page("GSI4", "GSI4PK", f"COMPANY#{company_id}", limit, cursor,
                                           newest_first=True)
    return [OrderRecord.model_validate(item) for item in items], next_cursor


def payments_of(order_ids: list[str]) -> dict[str, set[str]]:
    """Which of `order_ids` are orders in the table, each with the ids of the payments it refers to (its
    PaymentIntent and the payment recorded as paid): BatchGetItem of those attributes alone, consistent."""
    if not order_ids:
        return {}
    items = dynamo.batch_get([order_key(i) for i in order_ids], projection="PK, payment, paid_by")
    return {item["PK"].removeprefix("ORDER#"): {p for p in ((item.get("payment") or {}).get("payment_id"),
                                                          item.get("paid_by")) if p}
            for item in items}


def orphan_sweep_key() -> dict:
    return {"PK": "SWEEP#orphan_payments", "SK": "SWEEP"}


def orphan_sweep_position() -> dict | None:
    """Where the sweep of payments without an order stands (services/orphan_payments.py): `{start, end,
    after, open, version}` (the pass's epoch seconds, the last payment id dealt with, whether the pass is
    unfinished), or None before its first run."""
    item = dynamo.get(orphan_sweep_key())
    return {name: item.get(name) for name in ("start", "end", "after", "open", "version")} if item else None


def save_orphan_sweep_position(start: int, end: int, after: str | None, open_: bool, version: int) -> bool:
    """Record the sweep's position as `version` + 1, on the `version` read (0: none yet); False when another
    run moved it meanwhile (what this run did is then looked at again by the next run, which is harmless)."""
    condition = "attribute_not_exists(PK)" if version == 0 else "version = :version"
    try:
        dynamo.call("put_item", TableName=dynamo.table(),
                    Item=dynamo.to_item(orphan_sweep_key() | {"start": start, "end": end, "after": after,
                                                              "open": open_, "version": version + 1}),
                    ConditionExpression=condition,
                    **({"ExpressionAttributeValues": dynamo.values(version=version)} if version else {}))
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise
        return False
    return True
