"""The signed-in customer's own data (`/me`): profile and consent, address book, orders, the account's
cart (attach and merge a guest cart), export and erasure.

Every function takes the customer id of a verified token (chalicelib/accounts.py) and reads or writes
only that customer's partition and orders: nothing here takes a customer id from the path.
"""

from chalicelib import clock
from chalicelib.errors import CartChanged, CartCheckedOut, OrderChanged, TooManyAddresses, not_found
from chalicelib.models import MAX_QUANTITY, Address, Cart, CartLineRecord, CartRecord
from chalicelib.models.customers import Customer, MarketingConsent, SavedAddress
from chalicelib.models.orders import Order, OrderRecord
from chalicelib.repository import carts, companies, customers, orders
from chalicelib.retry import retried
from chalicelib.services import crm, tenders
from chalicelib.services.carts import _expiry, _inputs, _priced

ERASED = "erased"


def profile(customer_id: str, email: str) -> Customer:
    """The profile; one never saved reads as an empty one with the token's email (nothing is written)."""
    stored = customers.get_profile(customer_id)
    if stored is None:
        return Customer(id=customer_id, email=email)
    return stored


def update_profile(customer_id: str, email: str, changes: dict) -> Customer:
    """Set name, phone (None clears) and marketing consent (recorded with its time and source "account").
    Idempotent but for the consent's timestamp, which is kept when the answer does not change."""
    values = {k: v for k, v in changes.items() if k in ("name", "phone")}
    if "marketing_consent" in changes:
        granted = changes["marketing_consent"]
        current = customers.get_profile(customer_id)
        if current is None or current.marketing_consent.granted != granted or current.marketing_consent.at is None:
            values["marketing_consent"] = MarketingConsent(granted=granted, at=clock.now(), source="account")
    return customers.save_profile(customer_id, email, clock.now(), **values)


# --- addresses ---------------------------------------------------------------------------------


def addresses(customer_id: str) -> list[SavedAddress]:
    stored = customers.get_profile(customer_id)
    default = stored.default_address_id if stored else None
    return [a.model_copy(update={"default": a.id == default}) for a in customers.list_addresses(customer_id)]


def add_address(customer_id: str, email: str, address: Address, default: bool) -> SavedAddress:
    """Save a new address (the first one becomes the default). Not idempotent by itself: send an
    Idempotency-Key. Raises TooManyAddresses when the book is full."""
    book = customers.list_addresses(customer_id)
    if len(book) >= customers.MAX_ADDRESSES:
        raise TooManyAddresses(f"An address book holds at most {customers.MAX_ADDRESSES} addresses.",
                               param="line1")
    saved = SavedAddress(id=clock.new_id("adr"), **address.model_dump())
    customers.save_address(customer_id, saved)
    if default or not book:
        customers.save_profile(customer_id, email, clock.now(), default_address_id=saved.id)
    return saved.model_copy(update={"default": default or not book})


def change_address(customer_id: str, email: str, address_id: str, changes: dict) -> SavedAddress:
    """Change fields of a saved address, or make it the default. Idempotent. Raises ResourceMissing."""
    current = customers.get_address(customer_id, address_id)
    if current is None:
        raise not_found("address")
    default = changes.pop("default", None)
    merged = Address.model_validate(current.model_dump(exclude={"id", "default"}) | changes)
    saved = SavedAddress(id=address_id, **merged.model_dump())
    customers.save_address(customer_id, saved)
    stored = customers.get_profile(customer_id)
    is_default = bool(stored and stored.default_address_id == address_id)
    if default is True and not is_default:
        customers.save_profile(customer_id, email, clock.now(), default_address_id=address_id)
    elif default is False and is_default:
        customers.save_profile(customer_id, email, clock.now(), default_address_id=None)
    return saved.model_copy(update={"default": bool(default) if default is not None else is_default})


def remove_address(customer_id: str, email: str, address_id: str) -> None:
    """Delete a saved address (the default is cleared with it). Raises ResourceMissing."""
    if not customers.delete_address(customer_id, address_id):
        raise not_found("address")
    stored = customers.get_profile(customer_id)
    if stored and stored.default_address_id == address_id:
        customers.save_profile(customer_id, email, clock.now(), default_address_id=None)


# --- orders ------------------------------------------------------------------------------------


