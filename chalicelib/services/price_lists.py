"""Price lists: negotiated prices per currency with volume tiers and quantity rules per SKU, assigned to
companies and customer groups (the CRM's segments: `vip`, `repeat`...); and what an account's cart is priced
with (`pricing_inputs`).

Price resolution for a line of a company buyer's cart (models/pricing.unit_price): the company's price list
in the cart's currency, at the tier for the line's quantity (first tier: `price_list`, later: `tier`), else
the catalogue's price (`public`). A customer outside any company gets their group's list the same way. A
quote's accepted prices (`quote`) come before all of these.
"""

import csv
import io

from chalicelib import clock, config
from chalicelib.errors import InvalidRequest, ResourceExists, not_found
from chalicelib.models import CartRecord, DiscountRecord, SkuRecord
from chalicelib.models.companies import (
    MAX_PRICE_LIST_SKUS,
    B2BTerms,
    PriceList,
    PriceListIn,
    SkuPrice,
    price_list_problem,
    quantity_problem,
    reverse_charged,
)
from chalicelib.repository import companies

CSV_COLUMNS = ("sku", "min_quantity", "price", "sku_min_quantity", "step")


def _check(body: PriceListIn) -> None:
    problem = price_list_problem(body)
    if problem:
        raise InvalidRequest(problem[1], param=problem[0])
    settings = config.settings()
    if body.currency not in settings.currencies:
        raise InvalidRequest(f"Currency {body.currency} is not sold here.", param="currency")
    missing = [c for c in body.companies if companies.get(c) is None]
    if missing:
        raise InvalidRequest(f"No such company: {missing[0]}.", param=f"companies.{body.companies.index(missing[0])}")


def _save(price_list: PriceList, before: PriceList | None) -> PriceList:
    wanted = [*price_list.companies, *price_list.customer_groups]
    had = [*before.companies, *before.customer_groups] if before else []
    if before is None or before.currency == price_list.currency:
        dropped = [h for h in had if h not in wanted]
    else:  # the currency changed: every copy in the old currency goes
        companies.save_price_list(before.model_copy(update={"companies": [], "customer_groups": []}), had)
        dropped = []
    holders = companies.price_list_holders(wanted, price_list.currency)
    taken = [h for h, holder in holders.items() if holder != price_list.id]
    if taken:
        raise _taken(price_list, taken[0])
    refused = companies.save_price_list(price_list, dropped)
    if refused:  # a concurrent PUT assigned it meanwhile
        raise _taken(price_list, refused[0])
    return price_list


def _taken(price_list: PriceList, holder: str) -> ResourceExists:
    if holder in price_list.companies:
        param = f"companies.{price_list.companies.index(holder)}"
    else:
        param = f"customer_groups.{price_list.customer_groups.index(holder)}"
    return ResourceExists(f"{holder} has another price list in {price_list.currency}.", param=param)


def create(body: PriceListIn) -> PriceList:
    """A new price list, copied to each assigned company. Not idempotent by itself (send an Idempotency-Key).
    Raises InvalidRequest, ResourceExists (a company has another list in that currency)."""
    _check(body)
    now = clock.now()
    price_list = PriceList(id=clock.new_id("pl", 8), **body.model_dump(), created_at=now, updated_at=now)
    return _save(price_list, None)


def replace(price_list_id: str, body: PriceListIn) -> PriceList:
    """Replace the list's name, currency, companies and prices (companies left out lose it). Idempotent.
    Raises ResourceMissing, InvalidRequest, ResourceExists."""
    before = get(price_list_id)
    _check(body)
    price_list = PriceList.model_validate(before.model_dump() | body.model_dump() | {
        "version": before.version + 1, "updated_at": clock.now()})
    return _save(price_list, before)


def get(price_list_id: str) -> PriceList:
    found = companies.get_price_list(price_list_id)
    if found is None:
        raise not_found("price list")
    return found


