"""Idempotency-Keys kept on the item a keyed POST writes (pure; no I/O).

A keyed `POST /carts`, `POST /carts/{id}/lines` or checkout needs no record of its own: the cart (or
the order) it writes carries the key's fingerprint in the same conditional write, and the read of that
item, which the request makes anyway, finds it on a retry. See chalicelib/idempotency.py.
"""

import base64
import hashlib
import json
import zlib

from pydantic import ConfigDict, PrivateAttr

from chalicelib.errors import IdempotencyKeyReused
from chalicelib.models.base import Model

# How many keyed answers a cart keeps (newest last), and for how long at least: a retry comes within
# seconds; a storefront that sent KEPT_ANSWERS more keyed changes since has long had its answer.
KEPT_ANSWERS = 3
KEEP_SECONDS = 24 * 60 * 60
# A small answer is kept as it is (compressing costs more time than it saves bytes); a larger one, a cart
# of many lines, deflated and base64-encoded behind this prefix (JSON never starts with it).
PACKED = "z:"
PACK_ABOVE = 1024


class Keyed(Model):
    """A POST's Idempotency-Key: `scope` names the key within its caller, `fingerprint` the request
    (method, path, body); both are SHA-256 hex digests."""

    model_config = ConfigDict(frozen=True)

    scope: str
    fingerprint: str

    def derived_id(self, prefix: str) -> str:
        """An id that only this key (within its caller) yields: a retry of a create names the same item."""
        return f"{prefix}_{hashlib.sha256(f'{prefix}:{self.scope}'.encode()).hexdigest()[:32]}"


class KeptAnswer(Keyed):
    """The answer a keyed request got: status and JSON body as sent (deflated when large), and when.
    One read back from a cart or order is `replayed`; `of` makes the one just sent (a _FreshAnswer).
    No private attributes here: pydantic would initialise them on every kept answer a cart read validates."""

    status: int
    body: str
    at: int  # epoch seconds

    @classmethod
    def of(cls, keyed: Keyed, status: int, text: str, at: int) -> "KeptAnswer":
        """The answer `text` (the JSON body) to `keyed`'s request, just made."""
        body = text if len(text) <= PACK_ABOVE else PACKED + base64.b64encode(zlib.compress(text.encode())).decode()
        kept = _FreshAnswer(scope=keyed.scope, fingerprint=keyed.fingerprint, status=status, body=body, at=at)
        kept._text = text
        return kept

    @property
    def replayed(self) -> bool:
        return True

    def text(self) -> str:
        """The JSON body exactly as it was sent."""
        if self.body.startswith(PACKED):
            return zlib.decompress(base64.b64decode(self.body[len(PACKED):])).decode()
        return self.body

    def payload(self) -> dict:
        return json.loads(self.text())


class _FreshAnswer(KeptAnswer):
    """The answer just made (not a replay), with its JSON text at hand; stored as a KeptAnswer."""

    _text: str = PrivateAttr()

    @property
    def replayed(self) -> bool:
        return False

    def text(self) -> str:
        return self._text


def find(answers: list[KeptAnswer], keyed: Keyed, now: int) -> KeptAnswer | None:
    """The kept answer to `keyed`'s key (whatever its fingerprint: the caller compares), if still kept."""
    return next((a for a in reversed(answers) if a.scope == keyed.scope and a.at + KEEP_SECONDS > now), None)


def remember(answers: list[KeptAnswer], answer: KeptAnswer) -> list[KeptAnswer]:
    """`answers` with `answer` added: at most KEPT_ANSWERS, the oldest and those past KEEP_SECONDS dropped."""
    live = [a for a in answers if a.at + KEEP_SECONDS > answer.at and a.scope != answer.scope]
    return [*live, answer][-KEPT_ANSWERS:]


def key_reused() -> IdempotencyKeyReused:
    """The 422 for a key this cart or order already answered with another request's body."""
    return IdempotencyKeyReused("This Idempotency-Key was already used for a different request; use a new key.",
                                param="Idempotency-Key")
