"""The OpenAPI 3.1 document of the HTTP API, built from the code so that it cannot drift.

Paths and methods come from Chalice's route table (`app.routes`); what each route takes and answers comes
from its `@documented(...)` declaration (chalicelib/handlers/common.py); every schema comes from the pydantic
models (requests in validation mode, answers in serialization mode) with refs under `#/components/schemas`.
On top of a route's own error codes the generator adds what every route of its kind can answer:

- every route: 415 (a Content-Type other than JSON), 500 `internal_error`, 502 `upstream_unavailable`;
- a route with a body: 400 `invalid_request` (the body), 413 `payload_too_large`;
- a route with query parameters: 400 `invalid_request`;
- every POST: the `Idempotency-Key` header, 400 (a bad key), 409 `request_in_progress`, 422
  `idempotency_key_reused`, and the `Idempotent-Replayed` answer header;
- `/admin/*`: the `Authorization: Bearer <admin key or staff token>` security scheme, 401 `unauthenticated`
  and `token_revoked` (a staff token issued before its user was disabled or given another role), and 403
  `forbidden` (the role or key lacks the route's permission, chalicelib/permissions.py);
- every answer: the `X-Request-Id` header (app.py's middleware), which a request may set.

A route's own errors are the classes of chalicelib/errors.py it names (`@documented(errors=[...])`); each
class is one code under one status, with the description shown here (ERROR_CODES, derived from
errors.REGISTRY). Each error status has its own schema (`Error409`...) whose `code` is one of the codes that
status can carry, so a client can switch on it and tests/test_schemathesis.py notices an undocumented one.

A route without `@documented` makes `document()` raise UndocumentedRoute. The API serves the document at
GET /openapi.json, built on the first request (pydantic's schema generation stays out of cold starts);
`make openapi` writes it to openapi.json, and tests/test_openapi.py fails when that file is stale.
"""

import inspect
import json
import re

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from chalicelib import errors
from chalicelib.handlers.common import DOC_ATTRIBUTE, RouteDoc

OPENAPI_VERSION = "3.1.0"
TITLE = "commerce"
VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
ADMIN_PREFIX = "/admin/"
ADMIN_SCHEME = "adminKey"
CUSTOMER_PREFIX = "/me"
# A signed-in customer: /me, and a B2B buyer's /company and /quotes.
CUSTOMER_PREFIXES = (CUSTOMER_PREFIX, "/company", "/quotes")
CUSTOMER_SCHEME = "customerToken"
HEADERS = {
    "X-Request-Id": {"description": "The request's correlation id (the one sent, if it was a sane token), as "
                                    "logged by the API.", "required": True, "schema": {"type": "string"}},
    "Idempotent-Replayed": {"description": "`true` when this is the kept answer of an earlier request with the "
                                           "same Idempotency-Key.", "schema": {"type": "string", "enum": ["true"]}},
}
PARAMETERS = {
    "RequestId": {"name": "X-Request-Id", "in": "header", "required": False,
                  "description": "A correlation id to find this request in the API's logs (letters, digits, "
                                 "`-` and `_`; otherwise the API makes one up).",
                  "schema": {"type": "string"}},
    "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "Run this POST at most once per key (a random UUID v4); a retry gets the "
                                      "first answer again. Without credentials (`Authorization`) a key must "
                                      "be at least 16 characters, so no one can guess another caller's.",
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255}},
}

STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 400: "Bad request", 401: "Unauthenticated",
               402: "Payment declined", 403: "Forbidden", 404: "Not found", 409: "Conflict", 413: "Payload too large",
               415: "Unsupported media type", 422: "Idempotency-Key reused", 429: "Too many requests",
               500: "Internal error", 502: "Upstream unavailable", 503: "Upstream unavailable"}
