"""Error classes a client can act on, and their JSON form.

Every error is a `CommerceError` with an HTTP status and a stable snake_case `code`. They derive
from Chalice's `ChaliceUnhandledError` so they reach the one HTTP middleware in `app.py`, which
renders `{"error": {"code", "message", "param"?}}`.
"""

from chalice import ChaliceUnhandledError


class CommerceError(ChaliceUnhandledError):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, param: str | None = None, code: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.param = param
        if code:
            self.code = code
        self.extra = extra

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.param is not None:
            body["param"] = self.param
        body.update(self.extra)
        return {"error": body}


class InvalidRequest(CommerceError):
    status_code = 400
    code = "invalid_request"


class Unauthenticated(CommerceError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(CommerceError):
    status_code = 403
    code = "forbidden"


class PaymentDeclined(CommerceError):
    status_code = 402
    code = "payment_declined"


class ResourceMissing(CommerceError):
    status_code = 404
    code = "resource_missing"


class Conflict(CommerceError):
    status_code = 409
    code = "invalid_state"


class OutOfStock(Conflict):
    code = "out_of_stock"


class CartCheckedOut(Conflict):
    code = "cart_checked_out"


class CartChanged(Conflict):
    code = "cart_changed"


class StockShort(Conflict):
    """A SKU no longer has the stock, price or status the order was priced with."""

    code = "out_of_stock"

    def __init__(self, sku: str):
        super().__init__(f"SKU {sku} is short")
        self.sku = sku


class DiscountRefused(Conflict):
    """The discount code's usage limit (total or per customer) or validity window refused the order."""


class OrderChanged(Conflict):
    """The order moved on since it was read."""


class DuplicateEvent(Conflict):
    """This provider event was applied already."""


class RequestInProgress(Conflict):
    code = "request_in_progress"


class PayloadTooLarge(CommerceError):
    status_code = 413
    code = "payload_too_large"


class IdempotencyKeyReused(CommerceError):
    status_code = 422
    code = "idempotency_key_reused"


class UpstreamUnavailable(CommerceError):
    status_code = 502
    code = "upstream_unavailable"


def not_found(kind: str) -> ResourceMissing:
    return ResourceMissing(f"No such {kind}.")
