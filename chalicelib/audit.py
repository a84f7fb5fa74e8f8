"""The audit log: every admin write carries its record in the same DynamoDB transaction.

`require_admin` (chalicelib/handlers/common.py) opens an audit context for a non-GET admin route (who,
which route, which path); the HTTP middleware closes it when the view returns. While it is open,
chalicelib/repository/dynamo.py's `call` adds one audit Put to each write it makes: a TransactWriteItems
gets one more item, and a single PutItem/UpdateItem/DeleteItem (or a BatchWriteItem) becomes a
transaction of the write and its record, its ConditionalCheckFailed translated back as the single
write's error. A handler writes as it always did and is audited without knowing: a condition that fails
writes neither the change nor its record. An admin write route that wrote nothing to the table (an email
resent: a queue message) gets its record alone once it has succeeded, so every admin write is in the log.

before/after, per written item (keyed by the item's key, e.g. "ORDER#ord_1"; bookkeeping items such as
idempotency records are not audited, see SKIPPED), are the fields the write changes, with the item
read (one consistent read) just before the write:
- Put: the fields whose value differs from the stored item's (`before` null for a new item);
- Update: the attributes its UpdateExpression names; `after` is the value assigned (`#a = :v`), null
  for REMOVE, else the expression with its values written in (`"available + 3"`);
- Delete: the whole item before, null after.
"""

import json
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib import clock

