"""What every route needs at the edge: body parsing, paging parameters, admin authentication."""

import hashlib
import hmac
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib import config
from chalicelib.errors import InvalidRequest, PayloadTooLarge, Unauthenticated

MAX_BODY_BYTES = 64 * 1024
M = TypeVar("M", bound=BaseModel)


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
        first = error.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise InvalidRequest("The body is not valid JSON.") from None
        param = ".".join(str(part) for part in first["loc"]) or None
        message = first["msg"] if param is None else f"{param}: {first['msg']}"
        raise InvalidRequest(message, param=param) from None


def page_params(request) -> tuple[int, str | None]:
    params = request.query_params or {}
    raw = params.get("limit", "20")
    # ASCII digits only: str.isdigit() also accepts "²", and int() refuses over 4300 digits (both were 500s).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3) or not 1 <= int(raw) <= 100:
        raise InvalidRequest("limit must be an integer from 1 to 100.", param="limit")
    cursor = params.get("cursor") or None
    if cursor is not None and len(cursor) > 1024:
        raise InvalidRequest("The cursor is not valid for this listing.", param="cursor")
    return int(raw), cursor


def page(items: list[BaseModel], next_cursor: str | None) -> dict:
    return {"data": [item.model_dump(mode="json") for item in items], "next_cursor": next_cursor}


def require_admin(request) -> None:
    """Accept `Authorization: Bearer <key>` when the key's SHA-256 matches a configured hash
    (compared in constant time; several hashes allow rotation). Raises Unauthenticated."""
    scheme, _, key = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthenticated("An admin API key is required: Authorization: Bearer <key>.")
    digest = hashlib.sha256(key.strip().encode()).hexdigest()
    matched = False
    for known in config.secret_list("ADMIN_KEY_HASHES"):
        matched |= hmac.compare_digest(digest, known.lower())
    if not matched:
        raise Unauthenticated("The admin API key is not valid.")
