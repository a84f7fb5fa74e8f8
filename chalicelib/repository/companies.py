"""B2B companies, their buyers and price lists.

| pattern                              | key or index                                                      |
| ------------------------------------ | ----------------------------------------------------------------- |
| a company                            | PK=COMPANY#<co id>, SK=COMPANY                                    |
| companies, newest first              | GSI1: GSI1PK=COMPANIES, GSI1SK=<created_at>#<id>                  |
| a customer's membership (token →     | PK=CUSTOMER#<cus id>, SK=COMPANY (one GetItem)                    |
|   company)                           |                                                                   |
| a company's buyers                   | Query PK=COMPANY#<co id>, SK begins_with BUYER#                   |
| add a buyer                          | transaction: membership + BUYER#<cus id> (conditional)            |
| forget a buyer (erasure)             | transaction: delete membership + BUYER#<cus id>                   |
| a price list                         | PK=PRICE_LIST#<pl id>, SK=PRICE_LIST                              |
| price lists, newest first            | GSI1: GSI1PK=PRICE_LISTS, GSI1SK=<created_at>#<id>                |
| a company's price list in a currency | PK=COMPANY#<co id>, SK=PRICES#<currency>: a copy of the list,      |
|                                      | read in the cart's one BatchGetItem with its SKUs (`pricing_batch`)|
| a customer group's price list        | PK=CUSTOMER_GROUP#<segment>, SK=PRICES#<currency>: a copy, like a   |
|                                      | company's (groups are the CRM's segments, from the STATS item)     |
| a company's orders, newest first     | GSI4: GSI4PK=COMPANY#<co id>, GSI4SK=<created_at>#<id> (orders.py) |

The company's copy of a price list is written after the list itself, conditioned on no other list holding
that company and currency and on its version not being newer: a retried or interrupted PUT converges.
"""

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.errors import ResourceExists
from chalicelib.models import DiscountRecord, SkuRecord
from chalicelib.models.companies import Buyer, Company, PriceList
from chalicelib.repository import catalog, dynamo
from chalicelib.repository.catalog import sku_key
from chalicelib.repository.crm import stats_key
from chalicelib.repository.discounts import discount_key


def company_key(company_id: str) -> dict:
    return {"PK": f"COMPANY#{company_id}", "SK": "COMPANY"}


def membership_key(customer_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": "COMPANY"}


def buyer_key(company_id: str, customer_id: str) -> dict:
    return {"PK": f"COMPANY#{company_id}", "SK": f"BUYER#{customer_id}"}


def price_list_key(price_list_id: str) -> dict:
    return {"PK": f"PRICE_LIST#{price_list_id}", "SK": "PRICE_LIST"}


def company_prices_key(company_id: str, currency: str) -> dict:
    return {"PK": f"COMPANY#{company_id}", "SK": f"PRICES#{currency}"}


def group_prices_key(group: str, currency: str) -> dict:
    return {"PK": f"CUSTOMER_GROUP#{group}", "SK": f"PRICES#{currency}"}


def _holder_key(holder: str, currency: str) -> dict:
    """The copy of a list for a company (`co_...`) or a customer group (a segment name)."""
    return company_prices_key(holder, currency) if holder.startswith("co_") else group_prices_key(holder, currency)


def _put(item: dict, condition: str | None = None, **condition_values) -> bool:
    """Put an item; False when its condition failed."""
    kwargs = {"ConditionExpression": condition} if condition else {}
    if condition_values:
        kwargs["ExpressionAttributeValues"] = dynamo.values(**condition_values)
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(item), **kwargs)
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


# --- companies ------------------------------------------------------------------------------------


def save(company: Company) -> None:
    """Write the company (create or replace; idempotent)."""
    _put(company_key(company.id) | company.model_dump(mode="json")
         | {"GSI1PK": "COMPANIES", "GSI1SK": f"{iso(company.created_at)}#{company.id}"})


def get(company_id: str) -> Company | None:
    item = dynamo.get(company_key(company_id))
    return Company.model_validate(item) if item else None


def list_recent(limit: int, cursor: str | None) -> tuple[list[Company], str | None]:
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", "COMPANIES", limit, cursor, newest_first=True)
    return [Company.model_validate(item) for item in items], next_cursor


# --- buyers -----------------------------------------------------------------------------------------


def membership(customer_id: str) -> Buyer | None:
    """The customer's membership of a company (one GetItem), if any."""
    item = dynamo.get(membership_key(customer_id))
    return Buyer.model_validate(item) if item else None


def add_buyer(buyer: Buyer) -> None:
    """Write the membership and the company's buyer item in one transaction; a customer already in this
    company gets the new role and limit (idempotent). Raises ResourceExists if the customer is a buyer of
    another company."""
    data = buyer.model_dump(mode="json")
    try:
        dynamo.transact([
            dynamo.put("membership", membership_key(buyer.customer_id) | data,
                       "attribute_not_exists(PK) OR company_id = :company", company=buyer.company_id),
            dynamo.put("buyer", buyer_key(buyer.company_id, buyer.customer_id) | data),
        ])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed("membership"):
            raise ResourceExists(f"{buyer.email} is a buyer of another company.", param="email") from cancelled
        raise


