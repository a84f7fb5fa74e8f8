"""B2B companies and their buyers: the shop creates companies and adds buyers (by email: the Cognito account
with that verified email); a buyer sees their company and its orders, nobody else does.

`membership(customer_id)` is how every B2B feature learns whether a signed-in customer buys for a company
(one GetItem): pricing (services/price_lists.py), approval (services/purchase_requests.py), quotes and
invoices.
"""

from chalicelib import accounts, clock, config
from chalicelib.errors import InvalidRequest, not_found
from chalicelib.models.companies import (
    Buyer,
    BuyerIn,
    Company,
    CompanyChange,
    CompanyIn,
    CompanyView,
    eu_vat_country,
    normalise_vat_id,
    vat_problem,
)
from chalicelib.models.customers import customer_id_for
from chalicelib.models.orders import Order
from chalicelib.repository import companies, orders


def _vat(vat_id: str | None) -> tuple[str | None, str | None]:
    """The normalised VAT id and its EU country. Raises InvalidRequest naming `vat_id`."""
    if vat_id is None:
        return None, None
    problem = vat_problem(vat_id)
    if problem:
        raise InvalidRequest(problem, param="vat_id")
    return normalise_vat_id(vat_id), eu_vat_country(vat_id)


def _sold(credit_limit: dict[str, int] | None) -> None:
    """A credit limit in a currency the shop does not sell (CURRENCIES) is a 400: no order could use it."""
    sold = config.settings().currencies
    for currency in credit_limit or {}:
        if currency not in sold:
            raise InvalidRequest(f"Currency {currency} is not sold here; use one of {', '.join(sold)}.",
                                 param=f"credit_limit.{currency}")


def create(body: CompanyIn) -> Company:
    """A new company. Not idempotent by itself (send an Idempotency-Key). Raises InvalidRequest."""
    _sold(body.credit_limit)
    vat_id, country = _vat(body.vat_id)
    now = clock.now()
    company = Company(id=clock.new_id("co", 8), name=body.name, vat_id=vat_id, vat_country=country,
                      billing_address=body.billing_address, payment_terms_days=body.payment_terms_days,
                      credit_limit=body.credit_limit, created_at=now, updated_at=now)
    companies.save(company)
    return company


def change(company_id: str, body: CompanyChange) -> Company:
    """Change the fields sent (null clears the VAT id, terms or credit limit). Idempotent. Raises
    ResourceMissing, InvalidRequest."""
    company = get(company_id)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for name in ("name", "billing_address"):
        if name in changes and changes[name] is None:
            raise InvalidRequest(f"A company's {name.replace('_', ' ')} cannot be removed.", param=name)
    if "vat_id" in changes:
        changes["vat_id"], changes["vat_country"] = _vat(changes["vat_id"])
    if "credit_limit" in changes and changes["credit_limit"] is None:
        changes["credit_limit"] = {}
    _sold(changes.get("credit_limit"))
    changed = Company.model_validate(company.model_dump() | {
        name: value.model_dump() if hasattr(value, "model_dump") else value for name, value in changes.items()}
        | {"updated_at": clock.now()})
    companies.save(changed)
    return changed


def get(company_id: str) -> Company:
    """Raises ResourceMissing."""
    company = companies.get(company_id)
    if company is None:
        raise not_found("company")
    return company


def list_companies(limit: int, cursor: str | None) -> tuple[list[Company], str | None]:
    return companies.list_recent(limit, cursor)


def add_buyer(company_id: str, body: BuyerIn) -> Buyer:
    """Make the customer of `email` a buyer (or approver) of the company and invite them to sign in (a
    Cognito user with that verified email, unless one exists); adding them again changes their role and
    limit. Raises ResourceMissing, ResourceExists (a buyer of another company), InvalidRequest (an email
    Cognito refuses), UpstreamUnavailable."""
    get(company_id)
    buyer = Buyer(customer_id=customer_id_for(body.email), company_id=company_id, email=body.email,
                  role=body.role, spending_limit=body.spending_limit, created_at=clock.now())
    # The invitation first: an address Cognito refuses is a 400 with nothing written; a retry after the
    # membership write failed finds the user invited and changes nothing there.
    accounts.invite(body.email)
    companies.add_buyer(buyer)
    return buyer


def membership(customer_id: str) -> tuple[Company, Buyer] | None:
    """The company the customer buys for and their membership, or None (two GetItems for a buyer, one for
    anybody else)."""
    buyer = companies.membership(customer_id)
    if buyer is None:
        return None
    company = companies.get(buyer.company_id)
    return (company, buyer) if company else None


def buyer_of(customer_id: str) -> tuple[Company, Buyer]:
    """The caller's company and membership. Anybody outside a company gets the same 404 as for an unknown
    company (ResourceMissing)."""
    found = membership(customer_id)
    if found is None:
        raise not_found("company")
    return found


def view(customer_id: str) -> CompanyView:
    """GET /company: the caller's company with its buyers. Raises ResourceMissing."""
    company, buyer = buyer_of(customer_id)
    return CompanyView(**company.model_dump(), buyers=companies.buyers(company.id), me=buyer)


def admin_view(company_id: str) -> CompanyView:
    company = get(company_id)
    return CompanyView(**company.model_dump(), buyers=companies.buyers(company.id))


def order_page(customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
    """The caller's company's orders, newest first. Raises ResourceMissing outside a company."""
    company, _ = buyer_of(customer_id)
    records, next_cursor = orders.list_by_company(company.id, limit, cursor)
    return [Order.from_record(r) for r in records], next_cursor
