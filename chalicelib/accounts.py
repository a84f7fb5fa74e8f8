"""Signed-in customers: Cognito tokens, verified by the app itself, and the few Cognito calls it makes.

API Gateway's Cognito authorizer checks the `/me` routes in a deployed stage; the app checks every
token again (and is the only check under `make run`, where `chalice local` has no authorizer), with
the same rules: an RS256 signature by a key of the pool's JWKS (fetched once per container, kept for
JWKS_TTL_SECONDS, fetched again at most once a minute for a `kid` it does not know: key rotation),
the pool's issuer, an expiry in the future, and a `token_use` of "id" (whose `aud` must be the
storefront's app client) or "access" (whose `client_id` must be, and which carries no `aud`). Any
failure is a 401 `unauthenticated`; nothing of the token is echoed.

A customer's id is `customer_id_for(email)` (chalicelib/models/customers.py), and only for an email
Cognito has verified: an ID token carries `email` and `email_verified`; an access token carries
neither, so the user's attributes are read once with GetUser and kept for a few minutes. A token
whose email is not verified is a 403 `email_not_verified`.
"""

import json
import time
import urllib.request
from dataclasses import dataclass
from functools import lru_cache

from chalicelib import config, rs256
from chalicelib.errors import EmailNotVerified, InvalidRequest, Unauthenticated, UpstreamUnavailable
from chalicelib.models.customers import customer_id_for, normalise_email

MAX_TOKEN_LENGTH = 8192
REFETCH_AFTER_SECONDS = 60  # at most one JWKS fetch a minute for unknown key ids
USER_CACHE_SECONDS = 300

_jwks: dict = {"url": None, "at": 0.0, "keys": None}
_users: dict[str, tuple[float, dict]] = {}


@dataclass(frozen=True)
class SignedIn:
    """Who a verified token speaks for."""

    sub: str
    username: str
    token_use: str
    email: str | None
    email_verified: bool

    @property
    def customer_id(self) -> str:
        """The customer id of the verified email. Raises EmailNotVerified."""
        if not (self.email and self.email_verified):
            raise EmailNotVerified("Verify your email address to use your account.")
        return customer_id_for(self.email)


def _fetch_jwks(url: str) -> dict[str, rs256.PublicKey]:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:  # noqa: S310 (a configured https or local URL)
            return rs256.key_set(json.loads(answer.read()))
    except (OSError, ValueError) as error:
        raise UpstreamUnavailable("The sign-in service could not be reached; please retry.") from error


def _keys(refresh: bool = False):
    """The pool's key set, cached per container."""
    settings = config.settings()
    now = time.monotonic()
    stale = _jwks["url"] != settings.cognito_jwks_url or now - _jwks["at"] > settings.jwks_ttl_seconds
    if stale or (refresh and now - _jwks["at"] > REFETCH_AFTER_SECONDS):
        _jwks.update(url=settings.cognito_jwks_url, at=now, keys=_fetch_jwks(settings.cognito_jwks_url))
    return _jwks["keys"]


def _decode(raw: str) -> dict:
    """The claims of a token signed RS256 by a key of the pool (chalicelib/rs256.py)."""
    try:
        try:
            return rs256.decode(raw, _keys())[1]
        except rs256.UnknownKey:
            return rs256.decode(raw, _keys(refresh=True))[1]
    except rs256.BadToken as error:
        raise Unauthenticated("The sign-in token is not valid.") from error


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _claims_valid(claims: dict, use: str, issuer: str, client_id: str) -> bool:
    """The checks joserfc's JWTClaimsRegistry made: issuer, audience (an ID token's `aud`, an access
    token's `client_id`), a `sub`, `exp` not passed, `nbf` reached, `iat` a number."""
    now = time.time()
    audience = claims.get("aud") if use == "id" else claims.get("client_id")
    return (claims.get("iss") == issuer
            and (audience == client_id or (isinstance(audience, list) and client_id in audience and use == "id"))
            and isinstance(claims.get("sub"), str) and bool(claims["sub"])
            and _number(claims.get("exp")) and claims["exp"] >= now
            and ("nbf" not in claims or (_number(claims["nbf"]) and claims["nbf"] <= now))
            and ("iat" not in claims or _number(claims["iat"])))


