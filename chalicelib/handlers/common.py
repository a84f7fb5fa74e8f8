"""What every route needs at the edge: body and query parsing, the paging parameters, admin authentication, and the
`@documented` declaration of its contract for the OpenAPI document."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from chalice import Response
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from chalicelib import audit, permissions, staff
from chalicelib.errors import CommerceError, Forbidden, InvalidRequest, PayloadTooLarge
from chalicelib.models import Request
from chalicelib.models.base import Model
from chalicelib.permissions import Principal

MAX_BODY_BYTES = 64 * 1024
M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])
DOC_ATTRIBUTE = "__api_doc__"


@dataclass(frozen=True)
class RouteDoc:
    """A route's contract as the OpenAPI document shows it (chalicelib/openapi.py builds the document)."""

    response: type[BaseModel] | dict | None  # a model, a raw JSON schema, or None for no body
    status: tuple[int, ...]                  # the success statuses; the first is the usual one
    request: type[BaseModel] | dict | None   # a model, or a raw JSON schema
    query: type[BaseModel] | None
    errors: tuple[type[CommerceError], ...]  # errors beyond those every route of its kind can answer
    headers: dict[str, str] = field(default_factory=dict)  # required request headers: name -> description
    optional_headers: dict[str, str] = field(default_factory=dict)  # request headers that may be absent
    summary: str | None = None
    operation_id: str | None = None
    links: dict[str, dict[str, str]] = field(default_factory=dict)  # operationId -> {parameter: expression}
    tag: str | None = None  # the document's group; by default the handler module's name
    media_type: str = "application/json"  # of the success answer (a CSV export or a feed says its own)
    other: dict[int, type[BaseModel]] = field(default_factory=dict)  # a success status with another body


def documented(response: type[BaseModel] | dict | None, *, status: int | tuple[int, ...] = 200,
               request: type[BaseModel] | dict | None = None, query: type[BaseModel] | None = None,
               errors: Iterable[type[CommerceError]] = (), headers: dict[str, str] | None = None,
               optional_headers: dict[str, str] | None = None, summary: str | None = None,
               operation_id: str | None = None,
               links: dict[str, dict[str, str]] | None = None, tag: str | None = None,
               media_type: str = "application/json",
               other: dict[int, type[BaseModel]] | None = None) -> Callable[[F], F]:
    """Declare a route's contract; stack it under the route decorator:

        @bp.route("/carts/{cart_id}/lines", methods=["POST"])
        @documented(Cart, request=AddLine, errors=[ResourceMissing, OutOfStock])
        def add_line(cart_id): ...

    `errors` lists the classes of chalicelib/errors.py the route can raise (each is one code under one
    status: that module is the registry of codes); those every route of its kind answers (a POST's
    idempotency errors, an admin route's 401, 400 for a body...) are added by the generator. `links` are
    OpenAPI links from a successful answer to the operations it leads to, e.g.
    `{"get_cart": {"cart_id": "$response.body#/id"}}` (clients read them; Schemathesis follows them).
    `other` documents a success status whose body is another model (checkout's 202 purchase request).
    The generator refuses a route without this declaration. Costs nothing at import beyond storing the
    arguments on the view function."""
    doc = RouteDoc(response=response, status=(status,) if isinstance(status, int) else tuple(status),
                   request=request, query=query, errors=tuple(errors), headers=dict(headers or {}),
                   optional_headers=dict(optional_headers or {}), summary=summary, operation_id=operation_id,
                   links=dict(links or {}), tag=tag,
                   media_type=media_type, other=dict(other or {}))

    def mark(view: F) -> F:
        setattr(view, DOC_ATTRIBUTE, doc)
        return view

    return mark


