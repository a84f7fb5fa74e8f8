"""Gift card codes: made from a random seed with the GIFT_CARD_SECRET, looked up by a keyed hash.

A card stores a random `seed` (128 bits), never its code. The code is HMAC-SHA256(secret, seed) as 20
characters of an unambiguous base32 alphabet (100 bits), shown once when the shop issues a card and in
the recipient's email; the email consumer makes it again from the seed, so a redelivered or scheduled
email can still carry it. The card's id is `gc_` + a keyed hash of the code: a lookup by code is one
GetItem, and the table alone (without the secret) gives neither a code nor a way to test one.
"""

import hashlib
import hmac
import secrets

from chalicelib import config

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
LENGTH = 20


def _secret() -> bytes:
    value = config.secret("GIFT_CARD_SECRET")
    if not value:
        raise RuntimeError("GIFT_CARD_SECRET is not set")
    return value.encode()


def new_seed() -> str:
    return secrets.token_hex(16)


def code_for(seed: str) -> str:
    """The card's code, in groups of four: `ABCD-EFGH-...`."""
    digest = int.from_bytes(hmac.new(_secret(), b"code:" + seed.encode(), hashlib.sha256).digest(), "big")
    chars = []
    for _ in range(LENGTH):
        digest, index = divmod(digest, len(ALPHABET))
        chars.append(ALPHABET[index])
    raw = "".join(chars)
    return "-".join(raw[i:i + 4] for i in range(0, LENGTH, 4))


def normalise(code: str) -> str | None:
    """The code as typed (any case, spaces or dashes) in its canonical form, or None when it cannot be one."""
    raw = "".join(ch for ch in code.upper() if ch not in " -")
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return "-".join(raw[i:i + 4] for i in range(0, LENGTH, 4))


def card_id_for(code: str) -> str | None:
    """The id of the card with this code (a keyed hash of it), None for a malformed code."""
    canonical = normalise(code)
    if canonical is None:
        return None
    return "gc_" + hmac.new(_secret(), b"id:" + canonical.encode(), hashlib.sha256).hexdigest()[:32]


def last4(code: str) -> str:
    return code.replace("-", "")[-4:]
