"""A minimal RS256 JWT verifier on the standard library (RFC 7515/7518, RSASSA-PKCS1-v1_5 of RFC 8017).

Only what Cognito tokens need, so the deployment package carries no joserfc/cryptography (~5 MB zipped,
~250 ms of cold import): public keys from a JWKS (`kty` RSA, modulus of at least 2048 bits), compact JWS
with `alg` RS256 and a `kid` of the set, the signature checked as RFC 8017 8.2.2 says (length = the
modulus's, `s < n`, `m = s^e mod n`, compared in constant time with the EMSA-PKCS1-v1_5 encoding of
SHA-256(header.payload)). Anything else raises BadToken; the claims are the caller's to check.
tests/test_rs256.py cross-checks it against joserfc (a development dependency only).
"""

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

MIN_KEY_BITS = 2048
# DER of DigestInfo{sha256, NULL} without the digest (RFC 8017 9.2 note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class BadToken(ValueError):
    """The token or key set is malformed, or the signature does not verify."""


class UnknownKey(BadToken):
    """The token's `kid` is not in the key set (the set may have rotated: fetch it again)."""


@dataclass(frozen=True)
class PublicKey:
    n: int
    e: int
    size: int  # bytes of the modulus


def b64url_decode(value: str) -> bytes:
    if not _B64URL.match(value) or len(value) % 4 == 1:
        raise BadToken("not base64url")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _integer(value) -> int:
    if not isinstance(value, str) or not value:
        raise BadToken("bad key parameter")
    return int.from_bytes(b64url_decode(value), "big")


def key_set(jwks: dict) -> dict[str, PublicKey]:
    """`kid` -> key of a JWKS document's usable RS256 signing keys (others are skipped)."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise BadToken("not a key set")
    found = {}
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str) \
                or jwk.get("alg", "RS256") != "RS256" or jwk.get("use", "sig") != "sig":
            continue
        n, e = _integer(jwk.get("n")), _integer(jwk.get("e"))
        if n.bit_length() < MIN_KEY_BITS or e < 3 or e % 2 == 0:
            continue
        found[jwk["kid"]] = PublicKey(n=n, e=e, size=(n.bit_length() + 7) // 8)
    return found


def _json_object(segment: str) -> dict:
    try:
        value = json.loads(b64url_decode(segment))
    except (UnicodeDecodeError, ValueError) as error:
        raise BadToken("not JSON") from error
    if not isinstance(value, dict):
        raise BadToken("not a JSON object")
    return value


def decode(raw: str, keys: dict[str, PublicKey]) -> tuple[dict, dict]:
    """(header, claims) of a compact JWS signed RS256 by one of `keys`. Raises BadToken, UnknownKey."""
    parts = raw.split(".")
    if len(parts) != 3:
        raise BadToken("not a compact JWS")
    header, claims = _json_object(parts[0]), _json_object(parts[1])
    if header.get("alg") != "RS256" or "crit" in header or header.get("b64", True) is not True:
        raise BadToken("algorithm not allowed")
    key = keys.get(header.get("kid")) if isinstance(header.get("kid"), str) else None
    if key is None:
        raise UnknownKey("unknown key id")
    signature = b64url_decode(parts[2])
    if len(signature) != key.size:
        raise BadToken("bad signature length")
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        raise BadToken("bad signature")
    encoded = pow(s, key.e, key.n).to_bytes(key.size, "big")
    digest = hashlib.sha256(f"{parts[0]}.{parts[1]}".encode("ascii")).digest()
    padding = key.size - len(SHA256_DIGEST_INFO) - len(digest) - 3
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + SHA256_DIGEST_INFO + digest
    if not hmac.compare_digest(encoded, expected):
        raise BadToken("bad signature")
    return header, claims
