"""Error classes a client can act on, and their JSON form: the one registry of error codes.

Every error is a `CommerceError` with an HTTP status and a stable snake_case `code`. A class declared
with `code=` and/or `status=` is one (code, status) pair, and its docstring is the description the OpenAPI
document shows under that status: a code answered with a second status has a subclass for it
(`UnsupportedMediaType`, `DiscountGone`, `GatewayTimeout`). A class declared without them (`OrderChanged`,
`StockShort`...) is its parent's pair under a name the backend catches. `REGISTRY` is every class of this
module; chalicelib/openapi.py derives the document's codes from it, and each route names the classes it can
raise in `@documented(errors=[...])`. A code is written here once and nowhere else.

They derive from Chalice's `ChaliceUnhandledError` so they reach the one HTTP middleware
(handlers/rendering.py), which renders `{"error": {"code", "message", "param"?}}`.
"""

from chalice import ChaliceUnhandledError


class CommerceError(ChaliceUnhandledError):
    status_code = 500
    code = "internal_error"
    description = "A bug on our side; it has been logged."

    def __init_subclass__(cls, code: str | None = None, status: int | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if code is not None or status is not None:
            cls.code = code or cls.code
            cls.status_code = status or cls.status_code
            cls.description = " ".join((cls.__doc__ or "").split())

    def __init__(self, message: str, param: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.param = param
        self.extra = extra

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.param is not None:
            body["param"] = self.param
        body.update(self.extra)
        return {"error": body}


# --- 400 -------------------------------------------------------------------------------------------


class InvalidRequest(CommerceError, code="invalid_request", status=400):
    """Malformed JSON, an unknown or forbidden field, a value out of range, a bad query parameter or
    `Idempotency-Key` header; `param` names it."""


class UnsupportedMediaType(InvalidRequest, status=415):
    """The body is not sent as `Content-Type: application/json`."""


class UnknownSku(InvalidRequest, code="unknown_sku"):
    """The SKU is not for sale."""


class CurrencyMismatch(InvalidRequest, code="currency_mismatch"):
    """The SKU has no price in the cart's currency."""


class TooManyLines(InvalidRequest, code="too_many_lines"):
    """The cart holds the most lines it can."""


class UnknownShippingMethod(InvalidRequest, code="unknown_shipping_method"):
    """The shipping method is not offered for this cart."""


class DiscountUnknown(InvalidRequest, code="discount_unknown"):
    """No such discount code."""


class InvalidToken(InvalidRequest, code="invalid_token"):
    """The restore or unsubscribe link is malformed, tampered with or expired."""


class InvalidSignature(InvalidRequest, code="invalid_signature"):
    """The `Stripe-Signature` header is missing or does not match the body."""


class TooManyAddresses(InvalidRequest, code="too_many_addresses"):
    """The address book holds the most addresses it can (50)."""


# --- 401 to 404 ------------------------------------------------------------------------------------


class Unauthenticated(CommerceError, code="unauthenticated", status=401):
    """Missing or bad credentials (`Authorization: Bearer <admin key>`, or on the customer routes a Cognito
    token that is missing, expired, tampered with, of another pool or app client, or of the wrong kind)."""


class TokenRevoked(Unauthenticated, code="token_revoked"):
    """A staff token issued before the owner disabled its user or changed their role: every token the user
    held then is refused; sign in again (a disabled user cannot until enabled)."""


class PaymentDeclined(CommerceError, code="payment_declined", status=402):
    """The payment method was declined; `decline_code` says why."""


class Forbidden(CommerceError, code="forbidden", status=403):
    """Credentials valid but not allowed."""


class EmailNotVerified(Forbidden, code="email_not_verified"):
    """The signed-in customer's email address is not verified yet (Cognito): no customer id, no orders."""


class ResourceMissing(CommerceError, code="resource_missing", status=404):
    """No such object, or one the caller may not see (never says which); also any path or method no
    route serves."""


# --- 409 -------------------------------------------------------------------------------------------


class Conflict(CommerceError, code="invalid_state", status=409):
    """The object's state forbids it (e.g. cancelling a cancelled order)."""


class OutOfStock(Conflict, code="out_of_stock"):
    """Not enough stock; `param` names the line and `available` says what is left (at checkout nothing
    at all is reserved)."""


class StockShort(OutOfStock):
    """A SKU no longer has the stock, price or status the order was priced with."""

    def __init__(self, sku: str):
        super().__init__(f"SKU {sku} is short")
        self.sku = sku


class CartCheckedOut(Conflict, code="cart_checked_out"):
    """The cart has been checked out; start a new cart."""


class CartChanged(Conflict, code="cart_changed"):
    """The cart was changed by a concurrent request; read it again and retry."""


class PriceChanged(Conflict, code="price_changed"):
    """A price in the cart went up since the storefront showed it (a sale ended) longer ago than the
    grace period: the cart is priced again; read it and check out again. `param` names the first line."""


class RequestInProgress(Conflict, code="request_in_progress"):
    """A request with this `Idempotency-Key` is still running; retry shortly."""


class ResourceExists(Conflict, code="resource_exists"):
    """An object with this id or code exists already."""


class LastOwner(Conflict, code="last_owner"):
    """The change would leave the shop without an enabled owner (staff): make another owner first."""


class SkuConflict(Conflict, code="sku_conflict"):
    """The SKU belongs to another product, or `on_hand` is below what orders reserved."""


class OrderChanged(Conflict):
    """The order moved on since it was read (the backend reads it again and retries)."""


class OrderKeptChanging(Conflict, code="order_changed"):
    """The order kept changing under the request; retry."""


class DuplicateEvent(Conflict):
    """This provider event was applied already."""


class OverShipment(Conflict, code="over_shipment"):
    """More than is left to ship."""


class RefundExceedsPayment(Conflict, code="refund_exceeds_payment"):
    """More than can still be refunded."""


class ReturnExceedsShipment(Conflict, code="return_exceeds_shipment"):
    """More than was shipped and not yet returned (or than was asked to be returned); `param` names the line."""


class ReturnWindowClosed(Conflict, code="return_window_closed"):
    """The order's return window has closed (or nothing of it has shipped yet)."""


class DiscountRefused(Conflict):
    """The discount code's validity window, usage limit (total or per customer), currency, minimum or
    customer (a personal code) refused the cart or the order; each reason is a subclass (DISCOUNT_REFUSALS)."""


class DiscountGone(DiscountRefused, code=DiscountUnknown.code):
    """The cart's discount code no longer exists."""


class DiscountNotYetValid(DiscountRefused, code="discount_not_yet_valid"):
    """The discount code is not valid yet."""


class DiscountExpired(DiscountRefused, code="discount_expired"):
    """The discount code has expired."""


class DiscountUsedUp(DiscountRefused, code="discount_used_up"):
    """The discount code's usage limit is reached."""


class DiscountCurrencyMismatch(DiscountRefused, code="discount_currency_mismatch"):
    """The discount code applies to another currency."""


class DiscountMinimumNotReached(DiscountRefused, code="discount_minimum_not_reached"):
    """The cart's subtotal is below the code's minimum."""


class DiscountNotForCustomer(DiscountRefused, code="discount_not_for_customer"):
    """The code is personal (a win-back code) and the cart's email is another customer's."""


class CreditLimitExceeded(Conflict, code="credit_limit_exceeded"):
    """Paying by invoice would take the company's open credit in this currency over its credit limit."""


class InvoicesOverdue(Conflict, code="invoices_overdue"):
    """The company has an invoice overdue past the grace period (INVOICE_GRACE_DAYS): no new invoice
    checkouts until it is paid."""


class InvoiceNotAllowed(Conflict, code="invoice_not_allowed"):
    """Paying by invoice needs a signed-in buyer of a company with payment terms."""


class InvoiceVoid(Conflict, code="invoice_void"):
    """The invoice is void (its order was cancelled before it was paid)."""


class QuoteNotAnswered(Conflict, code="quote_not_answered"):
    """The shop has not answered the quote yet."""


class QuoteExpired(Conflict, code="quote_expired"):
    """The quote lapsed (past its `expires_at`); ask for a new one."""


class QuoteAccepted(Conflict, code="quote_accepted"):
    """The quote was accepted already (one order per quote): it cannot be answered again."""


class QuoteCartChanged(Conflict, code="quote_cart_changed"):
    """The cart no longer holds exactly the quoted lines; ask for a new quote."""


class StoreCreditInsufficient(Conflict, code="store_credit_insufficient"):
    """The customer's store credit in that currency is smaller than the amount taken back or spent."""


class GiftCardInsufficient(Conflict, code="gift_card_insufficient"):
    """The gift card's balance no longer covers what the cart applied (read the cart again)."""


class GiftCardUnusable(Conflict, code="gift_card_unusable"):
    """The gift card is disabled, expired, or in another currency than the cart."""


class GiftCardUsed(Conflict, code="gift_card_used"):
    """A gift card bought with the order has been spent (even in part) or disabled, so the order cannot be
    cancelled; `gift_card_id` and the message (its last 4) name it. Refund the goods instead."""


# --- 413 and above ---------------------------------------------------------------------------------


class PayloadTooLarge(CommerceError, code="payload_too_large", status=413):
    """The body is larger than 64 KiB."""


class IdempotencyKeyReused(CommerceError, code="idempotency_key_reused", status=422):
    """This `Idempotency-Key` was used for a different request."""


# Answered by API Gateway itself (infra/package.py, GATEWAY_RESPONSES), never by a route.
class RateLimited(CommerceError, code="rate_limited", status=429):
    """Too many requests (the stage's throttling); retry after `Retry-After` seconds."""


class TooManyAttempts(RateLimited, code="too_many_attempts"):
    """Too many gift-card lookups (or applications to carts) from this address this minute; retry in a minute."""


class UpstreamUnavailable(CommerceError, code="upstream_unavailable", status=502):
    """A dependency (database, payment provider) failed; safe to retry."""


# Answered by API Gateway itself when the function does not answer in time.
class GatewayTimeout(UpstreamUnavailable, status=503):
    """The API timed out waiting for the backend (API Gateway); safe to retry."""


# Every error class of this module, in the order written.
REGISTRY: tuple[type[CommerceError], ...] = tuple(
    value for value in dict(globals()).values() if isinstance(value, type) and issubclass(value, CommerceError))
# Why a discount code does not apply (models/pricing.discount_problem, a cart's `discount.reason`) -> its 409.
DISCOUNT_REFUSALS: dict[str, type[DiscountRefused]] = {
    cls.code: cls for cls in (DiscountGone, DiscountNotYetValid, DiscountExpired, DiscountUsedUp,
                              DiscountCurrencyMismatch, DiscountMinimumNotReached,
                              DiscountNotForCustomer)}


def not_found(kind: str) -> ResourceMissing:
    return ResourceMissing(f"No such {kind}.")
