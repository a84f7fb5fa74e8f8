"""chalicelib/rs256.py (the runtime's own RS256 verifier) against joserfc, a development dependency: what
joserfc signs verifies, and every forgery is refused by ours exactly where joserfc refuses it."""

import base64
import json
import time
import warnings

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey, RSAKey

from chalicelib import rs256

KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)  # same kid, foreign key
BIG = RSAKey.generate_key(4096, parameters={"kid": "k4"}, private=True)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # joserfc's SecurityWarning: the point of this key
    SMALL = RSAKey.generate_key(1024, parameters={"kid": "k0"}, private=True, auto_kid=False)
JWKS = {"keys": [KEY.as_dict(private=False), BIG.as_dict(private=False)]}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def claims() -> dict:
    return {"sub": "s", "iss": "i", "exp": int(time.time()) + 60, "token_use": "id"}


def joserfc_accepts(token: str, jwks: dict = JWKS) -> bool:
    try:
        jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
        return True
    except (JoseError, ValueError, TypeError):
        return False


def ours_accepts(token: str, jwks: dict = JWKS) -> bool:
    try:
        return rs256.decode(token, rs256.key_set(jwks))[1] == json.loads(
            base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    except rs256.BadToken:
        return False


def forgeries() -> dict[str, str]:
    good = jwt.encode({"alg": "RS256", "kid": "k1"}, claims(), KEY)
    header, payload, signature = good.split(".")
    raw_signature = base64.urlsafe_b64decode(signature + "==")
    flipped = bytes([raw_signature[0] ^ 1]) + raw_signature[1:]
    other_payload = b64(json.dumps(claims() | {"sub": "eve"}).encode())
    longer, above = b64(bytes(1) + raw_signature), b64(bytes([255]) * 256)
    no_kid, alg_none = b64(b'{"alg":"RS256"}'), b64(b'{"alg":"none","kid":"k1"}')
    return {
        "tampered payload": f"{header}.{other_payload}.{signature}",
        "flipped signature bit": f"{header}.{payload}.{b64(flipped)}",
        "truncated signature": f"{header}.{payload}.{signature[:-4]}",
        "signature with a byte less": f"{header}.{payload}.{b64(raw_signature[1:])}",
        "signature with a byte more": f"{header}.{payload}.{longer}",
        "empty signature": f"{header}.{payload}.",
        "signature above the modulus": f"{header}.{payload}.{above}",
        "foreign key, same kid": jwt.encode({"alg": "RS256", "kid": "k1"}, claims(), OTHER),
        "unknown kid": jwt.encode({"alg": "RS256", "kid": "nope"}, claims(), KEY),
        "no kid": f"{no_kid}.{payload}.{signature}",
        "alg none": f"{alg_none}.{payload}.",
        "alg HS256 keyed with the public modulus": jwt.encode(
            {"alg": "HS256", "kid": "k1"}, claims(), OctKey.import_key(KEY.as_dict()["n"]), algorithms=["HS256"]),
        "alg RS512": jwt.encode({"alg": "RS512", "kid": "k1"}, claims(), KEY, algorithms=["RS512"]),
        "alg PS256": jwt.encode({"alg": "PS256", "kid": "k1"}, claims(), KEY, algorithms=["PS256"]),
        "header not JSON": f"{b64(b'not json')}.{payload}.{signature}",
        "payload not base64url": f"{header}.{payload}*.{signature}",
        "two segments": f"{header}.{payload}",
        "four segments": f"{good}.x",
    }


def test_tokens_joserfc_signs_verify_with_ours():
    for key, kid in ((KEY, "k1"), (BIG, "k4")):
        token = jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims(), key)
        assert joserfc_accepts(token) and ours_accepts(token)


@pytest.mark.parametrize("case", sorted(forgeries()))
def test_forgeries_are_refused_where_joserfc_refuses(case):
    token = forgeries()[case]
    assert not joserfc_accepts(token)
    assert not ours_accepts(token)


def test_keys_below_2048_bits_are_not_used():
    token = jwt.encode({"alg": "RS256", "kid": "k0"}, claims(), SMALL)
    jwks = {"keys": [SMALL.as_dict(private=False) | {"kid": "k0"}]}
    assert rs256.key_set(jwks) == {}
    assert not ours_accepts(token, jwks)


def test_tokens_of_motos_cognito_verify():
    from moto.cognitoidp.models import load_resource

    private = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    public = load_resource("cognitoidp/resources/jwks-public.json")
    token = jwt.encode({"alg": "RS256", "kid": private.kid or "dummy"}, claims(), private)
    assert joserfc_accepts(token, public) and ours_accepts(token, public)
