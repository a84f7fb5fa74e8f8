"""Idempotency-Keys kept on the item a keyed POST writes (pure; no I/O).

A keyed `POST /carts`, `POST /carts/{id}/lines` or checkout needs no record of its own: the cart (or
the order) it writes carries the key's fingerprint in the same conditional write, and the read of that
item, which the request makes anyway, finds it on a retry. See chalicelib/idempotency.py.
"""

import base64
import hashlib
import json
import zlib

from pydantic import BaseModel, ConfigDict

# How many keyed answers a cart keeps (newest last), and for how long at least: a retry comes within
# seconds; a storefront that sent KEPT_ANSWERS more keyed changes since has long had its answer.
KEPT_ANSWERS = 5
KEEP_SECONDS = 24 * 60 * 60


class Keyed(BaseModel):
    """A POST's Idempotency-Key: `scope` names the key within its caller, `fingerprint` the request
    (method, path, body); both are SHA-256 hex digests."""

    model_config = ConfigDict(frozen=True)

    scope: str
    fingerprint: str

    def derived_id(self, prefix: str) -> str:
        """An id that only this key (within its caller) yields: a retry of a create names the same item."""
        return f"{prefix}_{hashlib.sha256(f'{prefix}:{self.scope}'.encode()).hexdigest()[:32]}"


class KeptAnswer(Keyed):
    """The answer a keyed request got: status and JSON body (zlib-compressed, base64), and when."""

    status: int
    body: str
    at: int  # epoch seconds

    @classmethod
    def of(cls, keyed: Keyed, status: int, payload: dict, at: int) -> "KeptAnswer":
        packed = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 6)
        return cls(scope=keyed.scope, fingerprint=keyed.fingerprint, status=status,
                   body=base64.b64encode(packed).decode(), at=at)

    def payload(self) -> dict:
        return json.loads(zlib.decompress(base64.b64decode(self.body)))


def find(answers: list[KeptAnswer], keyed: Keyed, now: int) -> KeptAnswer | None:
    """The kept answer to `keyed`'s key (whatever its fingerprint: the caller compares), if still kept."""
    return next((a for a in reversed(answers) if a.scope == keyed.scope and a.at + KEEP_SECONDS > now), None)


def remember(answers: list[KeptAnswer], answer: KeptAnswer) -> list[KeptAnswer]:
    """`answers` with `answer` added: at most KEPT_ANSWERS, the oldest and those past KEEP_SECONDS dropped."""
    live = [a for a in answers if a.at + KEEP_SECONDS > answer.at and a.scope != answer.scope]
    return [*live, answer][-KEPT_ANSWERS:]
