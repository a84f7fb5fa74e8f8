"""The shapes of API answers that are not a domain model as such: pages, the checkout answer, the error
envelope, the sales report. Handlers may keep building these answers as dicts; these models are what the
OpenAPI document (chalicelib/openapi.py) says they are, and tests/test_schemathesis.py checks real answers
against it. A field that is sometimes absent (rather than null) carries `exclude_if` (and no null in its schema).
"""

from datetime import date
from typing import Generic, Literal, TypeVar

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from chalicelib.models import DiscountRecord, Product
from chalicelib.models.base import Model
from chalicelib.models.crm import AdminCustomer, Message, Thread
from chalicelib.models.invoices import Invoice
from chalicelib.models.orders import Order
from chalicelib.models.quotes import Quote
from chalicelib.models.returns import Return

T = TypeVar("T")


def _absent(value) -> bool:
    return value is None


class Page(Model, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ProductPage(Page[Product]):
    """A page of active products."""


class OrderPage(Page[Order]):
    """A page of orders, newest first."""


class Discount(DiscountRecord):
    """A discount code (upper case; carts match it case-insensitively). `value` is a percentage (1-100) for
    `percent`, an amount in `currency`'s minor unit for `fixed`, 0 for `free_shipping`. With a `currency` the
    code only applies to carts in that currency; `times_used` counts the orders placed
    with it (an unpaid order cancelled gives its use back)."""


class DiscountPage(Page[Discount]):
    """A page of discount codes, newest first."""


class QuotePage(Page[Quote]):
    """A page of quotes of one status, oldest first."""


class InvoicePage(Page[Invoice]):
    """A page of invoices of one status, oldest due date first."""


class Recommendations(Model):
    """Products often bought together with the product (filled up with the newest products)."""

    data: list[Product]


class Payment(Model):
    """What the storefront needs to take the payment in the browser."""

    provider: str = Field(description="`stripe`.")
    status: str = Field(description="The provider's payment status (`requires_payment_method`, `requires_action`, "
                                    "`processing`, `succeeded`...), or the order's status once it is no longer "
                                    "waiting for a payment.")
    client_secret: str | None = Field(description="For the provider's browser library; null once the order is "
                                                  "paid or closed.")
    publishable_key: str
    next_action: dict | SkipJsonSchema[None] = Field(None, exclude_if=_absent,
                                     description="With `requires_action`: what the browser must do next.")


class OrderPayment(Payment):
    """An order's payment while the order waits for it (GET /orders/{order_id}/payment): pay `amount_due` with the
    provider's browser library and `client_secret`, as after checkout (e.g. the difference of a dearer exchange)."""

    status: str = Field(description="The provider's payment status as it is now (`requires_payment_method`: not "
                                    "paid yet; `requires_action`; `processing` or `succeeded`: paid, the order "
                                    "follows when the provider's webhook arrives).")
    client_secret: str = Field(description="For the provider's browser library (Stripe.js `confirmCardPayment`).")
    amount_due: int = Field(description="What the customer pays, in `currency`'s minor unit.")
    currency: str
    exchange_of: str | None = Field(description="The return this order settles as an exchange (the storefront says "
                                                 "\"pay the difference\"); null for a checkout's order.")


class Checkout(Model):
    """The order placed for the cart, the token that shows it to the customer, and its payment."""

    order: Order
    order_token: str = Field(description="Send as `X-Order-Token` to GET /orders/{order_id}.")
    payment: Payment | None = Field(description="null when gift cards and store credit paid the whole order.")


class Received(Model):
    received: Literal[True]


class RowError(Model):
    row: int = Field(description="The file's row (the header is row 1).")
    column: str
    message: str


class ErrorDetail(Model):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="Stable; branch on it.")
    message: str = Field(description="For people; may change.")
    param: str | SkipJsonSchema[None] = Field(None, exclude_if=_absent,
                              description="The offending field (dotted path), query parameter or header.")
    available: int | SkipJsonSchema[None] = Field(None, exclude_if=_absent,
                                                  description="`out_of_stock`: what is left.")
    sku: str | SkipJsonSchema[None] = Field(None, exclude_if=_absent,
                                            description="`out_of_stock` at checkout: the SKU.")
    decline_code: str | SkipJsonSchema[None] = Field(None, exclude_if=_absent,
                                     description="`payment_declined`: the provider's reason.")
    rows: list[RowError] | SkipJsonSchema[None] = Field(None, exclude_if=_absent,
                                                        description="A CSV import's errors, row and column each.")
    gift_card_id: str | SkipJsonSchema[None] = Field(None, exclude_if=_absent,
                                                     description="`gift_card_used`: the card (never its code).")


class Error(Model):
    """The envelope of every error answer."""

    error: ErrorDetail


class TopProduct(Model):
    product_id: str
    title: str | None = Field(description="null when the product has been deleted.")
    units: int
    revenue: int


class ReportDay(Model):
    date: date
    orders: int
    revenue: int
    units: int
    carts_created: int
    recovered_revenue: int
    winback_revenue: int
    refunds: int
    paid_provider: int = 0
    paid_gift_card: int = 0
    paid_store_credit: int = 0


class AmountPaid(Model):
    provider: int = Field(description="Paid through the payment provider.")
    gift_card: int = Field(description="Paid with gift cards.")
    store_credit: int = Field(description="Paid with store credit.")


class SalesReport(Model):
    """Figures of the UTC days `from`..`to` in one currency; money in its minor units."""

    model_config = ConfigDict(populate_by_name=True)

    currency: str
    from_: date = Field(alias="from")
    to: date
    orders: int
    revenue: int
    average_order_value: int
    units: int
    carts_created: int
    conversion_rate: float | None = Field(description="orders / carts_created; null without carts.")
    recovered_revenue: int = Field(description="Revenue of orders from carts restored by a reminder link.")
    winback_revenue: int = Field(description="Revenue of orders that used a win-back discount code.")
    refunds: int
    amount_paid: AmountPaid = Field(description="The revenue split by what paid it.")
    top_products: list[TopProduct] = Field(description="Up to 10, by revenue.")
    by_day: list[ReportDay]


class AdminCustomerPage(Page[AdminCustomer]):
    """A page of customers."""


class AdminCustomerDetail(AdminCustomer):
    orders: list[Order] = Field(description="The customer's latest paid orders (up to 20), newest first.")


class SegmentCount(Model):
    id: Literal["new", "repeat", "vip", "at_risk", "lapsed"]
    count: int


class SegmentCounts(Model):
    data: list[SegmentCount]


class MessageList(Model):
    data: list[Message]


class ReturnList(Model):
    data: list[Return]


class ReturnPage(Page[Return]):
    """A page of returns in one status, oldest first."""


class ThreadPage(Page[Thread]):
    """A page of customer service threads."""


# --- B2B (models/companies.py) ---------------------------------------------------------------------

from chalicelib.models.companies import Company, PriceList, PurchaseRequest  # noqa: E402


class CompanyPage(Page[Company]):
    """A page of companies, newest first."""


class PriceListPage(Page[PriceList]):
    """A page of price lists, newest first."""


class PurchaseRequestPage(Page[PurchaseRequest]):
    """A page of a company's purchase requests, newest first."""


class PurchaseRequestAnswer(Model):
    """Checkout's 202: a company buyer's checkout above their spending limit, waiting for an approver."""

    purchase_request: PurchaseRequest