def forget_buyer(customer_id: str) -> None:
    """Delete the customer's membership and the company's buyer item (erasure; safe to repeat)."""
    buyer = membership(customer_id)
    if buyer is not None:
        dynamo.transact([dynamo.delete("buyer", buyer_key(buyer.company_id, customer_id)),
                         dynamo.delete("membership", membership_key(customer_id))])


def buyers(company_id: str) -> list[Buyer]:
    return [Buyer.model_validate(item) for item in dynamo.query_all(
        None, "PK", f"COMPANY#{company_id}", sk_condition=" AND begins_with(#sk, :prefix)", prefix="BUYER#")]


# --- price lists --------------------------------------------------------------------------------------


def get_price_list(price_list_id: str) -> PriceList | None:
    item = dynamo.get(price_list_key(price_list_id))
    return PriceList.model_validate(item) if item else None


def list_price_lists(limit: int, cursor: str | None) -> tuple[list[PriceList], str | None]:
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", "PRICE_LISTS", limit, cursor, newest_first=True)
    return [PriceList.model_validate(item) for item in items], next_cursor


def price_list_holders(holders: list[str], currency: str) -> dict[str, str]:
    """company id or customer group → the id of the price list it has in `currency` (those with none left out)."""
    items = dynamo.batch_get([_holder_key(h, currency) for h in holders]) if holders else []
    return {item["PK"].split("#", 1)[1]: item["id"] for item in items}


def save_price_list(price_list: PriceList, dropped: list[str]) -> list[str]:
    """Write the list, then each assigned company's and customer group's copy (on no other list holding it in
    the currency, and no newer version of this one), and delete the copies of `dropped` holders. Returns the
    holders another list holds (their copy is not written). Safe to repeat."""
    data = price_list.model_dump(mode="json")
    _put(price_list_key(price_list.id) | data
         | {"GSI1PK": "PRICE_LISTS", "GSI1SK": f"{iso(price_list.created_at)}#{price_list.id}"})
    refused = []
    for company_id in [*price_list.companies, *price_list.customer_groups]:
        if not _put(_holder_key(company_id, price_list.currency) | data,
                    "attribute_not_exists(PK) OR (id = :id AND version <= :version)",
                    id=price_list.id, version=price_list.version):
            refused.append(company_id)
    for company_id in dropped:
        key = dynamo.to_item(_holder_key(company_id, price_list.currency))
        try:
            dynamo.call("delete_item", TableName=dynamo.table(), Key=key, ConditionExpression="id = :id",
                        ExpressionAttributeValues=dynamo.values(id=price_list.id))
        except ClientError as error:
            if dynamo.error_code(error) != "ConditionalCheckFailedException":
                raise
    return refused


# --- a buyer's cart ----------------------------------------------------------------------------------


def pricing_batch(code: str | None, skus: list[str], customer_id: str | None, currency: str
                  ) -> tuple[DiscountRecord | None, dict[str, SkuRecord], Buyer | None, Company | None,
                             PriceList | None]:
    """A cart's discount code and SKUs, with the membership and CRM segment of its account's customer, in one
    BatchGetItem (plus one for the shards of sharded SKUs, as catalog.get_skus); for a company buyer one more
    for the company and its price list in `currency`; for a customer in a segment one GetItem of the
    segment's price list."""
    keys = [sku_key(s) for s in skus] + ([discount_key(code)] if code else [])
    keys += [membership_key(customer_id), stats_key(customer_id)] if customer_id else []
    if not keys:
        return None, {}, None, None, None
    discount, buyer, company, price_list, segment, found = None, None, None, None, None, {}
    for item in dynamo.batch_get(keys):
        if item["SK"] == "DISCOUNT":
            discount = DiscountRecord.model_validate(item)
        elif item["SK"] == "COMPANY" and item["PK"].startswith("CUSTOMER#"):
            buyer = Buyer.model_validate(item)
        elif item["SK"] == "STATS":
            segment = item.get("segment")
        else:
            found[item["sku"]] = SkuRecord.model_validate(item)
    if buyer is not None:
        for item in dynamo.batch_get([company_key(buyer.company_id), company_prices_key(buyer.company_id, currency)]):
            if item["SK"] == "COMPANY":
                company = Company.model_validate(item)
            else:
                price_list = PriceList.model_validate(item)
    elif segment:
        item = dynamo.get(group_prices_key(segment, currency), consistent=False)
        price_list = PriceList.model_validate(item) if item else None
    return discount, catalog.with_shards(found), buyer, company, price_list
