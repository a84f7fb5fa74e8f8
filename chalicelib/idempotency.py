"""The Idempotency-Key layer: every POST sent with an `Idempotency-Key` header runs at most once per key, and a
retry gets the first answer again (Stripe's semantics; the conventions in openapi.json's description).

- The header is 1..255 characters; anything else is a 400 `invalid_request` with param `Idempotency-Key`.
  Without the header a POST runs as before; on other methods the header is ignored.
- **Scope**: a key belongs to its caller: the record is found by SHA-256(SHA-256 of the `Authorization` header,
  or nothing for the anonymous storefront, + the key), so two admin keys never share a record. Method and path
  are *not* part of the scope but of the request fingerprint: the same key on another route is the contracted
  422, not a silent second request. Anonymous callers share one namespace, so storefronts must send random keys
  (UUID v4): under `/carts/{cart_id}` a colliding stranger learns nothing the cart id did not give, but a
  replayed `POST /carts` would hand them the first caller's cart id if both used the same guessable key.
- **Fingerprint**: SHA-256 of method, path (with its parameters) and raw body. The same key with another
  fingerprint is a 422 `idempotency_key_reused`, also while the first attempt still runs (a client bug either
  way); the same fingerprint while the first attempt runs is a 409 `request_in_progress`.
- **What is kept**: the final rendered answer (status, headers, body as sent, error envelopes included) for
  2xx and 4xx, at least 24 hours (`expires_at`). Not kept, so a retry can succeed: 5xx, and the 409s that say
  "a concurrent request got in the way" (`request_in_progress`, and `cart_changed` from the carts' optimistic
  locking, which Stripe does not keep either). A replay carries `Idempotent-Replayed: true`.
- **Ownership**: each attempt claims the record under a random owner token. botocore resends a write whose
  answer timed out; when the resent claim finds a record with its own owner it continues (it is the holder),
  and `complete`/`release` touch only a record the caller owns. A claim that failed outright is released, so
  the client's retry with the same key is not refused as `request_in_progress` by its own earlier attempt.
- **Lease**: the in-progress record is held until the Lambda invocation's deadline (its remaining time, +1 s;
  60 s when there is no Lambda context). A request that crashed mid-way blocks its key only that long, and a
  takeover can never overlap an attempt that may still be running.
- **Cost**: 2 extra DynamoDB calls per keyed POST (a conditional put, then an update or a delete); a replay,
  a 409 or a 422 costs 1 (the refused put returns the record with ReturnValuesOnConditionCheckFailure).
- **The storefront's POSTs keep no record** (SELF_KEPT: `POST /carts`, `POST /carts/{cart_id}/lines`, checkout):
  the cart or order they write carries the key's fingerprint and the answer (chalicelib/models/kept.py) in the
  same conditional write, and the read the request makes anyway finds it, so a keyed request costs what an
  unkeyed one does. A keyed `POST /carts` names its cart by the key (the put is refused with the existing
  cart, ALL_OLD); a line change keeps the answers of the cart's last 3 keys for 24 hours; checkout records the
  key on the order (one order per cart) and answers a retry with the order as it is now. There is no
  in-progress state: a concurrent duplicate loses the cart's version check, reads again and gets the answer.
  4xx answers changed nothing and are not kept. A key is known only to the cart it changed.

Why hand-written and not aws-lambda-powertools' idempotency utility (3.37.0, measured in this venv, Python
3.11, fresh interpreters, median of 9, three interleaved trials): importing `idempotent_function`,
`IdempotencyConfig` and `DynamoDBPersistenceLayer` costs 168-171 ms over an empty interpreter, but almost all of
that is boto3, which the app loads anyway: `import app` is 264 ms, with the utility 276 ms, so +12-13 ms per cold
start (58 modules, including Logger, Metrics and Tracer). Start-up time is therefore not the reason. Fit is:

1. On a table with a sort key it writes every record under one static partition key
   (`PK=idempotency#<function>`, `SK=<function>#<hash>`): all keyed POSTs of the shop would hit one partition key.
   `static_pk_value` is fixed per persistence layer, and building a layer per request registers another
   user-agent handler on the shared boto3 client each time.
2. Its in-progress lease comes only from a registered Lambda context (mutable state on a shared config).
3. It keeps whatever the function returns and drops the record only on an exception, so a rendered 5xx must be
   raised through it and rendered again outside; and its update and delete are unconditional (no owner), so a
   first attempt finishing after its lease was taken over overwrites or deletes the newer attempt's record.
4. Its boto3 calls bypass `dynamo.call`, so throttling would surface as IdempotencyPersistenceLayerError
   rather than our retryable 502, and it stores MD5 (by default) hashes under its own attribute names.

Everything it does that we need (conditional put with ALL_OLD, payload validation, in-progress expiry) is the
hundred lines here and in `repository/idempotency.py`, which keep the `IDEMPOTENCY#<scope>` key shape of the
single table and add no dependency to the deployment package.
"""