SKIPPED = ("IDEMPOTENCY#", "VIEWS#", "SENT#", "SWEEP#", "AUDIT#", "COUNTER#")
MAX_JSON = 100_000  # characters of before/after each; a larger change is recorded as truncated
READS = {"GET", "HEAD", "OPTIONS"}
# An UpdateExpression's clauses (a placeholder such as `:add` or `#set` is not one).
CLAUSES = re.compile(r"(?<![:#\w])(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)
KEYS = re.compile(r"(GSI\d+)?(PK|SK)")  # the table's and its indexes' keys: the label names the item


@dataclass
class Context:
    actor: str     # "staff:ada@example.com", "key:erp"
    action: str    # the route: "POST /admin/orders/{order_id}/refunds"
    resource: str  # the path under /admin/: "orders/ord_1/refunds"
    recorded: bool = False  # a record was written with one of the request's writes


_current: ContextVar[Context | None] = ContextVar("audit", default=None)


def begin(actor: str, method: str, route: str, params: dict | None = None) -> None:
    """Open the audit context of an admin request (reads are not audited); `params` fill the route's
    template to name the resource."""
    if method.upper() in READS:
        _current.set(None)
        return
    path = re.sub(r"\{(\w+)\}", lambda m: str((params or {}).get(m.group(1), m.group(0))), route)
    resource = path.removeprefix("/admin/").strip("/")
    _current.set(Context(actor=actor, action=f"{method.upper()} {route}", resource=resource))


def end() -> None:
    _current.set(None)


def pending() -> Context | None:
    """The open context of an admin write whose view wrote nothing audited (e.g. an email resent):
    the middleware then writes its record alone once the view has succeeded."""
    context = _current.get()
    return context if context is not None and not context.recorded else None


def current() -> Context | None:
    return _current.get()


def label(key: dict) -> str:
    """An item's key as the record shows it: "ORDER#ord_1", or "PK SK" when SK is not the PK's kind."""
    pk, sk = str(key.get("PK", "")), str(key.get("SK", ""))
    return pk if sk == pk.split("#", 1)[0] else f"{pk} {sk}"


def audited(key: dict) -> bool:
    return not str(key.get("PK", "")).startswith(SKIPPED)


def _split(text: str, separator: str = ",") -> list[str]:
    """Split at `separator` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _rendered(expression: str, names: dict, values: dict) -> str:
    text = re.sub(r"#\w+", lambda m: names.get(m.group(0), m.group(0)), expression)
    return re.sub(r":\w+", lambda m: json.dumps(values.get(m.group(0)), default=str), text)


def _attribute(path: str, names: dict) -> str:
    top = re.split(r"[.\[]", path.strip(), maxsplit=1)[0]
    return names.get(top, top)


def update_fields(expression: str, names: dict, values: dict) -> dict:
    """{attribute: value after} of an UpdateExpression (values plain, names resolved)."""
    after: dict = {}
    clauses = re.split(CLAUSES, expression)
    for verb, body in zip(clauses[1::2], clauses[2::2], strict=False):
        verb = verb.upper()
        for part in _split(body):
            if verb == "SET":
                path, _, value = part.partition("=")
                value = value.strip()
                after[_attribute(path, names)] = (values.get(value) if re.fullmatch(r":\w+", value)
                                                  else _rendered(value, names, values))
            elif verb == "REMOVE":
                after[_attribute(part, names)] = None
            else:
                path, _, value = part.partition(" ")
                after[_attribute(path, names)] = f"{verb.lower()} {_rendered(value.strip(), names, values)}"
    return after


def applied(old: dict, expression: str, names: dict, values: dict) -> dict | None:
    """The item after an UpdateExpression that only assigns values (`#a = :v`), adds to or subtracts from a
    number (`#a = #a + :v`) or removes (`REMOVE #a`) top-level attributes; None for any other expression."""
    new = dict(old)
    clauses = re.split(CLAUSES, expression)
    for verb, body in zip(clauses[1::2], clauses[2::2], strict=False):
        for part in _split(body):
            if verb.upper() == "REMOVE" and re.fullmatch(r"#?\w+", part):
                new.pop(names.get(part, part), None)
                continue
            assigned = re.fullmatch(r"(#?\w+)\s*=\s*(?:(#?\w+)\s*([+-])\s*)?(:\w+)", part)
            if verb.upper() != "SET" or not assigned:
                return None
            target, source, sign, value = assigned.groups()
            name = names.get(target, target)
            if source is None:
                new[name] = values.get(value)
                continue
            current, amount = old.get(names.get(source, source)), values.get(value)
            if not (isinstance(current, int) and isinstance(amount, int)):
                return None
            new[name] = current + amount if sign == "+" else current - amount
    return {k: v for k, v in new.items() if v is not None}


def change(kind: str, old: dict | None, new: dict | None = None, fields: dict | None = None) -> tuple[dict, dict]:
    """(before, after) of one item's write: kind Put (`new` the item), Update (`fields` from
    update_fields) or Delete."""
    old = old or {}
    if kind == "Put":
        changed = sorted(k for k in set(old) | set(new or {})
                         if old.get(k) != (new or {}).get(k) and not KEYS.fullmatch(k))
        return ({k: old.get(k) for k in changed} if old else None), {k: (new or {}).get(k) for k in changed}
    if kind == "Update":
        return {k: old.get(k) for k in fields or {}}, dict(fields or {})
    return (old or None), None


def _json(value) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= MAX_JSON else json.dumps({"truncated": True, "characters": len(text)})


def record(context: Context, before: dict, after: dict) -> dict:
    """The audit item (plain) of one write under `context`; `before`/`after` keyed by item label."""
    context.recorded = True
    at = clock.now()
    audit_id = clock.new_id("aud", 12)
    stamp = clock.iso(at)
    # The key's time to the microsecond (`at`, from clock.now(), is to the second): records keep their order.
    precise = datetime.now(UTC).strftime("%H:%M:%S.%f")
    return {"PK": partition(stamp[:7]), "SK": f"{stamp[:11]}{precise}Z#{audit_id}", "id": audit_id,
            "actor": context.actor, "action": context.action, "resource": context.resource, "before": _json(before),
            "after": _json(after), "at": stamp}


def partition(month: str) -> str:
    """The audit records of one month ("2026-12") share a partition, newest last."""
    return f"AUDIT#{month}"
