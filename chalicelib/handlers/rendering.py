"""The one place where errors become the `{"error": {...}}` envelope, run as the API's HTTP middleware
(app.py): idempotent replays, the correlation id and the access log line wrap every request."""

import logging
import time

from chalice import Response

from chalicelib import audit, idempotency, observability
from chalicelib.errors import CommerceError, Forbidden, InvalidRequest, ResourceMissing, UnsupportedMediaType

log = logging.getLogger("chalicelib.api")
GENERIC = {
    400: (InvalidRequest.code, "The request is not valid."),
    403: (Forbidden.code, "Not allowed."),
    404: (ResourceMissing.code, "No such resource."),
    405: (InvalidRequest.code, "This method is not allowed here."),
    415: (UnsupportedMediaType.code, "Send JSON with Content-Type: application/json."),
    500: (CommerceError.code, "Something went wrong on our side; it has been logged."),
}


def allowed_origin(origin: str | None) -> str | None:
    """The back office's origin when the request comes from it (ADMIN_ORIGIN), else None: the
    storefront's origin (CORS_ALLOW_ORIGIN) stays the default every answer carries."""
    from chalicelib import config

    admin = config.settings().admin_origin
    return origin if admin and origin == admin else None


def _error(status: int, code: str, message: str) -> Response:
    return Response({"error": {"code": code, "message": message}}, status_code=status)


def render(event, get_response, cors) -> Response:
    """Every answer in our envelope; a POST with an Idempotency-Key runs once and its rendered answer is
    replayed (chalicelib/idempotency.py), whose own errors (400, 409, 422, 502) are rendered here too.
    Each request gets a correlation id (X-Request-Id in and out) and one structured access log line."""
    started = time.perf_counter()
    request_id = observability.start(event.headers.get("x-request-id"),
                                     (event.context or {}).get("requestId"))
    try:
        response = idempotency.run(event, lambda: _rendered(event, get_response))
    except CommerceError as error:
        response = Response(error.to_dict(), status_code=error.status_code)
    response.headers["X-Request-Id"] = request_id
    if cors:  # Chalice adds CORS headers only to what a view returns, not to rendered errors
        for name, value in cors.get_access_control_headers().items():
            response.headers.setdefault(name, value)
        origin = allowed_origin(event.headers.get("origin"))
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
    error_code = response.body.get("error", {}).get("code") if isinstance(response.body, dict) else None
    log.info("request", extra={"method": event.method, "path": event.path, "status": response.status_code,
                               "error_code": error_code,
                               "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return response


def record_alone(context: audit.Context) -> None:
    from chalicelib.repository import dynamo

    item = audit.record(context, None, None)
    dynamo.raw_call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(item))


def _rendered(event, get_response) -> Response:
    audit.end()  # an admin write's audit context lives as long as its view (chalicelib/audit.py)
    try:
        response = get_response(event)
        if response.status_code < 400 and audit.pending():
            record_alone(audit.pending())
    except CommerceError as error:
        return Response(error.to_dict(), status_code=error.status_code)
    finally:
        audit.end()
    if response.status_code >= 400 and not (isinstance(response.body, dict) and "error" in response.body):
        # Chalice's own answers (unhandled exception, bad content type...) in our envelope, and
        # never with a traceback.
        code, message = GENERIC.get(response.status_code, GENERIC[500] if response.status_code >= 500
                                    else GENERIC[400])
        return _error(response.status_code, code, message)
    return response