import contextlib
import hashlib
import json
import logging
import math
import re
import secrets
import time
from collections.abc import Callable

from botocore.exceptions import ClientError
from chalice import Response

from chalicelib.errors import CartChanged, CommerceError, IdempotencyKeyReused, InvalidRequest, RequestInProgress
from chalicelib.models.kept import KeptAnswer, Keyed
from chalicelib.repository import idempotency as store

HEADER = "Idempotency-Key"
JSON = "application/json"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Without credentials a key is all that tells one caller's record from another's: short keys could be
# guessed and another storefront's answer (its cart) replayed. A UUID v4 is 36 characters.
MIN_ANONYMOUS_KEY_LENGTH = 16
KEEP_SECONDS = 24 * 60 * 60
DEFAULT_LEASE_SECONDS = 60
# 409s that only report a concurrent request: a retry with the same key may well succeed.
TRANSIENT_CODES = frozenset({RequestInProgress.code, CartChanged.code})
# Routes whose answer is kept on the cart or order they write (models/kept.py), not in a record of its own.
SELF_KEPT = frozenset({"/carts", "/carts/{cart_id}/lines", "/carts/{cart_id}/checkout"})
_PARAMETER = re.compile(r"\{(\w+)\+?\}")
_UNKNOWN = object()

log = logging.getLogger(__name__)


def run(request, respond: Callable[[], Response]) -> Response:
    """The answer to `request`: `respond()` run at most once per Idempotency-Key and its answer kept, or the
    kept answer of the first attempt. Routes in SELF_KEPT keep their answers on the item they write, so they
    are only validated here. Raises InvalidRequest (bad key), IdempotencyKeyReused (same key, other
    request), RequestInProgress (the first attempt still runs), UpstreamUnavailable (DynamoDB)."""
    keyed = key_of(request)
    if keyed is None or request.path in SELF_KEPT:
        return respond()
    scope, fingerprint = keyed.scope, keyed.fingerprint
    owner = secrets.token_hex(16)
    now = math.ceil(time.time())
    try:
        existing = store.claim(scope, fingerprint, owner, lease_until=now + _lease_seconds(request),
                               expires_at=now + KEEP_SECONDS)
    except (CommerceError, ClientError):
        # Every send of the claim failed, yet one of them may have been written (a timeout after DynamoDB
        # took it): drop what this attempt may hold, so the client's retry is not refused for a lease.
        with contextlib.suppress(CommerceError, ClientError):
            store.release(scope, owner)
        raise
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        response = respond()
    except Exception:
        store.release(scope, owner)
        raise
    try:
        if not _kept(response):
            store.release(scope, owner)
        elif not store.complete(scope, owner, _snapshot(response), math.ceil(time.time()) + KEEP_SECONDS):
            log.warning("An Idempotency-Key lease ran out before its request finished; the newer answer is kept.")
    except (CommerceError, ClientError):
        # The request did run: answer it. Without its record a retry after the lease runs it again.
        log.warning("The answer to an idempotent request could not be recorded.", exc_info=True)
        with contextlib.suppress(CommerceError, ClientError):
            store.release(scope, owner)
    return response