DESCRIPTION = """\
The HTTP API of a headless shop: the storefront (catalogue, carts, checkout, the customer's order page)
and the shop's admin API. The contract's conventions:

- JSON in and out, `snake_case`. **Money** is an integer in the currency's minor unit, next to the owning
  object's `currency` (ISO 4217). **Ids** carry a type prefix (`prod_`, `cart_`, `ord_`...); a cart id is
  the storefront's only key to its cart. Timestamps are ISO 8601 UTC.
- **Lists** take `limit` (1..100, default 20) and `cursor`, and answer `{data, next_cursor}`.
- **Errors** are `{"error": {"code", "message", "param"?}}` with a stable `code` to branch on.
- **Idempotency-Key** (1..255 characters) is honoured on every POST: the same key and body answer the
  first answer again (with `Idempotent-Replayed: true`), the same key with another request is a 422, and
  a replay while the first still runs a 409 `request_in_progress`. Use a random key (UUID v4); without
  credentials a key shorter than 16 characters is a 400 (it could be guessed). *Extension*: the storefront's
  `POST /carts`, `POST /carts/{cart_id}/lines` and checkout keep the answer on the cart (or order) they write,
  in the same write: a key is known to that cart only (on another cart's lines it is a new request), a cart
  keeps the answers of its last 3 keyed changes for 24 hours, a 4xx changed nothing and is not kept (a retry
  runs again), a concurrent duplicate gets the first answer rather than a 409, and a checkout retried with the
  key that placed the order answers 201 with the order as it is now.
- Request bodies reject unknown fields.
- What API Gateway answers itself (no such route, throttled with 429 `rate_limited`, body too large,
  the backend timed out) is in the same envelope.
"""


class UndocumentedRoute(LookupError):
    """A route has no @documented declaration, or it names an error that is not a class of errors.py."""


def _error_codes_of(registry) -> dict[str, dict[int, str]]:
    """code -> {status: description} of every error class; a (code, status) has one description."""
    codes: dict[str, dict[int, str]] = {}
    for cls in registry:
        described = codes.setdefault(cls.code, {}).setdefault(cls.status_code, cls.description)
        if described != cls.description:
            raise UndocumentedRoute(f"{cls.__name__} describes {cls.code} ({cls.status_code}) unlike another class")
    return codes


# Every error code the API answers, with the statuses it comes with (chalicelib/errors.py).
ERROR_CODES = _error_codes_of(errors.REGISTRY)
# What every route can answer (with 415 `invalid_request`): API Gateway's own answers included.
EVERY_ROUTE = (errors.CommerceError, errors.UpstreamUnavailable, errors.GatewayTimeout, errors.RateLimited)


class _Schemas(GenerateJsonSchema):
    """Answers are `model_dump(mode="json")`: exactly their fields, each present unless it carries `exclude_if`."""

    def field_is_required(self, field, total: bool) -> bool:
        if self.mode == "serialization" and field["type"] != "typed-dict-field":
            return field.get("serialization_exclude_if") is None
        return super().field_is_required(field, total)

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def model_schema(self, schema):
        json_schema = super().model_schema(schema)
        if self.mode == "serialization" and "properties" in json_schema:
            json_schema.setdefault("additionalProperties", False)  # an answer has exactly these fields
        return json_schema

    def default_schema(self, schema):
        if self.mode == "serialization":  # an answer has no defaults: its fields are there or not
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


_documents: dict[int, dict] = {}


def document(app) -> dict:
    """The document of `app`, built once per app (the first GET /openapi.json of a container)."""
    key = id(app)
    if key not in _documents:
        _documents[key] = build(app)
    return _documents[key]