def verify(raw: str) -> SignedIn:
    """Verify a Cognito ID or access token of the configured pool and app client. Raises
    Unauthenticated (any failure), UpstreamUnavailable (the JWKS or Cognito could not be reached)."""
    settings = config.settings()
    if not (settings.cognito_issuer and settings.cognito_client_id):
        raise Unauthenticated("Customer accounts are not configured.")
    if len(raw) > MAX_TOKEN_LENGTH or raw.count(".") != 2:
        raise Unauthenticated("The sign-in token is not valid.")
    claims = _decode(raw)
    use = claims.get("token_use")
    if use not in ("id", "access") or (use == "access" and "aud" in claims) or (use == "id" and "client_id" in claims):
        raise Unauthenticated("The sign-in token is not valid.")
    if not _claims_valid(claims, use, settings.cognito_issuer, settings.cognito_client_id):
        raise Unauthenticated("The sign-in token is not valid or has expired.")
    if use == "id":
        email, verified = claims.get("email"), claims.get("email_verified")
        username = claims.get("cognito:username") or claims["sub"]
    else:
        attributes = _user_attributes(claims["sub"], raw)
        email, verified = attributes.get("email"), attributes.get("email_verified")
        username = claims.get("username") or claims["sub"]
    return SignedIn(sub=claims["sub"], username=username, token_use=use,
                    email=normalise_email(email) if isinstance(email, str) else None,
                    email_verified=verified is True or verified == "true")


def from_request(request) -> SignedIn:
    """The signed-in customer of `Authorization: Bearer <Cognito token>`. Raises Unauthenticated."""
    scheme, _, raw = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthenticated("Sign in: Authorization: Bearer <Cognito ID or access token>.")
    return verify(raw.strip())


def bearer_present(request) -> bool:
    return (request.headers.get("authorization") or "").lower().startswith("bearer ")


@lru_cache(maxsize=1)
def _cognito():
    import boto3

    return boto3.client("cognito-idp")


def _user_attributes(sub: str, access_token: str) -> dict:
    """The user's attributes (GetUser with their access token), cached per container for 5 minutes."""
    cached = _users.get(sub)
    if cached and time.monotonic() - cached[0] < USER_CACHE_SECONDS:
        return cached[1]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = _cognito().get_user(AccessToken=access_token)
    except ClientError as error:
        raise Unauthenticated("The sign-in token is not valid.") from error
    except BotoCoreError as error:
        raise UpstreamUnavailable("The sign-in service could not be reached; please retry.") from error
    attributes = {a["Name"]: a["Value"] for a in answer.get("UserAttributes", [])}
    _users[sub] = (time.monotonic(), attributes)
    return attributes


def delete_user(username: str) -> None:
    """Delete the Cognito user (AdminDeleteUser); a user already gone is fine (a retried erasure)."""
    from botocore.exceptions import ClientError

    try:
        _cognito().admin_delete_user(UserPoolId=config.settings().cognito_user_pool_id, Username=username)
    except ClientError as error:
        if error.response["Error"]["Code"] != "UserNotFoundException":
            raise
    _users.clear()


def invite(email: str) -> bool:
    """Invite a company buyer (AdminCreateUser: Cognito emails a temporary password; the shop vouches for the
    address, so it is marked verified). False when the user exists already or no pool is configured (they
    sign up or in as usual). Safe to repeat. Raises InvalidRequest (an address Cognito refuses),
    UpstreamUnavailable."""
    from botocore.exceptions import BotoCoreError, ClientError

    pool = config.settings().cognito_user_pool_id
    if not pool:
        return False
    try:
        _cognito().admin_create_user(UserPoolId=pool, Username=email, DesiredDeliveryMediums=["EMAIL"],
                                     UserAttributes=[{"Name": "email", "Value": email},
                                                     {"Name": "email_verified", "Value": "true"}])
        return True
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "UsernameExistsException":
            return False
        if code == "InvalidParameterException":  # an address Cognito does not take
            raise InvalidRequest("The sign-in service does not accept this email address.", param="email") from error
        raise UpstreamUnavailable("The sign-in service could not invite the buyer; please retry.") from error
    except BotoCoreError as error:
        raise UpstreamUnavailable("The sign-in service could not be reached; please retry.") from error


def reset() -> None:
    """Forget the cached key set, users and client (tests)."""
    _jwks.update(url=None, at=0.0, keys=None)
    _users.clear()
    _cognito.cache_clear()