def key_of(request) -> Keyed | None:
    """The POST's Idempotency-Key as its scope and the request's fingerprint; None without one (or on
    another method). Raises InvalidRequest for a key of the wrong length. Worked out once per request (the
    middleware's and the route's call)."""
    known = getattr(request, "_idempotency_key", _UNKNOWN)
    if known is not _UNKNOWN:
        return known
    keyed = _key_of(request)
    request._idempotency_key = keyed
    return keyed


def _key_of(request) -> Keyed | None:
    key = request.headers.get(HEADER) if request.method == "POST" else None
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidRequest(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters long.", param=HEADER)
    authorization = request.headers.get("authorization")
    if not authorization and len(key) < MIN_ANONYMOUS_KEY_LENGTH:
        raise InvalidRequest(f"Without credentials an {HEADER} must be at least {MIN_ANONYMOUS_KEY_LENGTH} characters "
                             "long and unguessable (send a random UUID v4).", param=HEADER)
    params = request.uri_params or {}
    # request.path is the route template ("/carts/{cart_id}/lines"); fill in the parameters.
    path = _PARAMETER.sub(lambda match: params.get(match.group(1), match.group(0)), request.path)
    return Keyed(scope=scope_of(key, authorization), fingerprint=fingerprint_of(request.method, path,
                                                                                 request.raw_body or b""))


def answer(result, status_code: int = 200) -> Response:
    """A route's answer: `result` (a pydantic model) as JSON, serialised once by pydantic; or the answer kept
    for the request's Idempotency-Key, replayed (or just made)."""
    if isinstance(result, KeptAnswer):
        headers = {"Content-Type": JSON, REPLAYED_HEADER: "true"} if result.replayed else {"Content-Type": JSON}
        return Response(result.text(), headers=headers, status_code=result.status)
    return Response(result.model_dump_json(), headers={"Content-Type": JSON}, status_code=status_code)


def reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(f"This {HEADER} was already used for a different request; use a new key.",
                                param=HEADER)


def scope_of(key: str, authorization: str | None) -> str:
    """The record a key names: the key within its caller (the hashed credential; none for the storefront)."""
    caller = hashlib.sha256(authorization.encode()).hexdigest() if authorization else ""
    return hashlib.sha256(json.dumps([caller, key]).encode()).hexdigest()


def fingerprint_of(method: str, path: str, body: bytes | str) -> str:
    """SHA-256 of what makes two requests the same: method, path (parameters filled in) and raw body."""
    raw = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), raw])).hexdigest()


def _lease_seconds(request) -> int:
    remaining = getattr(getattr(request, "lambda_context", None), "get_remaining_time_in_millis", None)
    return math.ceil(remaining() / 1000) + 1 if remaining else DEFAULT_LEASE_SECONDS


def _kept(response: Response) -> bool:
    if response.status_code >= 500:
        return False
    error = response.body.get("error") if isinstance(response.body, dict) else None
    return not (isinstance(error, dict) and error.get("code") in TRANSIENT_CODES)


def _snapshot(response: Response) -> dict:
    wire = response.to_dict()  # the body exactly as Chalice sends it
    return {"status": response.status_code, "headers": dict(response.headers), "body": wire["body"]}


def _replay(record: dict, fingerprint: str) -> Response:
    if record["fingerprint"] != fingerprint:
        raise reused()
    if record["status"] != store.COMPLETED:
        raise RequestInProgress(f"A request with this {HEADER} is still being processed; retry shortly.")
    kept = record["response"]
    return Response(kept["body"], headers={**kept["headers"], REPLAYED_HEADER: "true"}, status_code=kept["status"])
