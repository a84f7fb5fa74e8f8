"""Stock adjustments with a reason, kept in the stock ledger (repository/ledger.py): who changed a
SKU's counted stock, why, and its stock before and after, in the same transaction as the change."""

from chalicelib import clock
from chalicelib.errors import Conflict, InvalidRequest, ResourceMissing
from chalicelib.models import SkuRecord
from chalicelib.repository import catalog, ledger

ATTEMPTS = 3


def _snapshot(on_hand: int, reserved: int, threshold: int | None) -> dict:
    return {"on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved, "low_stock_threshold": threshold}


def _target(before: SkuRecord, on_hand: int | None, delta: int | None) -> int:
    param = "on_hand" if on_hand is not None else "delta"
    target = on_hand if on_hand is not None else before.on_hand + (delta or 0)
    if target < 0:
        raise InvalidRequest(f"on_hand would be {target}; it cannot fall below 0.", param=param)
    if target < before.reserved:
        raise Conflict(f"{before.reserved} units of {before.sku} are reserved by orders; on_hand cannot be lower.",
                       param=param)
    return target


def adjust(sku: str, reason: str, actor: str, on_hand: int | None = None, delta: int | None = None,
           low_stock_threshold: int | None = None) -> dict:
    """Count (`on_hand`) or move (`delta`) a SKU's stock, optionally setting its threshold; returns the
    ledger entry. Raises ResourceMissing, InvalidRequest (below 0), Conflict (a gift card, below what is
    reserved, or the stock kept moving under concurrent changes)."""
    for _ in range(ATTEMPTS):
        before = catalog.get_skus([sku]).get(sku)
        if before is None:
            raise ResourceMissing("No such SKU.")
        if before.gift_card:
            raise Conflict(f"SKU {sku} is a gift card: it is never stocked, so it has no stock to adjust.",
                           param="sku")
        if before.shards > 1:
            raise Conflict("The SKU's stock is sharded: count it with PUT /admin/inventory/{sku}, which spreads "
                           "it over the shards.", param="sku")
        target = _target(before, on_hand, delta)
        threshold = low_stock_threshold if low_stock_threshold is not None else before.low_stock_threshold
        entry = {"id": clock.new_id("adj", 8), "at": clock.now(), "reason": reason, "actor": actor,
                 "before": _snapshot(before.on_hand, before.reserved, before.low_stock_threshold),
                 "after": _snapshot(target, before.reserved, threshold)}
        try:
            ledger.adjust(before, target, low_stock_threshold, entry)
        except ledger.Moved:
            continue
        return entry | {"sku": sku, "at": clock.iso(entry["at"])}
    raise Conflict("The stock of this SKU kept changing while adjusting it; try again.")


def entries(sku: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """A page of the SKU's ledger, newest first. Raises ResourceMissing for a SKU the catalogue does not
    have (read only when its ledger is empty: a SKU with entries exists)."""
    found, next_cursor = ledger.entries(sku, limit, cursor)
    if not found and cursor is None and sku not in catalog.get_skus([sku]):
        raise ResourceMissing("No such SKU.")
    return found, next_cursor