def _digits(value):
    """ASCII digits only: str.isdigit() also accepts "²", and int() refuses over 4300 digits (both were 500s)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) <= 3):
        raise ValueError("must be an integer from 1 to 100")
    return value


# An optional query parameter sent empty (`?cursor=`) is absent.
BlankIsAbsent = BeforeValidator(lambda value: value if value != "" else None)


class PageQuery(Model):
    """The paging parameters of every list, parsed by `parse_query` and shown by the document."""

    limit: Annotated[int, Field(ge=1, le=100, description="Items per page."), BeforeValidator(_digits)] = 20
    cursor: Annotated[Annotated[str, Field(max_length=1024, description="`next_cursor` of the previous page.")] | None,
                      BlankIsAbsent] = None


def body_bytes(request) -> bytes:
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    return raw


def parse(model: type[M], request) -> M:
    """The request body as `model`: malformed JSON, a wrong type, a value out of range or an
    unknown field is a 400 naming the offending `param` (dotted path)."""
    raw = body_bytes(request)
    try:
        return model.model_validate_json(raw if raw.strip() else b"{}")
    except ValidationError as error:
        raise _invalid(error) from None


def parse_query(model: type[M], request) -> M:
    """The query string as `model`, the same model the OpenAPI document shows (`@documented(query=...)`):
    a value of the wrong form or out of range is a 400 naming the offending `param`."""
    try:
        return model.model_validate(request.query_params or {})
    except ValidationError as error:
        raise _invalid(error) from None


def sold_currency(currency: str | None) -> str | None:
    """A query's `currency` when the shop sells in it (CURRENCIES), else a 400 naming `currency`: a listing in a
    currency nobody can pay in is a mistake, not an empty page."""
    from chalicelib import config

    sold = config.settings().currencies
    if currency is not None and currency not in sold:
        raise InvalidRequest(f"Currency {currency} is not sold here; use one of {', '.join(sold)}.", param="currency")
    return currency


def _invalid(error: ValidationError) -> InvalidRequest:
    first = error.errors(include_url=False)[0]
    if first["type"] == "json_invalid":
        return InvalidRequest("The body is not valid JSON.")
    param = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"] if param is None else f"{param}: {first['msg']}"
    return InvalidRequest(message, param=param)


class NoBody(Request):
    """No fields: a POST that takes no input may send no body or `{}`; anything else (malformed JSON, an
    array, a field) is a 400 like any body, never ignored."""


def admin_body(model: type[M], request) -> M:
    """An admin route's body as `model`, once the caller is allowed the route (require_admin)."""
    require_admin(request)
    return parse(model, request)


def created(answer: BaseModel) -> Response:
    """A 201 with the new (or changed) object."""
    return Response(answer.model_dump(mode="json"), status_code=201)


def page(items: list[BaseModel], next_cursor: str | None) -> dict:
    return {"data": [item.model_dump(mode="json") for item in items], "next_cursor": next_cursor}


def require_admin(request) -> Principal:
    """The caller of an admin route, allowed to call it: a staff token whose role, or an API key whose
    scopes, hold the route's permission (chalicelib/permissions.py ROUTES, by method and route template;
    a route not declared there needs "admin", which only the owner and managers hold). Opens the
    request's audit context for a write (chalicelib/audit.py). Raises Unauthenticated, Forbidden."""
    principal = staff.authenticate(request)
    route = (request.context or {}).get("resourcePath") or request.path
    permission = permissions.for_route(request.method, route)
    if not principal.may(permission):
        raise Forbidden(f"Your role or key does not allow this ({permission}).")
    audit.begin(principal.actor, request.method, route, request.uri_params)
    return principal


def within_refund_limit(principal: Principal, amount: int, order_id: str) -> None:
    """A support user's refunds are capped per currency and per order (SUPPORT_REFUND_LIMIT: the order's
    currency's limit, else "*"'s; neither: no refund in that currency): what the order has refunded already
    counts, so splitting a refund in parts gives back no more. Reads the order only for a capped principal.
    Raises Forbidden, ResourceMissing."""
    from chalicelib.services import orders

    limits = principal.refund_limits
    if limits is None:
        return
    order = orders.get(order_id)
    currency = order.currency
    limit = limits.get(currency, limits.get("*"))
    if limit is None:
        raise Forbidden(f"Your role may not refund in {currency} (SUPPORT_REFUND_LIMIT sets no limit for it); "
                        "ask a manager.")
    # Every refund not known to have failed, and what the provider reports beyond them (its dashboard).
    succeeded = sum(r.amount for r in order.refunds if r.status == "succeeded")
    given = sum(r.amount for r in order.refunds if r.status != "failed") + max(order.amount_refunded - succeeded, 0)
    if given + amount > limit:
        raise Forbidden(f"Your role may refund at most {limit} of an order (minor units of {currency}); "
                        f"{given} has been refunded on this one, so {max(limit - given, 0)} more at most; "
                        "ask a manager for more.")


# The header of the routes a customer reaches with the order token or, signed in, their bearer token.
ORDER_TOKEN = {"X-Order-Token": "The `order_token` of the checkout answer; without the right one the order is a 404. "
                                 "A signed-in owner may send `Authorization: Bearer <Cognito token>` instead."}


def customer_order(request, order_id: str):
    """The order the caller proves is theirs, as GET /orders/{id}: its `X-Order-Token`, or else the owner's
    bearer token (an invalid one is a 401; another customer's order the same 404 as an unknown one)."""
    from chalicelib import accounts
    from chalicelib.services import customers, orders

    token = request.headers.get("x-order-token")
    if token is None and accounts.bearer_present(request):
        return customers.owned_order(accounts.from_request(request).customer_id, order_id)
    return orders.get_for_customer(order_id, token)
