"""Scheduled sales: the shop creates one; the `apply_sales` schedule lowers the prices of its SKUs at
its start and gives them back at its end, by itself.

Boundaries: a sale is on from `starts_at` (included) to `ends_at` (excluded), as soon as a run of the
schedule sees it: a run at or after `starts_at` starts it, one at or after `ends_at` ends it (ends
first, so a sale that follows another at the same minute takes over). A late run catches up (a sale
whose end has passed too is ended without lowering anything). Running twice changes nothing: each
SKU carries the sales on it, so lowering or restoring one again is a no-op. Overlapping sales: the
best price wins per currency, they never stack (models/sales.py). Every change is recorded in the
price history, from which the lowest price of the 30 days before a reduction is kept (Omnibus).
"""

from datetime import timedelta

from chalicelib import clock, config
from chalicelib.errors import InvalidRequest, UpstreamUnavailable
from chalicelib.models import CollectionRule, SkuRecord
from chalicelib.models.sales import Sale, SaleOnSku, SaleRecord, SaleTerms, sale_prices, winning
from chalicelib.repository import catalog, listings, prices, recommendations, sales
from chalicelib.retry import retried

OMNIBUS_WINDOW = timedelta(days=30)


def create(terms: SaleTerms) -> Sale:
    """A new scheduled sale. Not idempotent by itself (the Idempotency-Key layer makes a retry safe).
    Raises InvalidRequest naming an unknown SKU, category, collection, an unsold currency or an end in the past."""
    if terms.ends_at <= clock.now():
        raise InvalidRequest("The sale would be over already: ends_at is in the past.", param="ends_at")
    if terms.currency and terms.currency not in config.settings().currencies:
        raise InvalidRequest(f"Currency {terms.currency} is not sold here.", param="currency")
    if terms.skus:
        found = catalog.get_skus(terms.skus)
        for index, sku in enumerate(terms.skus):
            if sku not in found:
                raise InvalidRequest(f"No SKU {sku}.", param=f"skus.{index}")
    if terms.category and not listings.get_categories([terms.category]):
        raise InvalidRequest(f"No category {terms.category}.", param="category")
    if terms.collection and listings.get_collection(terms.collection) is None:
        raise InvalidRequest(f"No collection {terms.collection}.", param="collection")
    record = SaleRecord(id=clock.new_id("sale", 8), created_at=clock.now(),
                        **terms.model_dump(exclude={"skus"}), skus=list(dict.fromkeys(terms.skus or [])) or None)
    sales.create(record)
    return Sale.model_validate(record.model_dump())


def list_sales(limit: int, cursor: str | None) -> tuple[list[Sale], str | None]:
    records, next_cursor = sales.list_recent(limit, cursor)
    return [Sale.model_validate(r.model_dump()) for r in records], next_cursor


def run() -> dict:
    """The schedule: end the sales due to end, then start those due to start. Idempotent."""
    now = clock.now()
    ended = [_end(sale, now) for sale in sales.due("ends", now)]
    started = []
    for sale in sales.due("starts", now):
        if sale.ends_at <= now:
            ended.append(_end(sale, now))  # the schedule missed the whole sale: nothing to lower
        else:
            started.append(_start(sale, now))
    return {"started": started, "ended": ended}


def _skus_of_products(product_ids: list[str], rule: CollectionRule | None = None) -> list[str]:
    found = recommendations.get_products(product_ids)
    records = [found[i] for i in product_ids if i in found and (rule is None or rule.matches(found[i]))]
    return [sku for record in records for sku in record.skus]


def _listed(scope: str, rule: CollectionRule | None = None) -> list[str]:
    skus, cursor = [], None
    while True:
        ids, cursor = listings.list_product_ids(scope, "newest", 100, cursor)
        skus += _skus_of_products(ids, rule)
        if not cursor:
            return skus


def targets(sale: SaleRecord) -> list[str]:
    """The SKUs the sale lowers, as the catalogue stands when it starts."""
    if sale.skus:
        return sale.skus
    if sale.category:
        return list(dict.fromkeys(_listed(f"category:{sale.category}")))
    collection = listings.get_collection(sale.collection)
    if collection is None:
        return []
    if collection.product_ids is not None:
        return list(dict.fromkeys(_skus_of_products(collection.product_ids)))
    rule = collection.rule or CollectionRule()
    return list(dict.fromkeys(_listed(f"category:{rule.category}" if rule.category else "all", rule)))


def _start(sale: SaleRecord, now) -> str:
    skus = sale.applied_skus or sales.fix_targets(sale, targets(sale))
    for sku in skus:
        _each_sku(sku, lambda record: _lowered(record, sale, now), now, "sale_start", sale.id)
    sales.mark_started(sale, now)
    return sale.id


def _end(sale: SaleRecord, now) -> str:
    for sku in sale.applied_skus:
        _each_sku(sku, lambda record: _restored(record, sale), now, "sale_end", sale.id)
    sales.mark_ended(sale, now)
    return sale.id


def _each_sku(sku: str, change, now, reason: str, ref: str) -> None:
    def attempt() -> None:
        record = catalog.get_skus([sku]).get(sku)
        fields = change(record) if record is not None else None
        if fields is not None:
            prices.reprice(record, fields, now, reason, ref)

    retried(attempt, prices.Moved, lambda: UpstreamUnavailable(f"SKU {sku} kept changing; the next run retries."),
            backoff=0.05)


def _terms(record: SkuRecord) -> dict[str, SaleOnSku]:
    return {sale_id: SaleOnSku.model_validate(terms) for sale_id, terms in record.sales.items()}


def _fields(record: SkuRecord, regular: dict[str, int], on: dict[str, SaleOnSku], lowest: dict[str, int]) -> dict:
    if not on:
        return {"prices": regular, "price": regular[record.currency], "compare_at_prices": None, "sales": None,
                "lowest_prices_30d": None, "sale_starts_at": None, "sale_ends_at": None}
    shown = sale_prices(regular, on)
    best = winning(regular, on, record.currency) or next(iter(on.values()))
    return {"prices": shown, "price": shown[record.currency], "compare_at_prices": regular,
            "sales": {k: v.model_dump() for k, v in on.items()}, "lowest_prices_30d": lowest,
            "sale_starts_at": best.starts_at, "sale_ends_at": best.ends_at}


def _lowered(record: SkuRecord, sale: SaleRecord, now) -> dict | None:
    if sale.id in record.sales:
        return None  # lowered by an earlier run
    regular = record.compare_at_prices or record.prices
    on = _terms(record) | {sale.id: SaleOnSku.of(sale)}
    lowest = record.lowest_prices_30d if record.sales else lowest_30d(record.sku, regular, now)
    return _fields(record, regular, on, lowest)


def _restored(record: SkuRecord, sale: SaleRecord) -> dict | None:
    if sale.id not in record.sales:
        return None  # given back by an earlier run
    on = {k: v for k, v in _terms(record).items() if k != sale.id}
    return _fields(record, record.compare_at_prices or record.prices, on, record.lowest_prices_30d)


def lowest_30d(sku: str, regular: dict[str, int], now) -> dict[str, int]:
    """Per currency, the lowest price of the SKU in the 30 days before `now` (Omnibus): the price in
    force when the window opened and every change since, from the price history."""
    entries = prices.history(sku, until=now, since=now - OMNIBUS_WINDOW)
    lowest = dict(regular)
    for entry in entries:
        for currency, price in (entry.get("prices") or {}).items():
            if currency in lowest:
                lowest[currency] = min(lowest[currency], int(price))
    return lowest