def list_price_lists(limit: int, cursor: str | None) -> tuple[list[PriceList], str | None]:
    return companies.list_price_lists(limit, cursor)


def import_csv(price_list_id: str, text: str) -> PriceList:
    """Replace the list's prices by a CSV (header `sku,min_quantity,price[,sku_min_quantity,step]`; one row per
    tier; prices in minor units). A bad row is a 400 naming `rows.<n>.<column>` (n from 1, the header is row 0);
    nothing changes then."""
    before = get(price_list_id)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    if columns[:3] != list(CSV_COLUMNS[:3]) or any(c not in CSV_COLUMNS for c in columns):
        raise InvalidRequest(f"The header must be {','.join(CSV_COLUMNS)} (the last two optional).", param="rows.0")
    entries: dict[str, dict] = {}
    for number, row in enumerate(reader, start=1):
        values = {}
        for column in columns:
            raw = (row.get(column) or "").strip()
            if column == "sku":
                values[column] = raw
            elif raw:
                if not (raw.isascii() and raw.isdigit() and len(raw) <= 11):
                    raise InvalidRequest(f"Row {number}: {column} must be a whole number.",
                                         param=f"rows.{number}.{column}")
                values[column] = int(raw)
        if not values.get("sku") or "min_quantity" not in values or "price" not in values:
            raise InvalidRequest(f"Row {number} needs sku, min_quantity and price.", param=f"rows.{number}")
        entry = entries.setdefault(values["sku"], {"sku": values["sku"], "tiers": []})
        entry["tiers"].append({"min_quantity": values["min_quantity"], "price": values["price"]})
        for column, field in (("sku_min_quantity", "min_quantity"), ("step", "step")):
            if column in values:
                entry[field] = values[column]
        if len(entries) > MAX_PRICE_LIST_SKUS:
            raise InvalidRequest(f"A price list holds at most {MAX_PRICE_LIST_SKUS} SKUs.", param=f"rows.{number}")
    prices = []
    for entry in entries.values():
        entry["tiers"].sort(key=lambda tier: tier["min_quantity"])
        try:
            prices.append(SkuPrice.model_validate(entry, strict=False))
        except ValueError as error:
            raise InvalidRequest(f"SKU {entry['sku']}: {error.errors()[0]['msg']}",  # type: ignore[attr-defined]
                                 param="rows") from None
    body = PriceListIn(name=before.name, currency=before.currency, companies=before.companies,
                       customer_groups=before.customer_groups, prices=prices)
    return replace(price_list_id, body)


# --- pricing a buyer's cart -----------------------------------------------------------------------------


def pricing_inputs(record: CartRecord, skus: list[str], code: str | None
                   ) -> tuple[dict[str, SkuRecord], DiscountRecord | None, B2BTerms | None]:
    """The SKUs and discount code of a cart and, when the cart is a company buyer's account cart, the
    company's price list in its currency and whether the sale is reverse-charged: one BatchGetItem (SKUs,
    code, the account's membership), and for a company buyer one more (company, its price list)."""
    discount, found, buyer, company, price_list = companies.pricing_batch(code, skus, record.customer_id,
                                                                          record.currency)
    if buyer is None or company is None:
        # A customer outside any company: their group's (CRM segment's) price list, if it has one.
        return found, discount, B2BTerms(price_list=price_list) if price_list else None
    return found, discount, B2BTerms(company_id=company.id, buyer=buyer, price_list=price_list, company=company,
                                     reverse_charge=reverse_charged(company.vat_id, config.settings().shop_country))


def check_quantity(b2b: B2BTerms | None, sku: str, quantity: int, param: str) -> None:
    """Raise InvalidRequest naming `param` when `quantity` breaks the SKU's minimum or step on the price list."""
    if quantity and b2b and b2b.price_list:
        problem = quantity_problem(b2b.price_list.entry(sku), quantity)
        if problem:
            raise InvalidRequest(problem, param=param)