def order_page(customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
    records, next_cursor = orders.list_by_customer(customer_id, limit, cursor)
    return [Order.from_record(r) for r in records], next_cursor


def owned_order(customer_id: str, order_id: str) -> Order:
    """The order if it is the customer's; otherwise the same 404 as an unknown id."""
    record = orders.get(order_id)
    if record is None or record.customer_id != customer_id:
        raise not_found("order")
    return Order.from_record(record)


# --- the account's cart ------------------------------------------------------------------------


def _merged_lines(account: CartRecord, guest: CartRecord, skus) -> list[CartLineRecord]:
    """The account's lines plus the guest's, summed per SKU and capped by what can be bought (stock, the
    per-SKU maximum); a SKU no longer for sale in the account cart's currency is left out. A gift-card
    line keeps its recipient; when both carts hold the same gift-card SKU, the summed line goes to the
    guest cart's recipient (a cart holds one line per SKU, and adding a SKU again with another recipient
    does the same: carts.add_line)."""
    wanted: dict[str, CartLineRecord] = {}
    for line in [*account.lines, *guest.lines]:
        held = wanted.get(line.sku)
        wanted[line.sku] = line if held is None else CartLineRecord(
            sku=line.sku, quantity=held.quantity + line.quantity, gift_card=line.gift_card or held.gift_card)
    lines = []
    for sku, line in wanted.items():
        variant = skus.get(sku)
        if variant is None or not variant.active or variant.price_in(account.currency) is None:
            continue
        capped = min(line.quantity, max(variant.sellable, 0), MAX_QUANTITY)
        if capped:
            lines.append(line.model_copy(update={"quantity": capped}))
    return lines


def attach_cart(customer_id: str, email: str, guest_cart_id: str) -> Cart:
    """Make the guest cart the account's cart, or merge its lines into the account's open cart (summed,
    capped by stock, priced from the catalogue) and empty it, in one transaction. Idempotent: a repeat
    finds the guest cart empty (or already the account's) and answers the account's cart. A cart attached
    to another account is a 404. Raises ResourceMissing, CartCheckedOut."""
    def attempt() -> Cart:
        guest = carts.get(guest_cart_id)
        if guest is None or (guest.customer_id and guest.customer_id != customer_id):
            raise not_found("cart")
        pointer = customers.open_cart(customer_id)
        account = carts.get(pointer) if pointer and pointer != guest.id else None
        if account is not None and (account.status != "open" or account.customer_id != customer_id):
            account = None
        now = clock.now()
        if account is None:
            if guest.status != "open":
                raise CartCheckedOut("This cart has been checked out; start a new cart.")
            attached = guest
            if guest.customer_id != customer_id or guest.email is None:
                attached = carts.save(guest.model_copy(update={
                    "customer_id": customer_id, "email": guest.email or email, "updated_at": now,
                    "expires_at": _expiry(now)}))
            if pointer != guest.id and not customers.point_to_cart(customer_id, guest.id, pointer):
                raise CartChanged("The account's cart changed meanwhile.")
            skus, discount, b2b = _inputs(attached)
            return tenders.for_cart(attached, _priced(attached, skus, discount, b2b))
        skus, discount, b2b = _inputs(account, [line.sku for line in guest.lines])
        if guest.status != "open" or not guest.lines:
            return tenders.for_cart(account, _priced(account, skus, discount, b2b))
        merged = account.model_copy(update={
            "lines": _merged_lines(account, guest, skus), "email": account.email or guest.email or email,
            "shipping_address": account.shipping_address or guest.shipping_address,
            "gift_cards": account.gift_cards or guest.gift_cards,
            "updated_at": now, "expires_at": _expiry(now)})
        emptied = guest.model_copy(update={"lines": [], "customer_id": customer_id, "updated_at": now})
        saved = carts.merge(merged, emptied)
        return tenders.for_cart(saved, _priced(saved, skus, discount, b2b))

    return retried(attempt, CartChanged, lambda: CartChanged("The carts kept changing; try again."))


# --- privacy -----------------------------------------------------------------------------------


def export(customer_id: str, email: str) -> dict:
    """Everything held about the customer: the items of their partition and their orders (as they see them)."""
    held = customers.everything(customer_id)
    all_orders, cursor = [], None
    while True:
        page, cursor = orders.list_by_customer(customer_id, 100, cursor)
        all_orders += [Order.from_record(r).model_dump(mode="json") for r in page]
        if not cursor:
            break
    by_kind = {"profile": None, "addresses": [], "other": []}
    for item in held:
        sort_key = item.pop("SK")
        if sort_key == "PROFILE":
            by_kind["profile"] = item
        elif sort_key.startswith("ADDRESS#"):
            by_kind["addresses"].append(item)
        else:
            by_kind["other"].append({"kind": sort_key.split("#", 1)[0].lower(), **item})
    return {"customer_id": customer_id, "email": email, **by_kind, "orders": all_orders,
            "exported_at": clock.iso(clock.now())}


def _anonymised(order: OrderRecord) -> OrderRecord:
    address = Address(name=ERASED, line1=ERASED, city=ERASED, postal_code=ERASED,
                      country=order.shipping_address.country)
    return order.model_copy(update={"email": f"{ERASED}@{order.id}.invalid", "customer_id": None,
                                    "shipping_address": address})


def erase(customer_id: str) -> int:
    """Erase the profile, addresses and everything else of the customer's partition (the CRM's figures with
    their segment and last-order-day items and segment count: services/crm.forget), and anonymise their
    orders (name, address, email replaced; amounts, lines and dates kept; the link to the customer
    dropped). Safe to repeat (an interrupted erasure finishes on the next call). Returns the orders
    anonymised."""
    count, cursor = 0, None
    while True:
        page, cursor = orders.list_by_customer(customer_id, 100, cursor)
        for record in page:
            def attempt(order_id=record.id):
                current = orders.get(order_id)
                if current is not None and current.customer_id == customer_id:
                    orders.save(current, _anonymised(current))
            retried(attempt, OrderChanged, lambda: OrderChanged("The order kept changing; try again."))
            count += 1
        if not cursor:
            break
    crm.forget(customer_id)  # the shop's view first: its index items and counts outside the partition
    companies.forget_buyer(customer_id)  # a B2B buyer's item in the company's partition names them too
    customers.erase(customer_id)
    return count
