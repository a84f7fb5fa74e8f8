"""Who is calling an admin route: a staff member signed in with Cognito, or an integration's API key.

`Authorization: Bearer <credential>`:
- a JWT (three dot-separated parts) is a staff token: an ID or access token of the staff pool
  (STAFF_USER_POOL_ID / STAFF_CLIENT_ID, by default the customer pool and client), verified as the
  customer tokens are (chalicelib/accounts.py: RS256 by a key of the pool's JWKS, issuer, client,
  expiry), whose `cognito:groups` name at least one role of chalicelib/permissions.py. A valid token
  without a role group is a 403 `forbidden`; anything else wrong is a 401. A token issued (`iat`) before
  the owner last disabled its user or changed their role is a 401 `token_revoked` (one consistent GetItem
  of the user's STAFF#<sub> item per request, repository/staff.py; API keys and shoppers pay nothing).
- anything else is an API key, known by its SHA-256 (compared in constant time): a hash of
  ADMIN_KEY_HASHES holds every scope (the original single key; several hashes allow rotation); a hash
  of ADMIN_API_KEYS (a JSON secret `{"<sha256>": {"name": "erp", "scopes": ["orders:read", ...]}}`)
  holds its scopes, permission names of chalicelib/permissions.py or "*".
"""

import hashlib
import hmac
import json
import time

from chalicelib import accounts, config, rs256
from chalicelib.errors import Forbidden, TokenRevoked, Unauthenticated
from chalicelib.permissions import ALL, Principal, staff
from chalicelib.repository import staff as staff_tokens

REFETCH_AFTER_SECONDS = 60
_jwks: dict = {"url": None, "at": 0.0, "keys": None}


def _keys(url: str, refresh: bool = False):
    now = time.monotonic()
    stale = _jwks["url"] != url or now - _jwks["at"] > config.settings().jwks_ttl_seconds
    if stale or (refresh and now - _jwks["at"] > REFETCH_AFTER_SECONDS):
        _jwks.update(url=url, at=now, keys=accounts._fetch_jwks(url))
    return _jwks["keys"]


def _claims(raw: str) -> dict:
    settings = config.settings()
    if not (settings.staff_issuer and settings.staff_client_id and settings.staff_jwks_url):
        raise Unauthenticated("Staff sign-in is not configured; use an admin API key.")
    if len(raw) > accounts.MAX_TOKEN_LENGTH:
        raise Unauthenticated("The sign-in token is not valid.")
    try:
        try:
            claims = rs256.decode(raw, _keys(settings.staff_jwks_url))[1]
        except rs256.UnknownKey:
            claims = rs256.decode(raw, _keys(settings.staff_jwks_url, refresh=True))[1]
    except rs256.BadToken as error:
        raise Unauthenticated("The sign-in token is not valid.") from error
    use = claims.get("token_use")
    if use not in ("id", "access") or not accounts._claims_valid(claims, use, settings.staff_issuer,
                                                                  settings.staff_client_id):
        raise Unauthenticated("The sign-in token is not valid or has expired.")
    return claims


def _not_revoked(claims: dict) -> None:
    """Tokens issued before the user's `not_before` (services/staff_accounts.py) are refused. `iat` is whole
    seconds: `not_before` is the second after the change (plus the clocks' skew), so a token of the change's
    own second is refused, and the change answers only once that second has come, so a sign-in after it is
    accepted."""
    not_before = staff_tokens.tokens_not_before(claims["sub"])
    if not_before is None:
        return
    issued = claims.get("iat")
    if not accounts._number(issued) or issued < not_before:
        raise TokenRevoked("Your staff access has changed since you signed in (disabled, or another role): "
                           "please sign in again.")


def _staff(raw: str) -> Principal:
    claims = _claims(raw)
    _not_revoked(claims)
    groups = claims.get("cognito:groups") or []
    who = claims.get("email") or claims.get("cognito:username") or claims.get("username") or claims["sub"]
    principal = staff(f"staff:{who}", [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else [],
                      config.settings().support_refund_limits)
    if principal is None:
        raise Forbidden("This account has no staff role (owner, manager, support or fulfilment).")
    return principal


def _scoped_keys() -> dict:
    """ADMIN_API_KEYS; an absent SSM parameter (a stage without scoped keys) or malformed JSON is none."""
    from botocore.exceptions import ClientError

    try:
        scoped = json.loads(config.secret("ADMIN_API_KEYS") or "{}")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise
        return {}
    except ValueError:
        return {}
    return scoped if isinstance(scoped, dict) else {}


def _key(raw: str) -> Principal:
    digest = hashlib.sha256(raw.encode()).hexdigest()
    matched = False
    for known in config.secret_list("ADMIN_KEY_HASHES"):
        matched |= hmac.compare_digest(digest, known.lower())
    if matched:
        return Principal(actor=f"admin_key:{digest[:8]}", permissions=frozenset({ALL}))
    scoped = _scoped_keys()
    found = None
    for known, grant in scoped.items():
        if hmac.compare_digest(digest, str(known).lower()):
            found = grant
    if not isinstance(found, dict):
        raise Unauthenticated("The admin API key is not valid.")
    scopes = frozenset(s for s in found.get("scopes", []) if isinstance(s, str))
    return Principal(actor=f"key:{found.get('name') or digest[:8]}", permissions=scopes)


def authenticate(request) -> Principal:
    """The caller of an admin route. Raises Unauthenticated, Forbidden (a staff token with no role)."""
    scheme, _, raw = (request.headers.get("authorization") or "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        raise Unauthenticated("Sign in as staff or send an admin API key: Authorization: Bearer <token or key>.")
    if raw.count(".") == 2 and raw.startswith("eyJ"):
        return _staff(raw)
    return _key(raw)


def reset() -> None:
    _jwks.update(url=None, at=0.0, keys=None)