def render(app) -> str:
    """The document as committed in openapi.json: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(build(app), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def routes(app) -> list[tuple[str, str, object]]:
    """(path, method, view function) of every HTTP route, sorted."""
    return sorted((path, method, entry.view_function)
                  for path, methods in app.routes.items() for method, entry in methods.items())


def undocumented(app) -> list[str]:
    return [f"{method} {path}" for path, method, view in routes(app) if _doc(view) is None]


def build(app) -> dict:
    """Build the document from the route table. Raises UndocumentedRoute."""
    missing = undocumented(app)
    if missing:
        raise UndocumentedRoute("routes without @documented (chalicelib/handlers/common.py): " + ", ".join(missing))
    table = [(path, method, view, _doc(view)) for path, method, view in routes(app)]
    names, definitions = _components(table)
    paths: dict[str, dict] = {}
    operation_ids: dict[str, str] = {}
    for path, method, view, doc in table:
        operation = _operation(path, method, view, doc, names)
        other = operation_ids.setdefault(operation["operationId"], f"{method} {path}")
        if other != f"{method} {path}":
            raise UndocumentedRoute(f"operationId {operation['operationId']} of {method} {path} is also {other}'s; "
                                    "give one of them @documented(operation_id=...)")
        paths.setdefault(path, {})[method.lower()] = operation
    _check_links(paths)
    statuses = sorted({status for statuses in ERROR_CODES.values() for status in statuses})
    for status in statuses:
        definitions[f"Error{status}"] = _error_schema(definitions, status)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "http://127.0.0.1:8000", "description": "The local stack (`make run`)."}],
        "paths": paths,
        "components": {
            "schemas": definitions,
            "headers": HEADERS,
            "parameters": PARAMETERS,
            "securitySchemes": {ADMIN_SCHEME: {
                "type": "http", "scheme": "bearer",
                "description": "An admin API key (its SHA-256 is in the stage's `admin-key-hashes` parameter, or "
                               "`ADMIN_API_KEYS` with its scopes), or a staff Cognito token whose `cognito:groups` "
                               "names a role: owner, manager, support, fulfilment (chalicelib/permissions.py)."},
                CUSTOMER_SCHEME: {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "A Cognito ID or access token of the shop's user pool and storefront app client "
                               "(`/me` routes; `GET /orders/{order_id}`, the order's messages and checkout accept it "
                               "too)."}},
        },
    }


def _doc(view) -> RouteDoc | None:
    return getattr(view, DOC_ATTRIBUTE, None)


def _is_model(value) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _components(table) -> tuple[dict, dict]:
    """Schemas of every request (validation) and answer (serialization) model, and their refs."""
    from chalicelib.responses import Error

    wanted: dict[tuple[type, str], None] = {(Error, "serialization"): None}
    for *_, doc in table:
        if _is_model(doc.request):
            wanted[(doc.request, "validation")] = None
        if _is_model(doc.response):
            wanted[(doc.response, "serialization")] = None
        for model in doc.other.values():
            wanted[(model, "serialization")] = None
    keys, top = models_json_schema(list(wanted), ref_template=REF, schema_generator=_Schemas)
    return keys, dict(sorted(top.get("$defs", {}).items()))


def _schema_of(value, mode: str, names: dict) -> dict:
    if _is_model(value):
        return names[(value, mode)]
    return dict(value)


def _operation(path: str, method: str, view, doc: RouteDoc, names: dict) -> dict:
    admin = path.startswith(ADMIN_PREFIX)
    text = inspect.getdoc(view) or ""
    operation = {
        "operationId": doc.operation_id or view.__name__,
        "summary": doc.summary or view.__name__.replace("_", " ").capitalize(),
        "tags": [doc.tag or view.__module__.rsplit(".", 1)[-1]],
        "parameters": _parameters(path, method, doc),
        "responses": {},
    }
    if text:
        operation["description"] = text
    if admin:
        operation["security"] = [{ADMIN_SCHEME: []}]
    elif any(path == prefix or path.startswith(prefix + "/") for prefix in CUSTOMER_PREFIXES):
        operation["security"] = [{CUSTOMER_SCHEME: []}]
    if doc.request is not None:
        required = _is_model(doc.request) and any(f.is_required() for f in doc.request.model_fields.values())
        operation["requestBody"] = {"required": required or not _is_model(doc.request),
                                    "content": {"application/json": {"schema": _schema_of(doc.request, "validation",
                                                                                          names)}}}
    for status in doc.status:
        answer: dict = {"description": STATUS_TEXT.get(status, str(status))}
        if doc.response is not None and not 300 <= status < 400:
            answer["content"] = {doc.media_type: {"schema": _schema_of(doc.response, "serialization", names)}}
        if doc.links:
            answer["links"] = {target: {"operationId": target, "parameters": dict(parameters)}
                               for target, parameters in doc.links.items()}
        answer["headers"] = _headers(method)
        operation["responses"][str(status)] = answer
    for status, model in doc.other.items():
        operation["responses"][str(status)] = {
            "description": STATUS_TEXT.get(status, str(status)), "headers": _headers(method),
            "content": {"application/json": {"schema": _schema_of(model, "serialization", names)}}}
    for status, codes in sorted(_error_codes(method, doc, admin).items()):
        lines = [f"- `{code}`: {ERROR_CODES[code][status]}" for code in codes]
        operation["responses"][str(status)] = {
            "description": STATUS_TEXT.get(status, str(status)) + ".\n\n" + "\n".join(lines),
            "headers": _headers(method) if status < 500 else _headers("GET"),  # a 4xx is kept and replayed
            "content": {"application/json": {"schema": {"$ref": REF.format(model=f"Error{status}")}}}}
    return operation


def _headers(method: str) -> dict:
    return {name: {"$ref": f"#/components/headers/{name}"}
            for name in HEADERS if name != "Idempotent-Replayed" or method == "POST"}


def _check_links(paths: dict) -> None:
    operations = {operation["operationId"]: operation for methods in paths.values() for operation in methods.values()}
    for source in operations.values():
        for answer in source["responses"].values():
            for link in answer.get("links", {}).values():
                target = operations.get(link["operationId"])
                if target is None:
                    raise UndocumentedRoute(f"{source['operationId']} links to unknown operation {link['operationId']}")
                names = {(p["in"], p["name"]) for p in map(resolve_parameter, target["parameters"])}
                for parameter in link["parameters"]:
                    where, _, name = parameter.rpartition(".")
                    if not any(n == name and where in ("", w) for w, n in names):
                        raise UndocumentedRoute(f"{source['operationId']} links to {link['operationId']} with "
                                                f"unknown parameter {parameter}")


def resolve_parameter(parameter: dict) -> dict:
    ref = parameter.get("$ref")
    return PARAMETERS[ref.rsplit("/", 1)[-1]] if ref else parameter


def _parameters(path: str, method: str, doc: RouteDoc) -> list[dict]:
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                  for name in re.findall(r"\{(\w+)\}", path)]
    if doc.query is not None:
        schema = doc.query.model_json_schema(mode="validation", schema_generator=_Schemas)
        for name, prop in schema["properties"].items():
            prop = _without_null(prop)
            parameter = {"name": name, "in": "query", "required": name in schema.get("required", ()),
                         "schema": {k: v for k, v in prop.items()
                                    if k != "description" and not (k == "default" and v is None)}}
            if "description" in prop:
                parameter["description"] = prop["description"]
            parameters.append(parameter)
    if method == "POST":
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    parameters.append({"$ref": "#/components/parameters/RequestId"})
    for headers, required in ((doc.headers, True), (doc.optional_headers, False)):
        for name, description in headers.items():
            parameters.append({"name": name, "in": "header", "required": required, "description": description,
                               "schema": {"type": "string", "minLength": 1}})
    return parameters


def _without_null(schema: dict) -> dict:
    """A query parameter is optional by being absent, never null."""
    variants = schema.get("anyOf")
    if not variants:
        return schema
    kept = [v for v in variants if v != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**kept[0], **rest} if len(kept) == 1 else {**rest, "anyOf": kept}


def _error_codes(method: str, doc: RouteDoc, admin: bool) -> dict[int, list[str]]:
    """The error codes of a route by status: its own plus those of its kind (module docstring)."""
    # Chalice checks any request's Content-Type (415), with or without a body; API Gateway throttles any route.
    classes = [*EVERY_ROUTE, *doc.errors]
    by_status: dict[int, list[str]] = {errors.UnsupportedMediaType.status_code: [errors.UnsupportedMediaType.code]}
    if doc.request is not None:
        classes.append(errors.PayloadTooLarge)
    if doc.request is not None or doc.query is not None or method == "POST":
        by_status[errors.InvalidRequest.status_code] = [errors.InvalidRequest.code]
    if method == "POST":
        classes += [errors.RequestInProgress, errors.IdempotencyKeyReused]
    if admin:
        classes += [errors.Unauthenticated, errors.TokenRevoked, errors.Forbidden]
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, errors.CommerceError)) \
                or cls.status_code not in ERROR_CODES.get(cls.code, {}):
            raise UndocumentedRoute(f"unknown error {cls!r} (code {getattr(cls, 'code', None)!r}): name a class "
                                    "of chalicelib/errors.py")
        by_status.setdefault(cls.status_code, []).append(cls.code)
    return {status: sorted(set(found)) for status, found in by_status.items() if found}


def _error_schema(definitions: dict, status: int) -> dict:
    """The Error envelope whose code is one of those `status` carries."""
    detail = json.loads(json.dumps(definitions["ErrorDetail"]))
    detail["properties"]["code"] = {**detail["properties"]["code"],
                                    "enum": sorted(code for code, statuses in ERROR_CODES.items()
                                                   if status in statuses)}
    detail["title"] = f"ErrorDetail{status}"
    return {"type": "object", "title": f"Error{status}", "required": ["error"], "additionalProperties": False,
            "description": f"An error answered with HTTP {status}.", "properties": {"error": detail}}

