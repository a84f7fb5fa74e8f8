"""Time and DynamoDB capacity of the AWS calls a block of code makes (bench only).

    with metered() as meter:
        api.post(f"/carts/{cart_id}/checkout")
    meter.aws_seconds, meter.read_units, meter.write_units, meter.by_operation

`install()` wraps `botocore.client.BaseClient._make_api_call`, which every call of every client goes
through (retries included), so `aws_seconds` is the wall time spent inside AWS calls: botocore's
serialisation, the request, moto's work and the parsing of the answer. Code time is the rest.

Two exceptions make the floor and the app comparable (README, "Against the floor"):

- *boto3's resource transformation* (boto3/dynamodb/transform.py): a `Table` resource, as the floor
  uses, registers hooks on its client's events (`provide-client-params` copies the parameters,
  `before-parameter-build` serialises them, `after-call` deserialises the answer's items) that run
  inside `_make_api_call`. They are the floor's own (de)serialisation, the work our
  `dynamo.to_item`/`from_item` do outside the call, so their time is taken out of `aws_seconds` and
  kept in `transform_seconds`: it counts as own time, as ours does. The hooks are wrapped at import
  of this module, so a resource created after it is timed.
- *the harness*: `app_seconds` is the wall time inside `chalice.app.Chalice.__call__` (what the Lambda
  runtime calls), so own time without chalice.test's event, context and route matching over every
  route can be told apart from own time through chalice.test (`Sample.own_in_app`).
Stripe calls (the provider's HTTP exchanges, and the bench's own through `requests`) are timed the
same way into `http_seconds`.

**Capacity units** are estimated, because moto does not return `ConsumedCapacity` reliably. The item
sizes are real: each written item is read back from the in-process moto backend before and after
the call (outside the timed part; the time the meter itself takes is kept apart in
`meter_seconds`), and read items are taken from the answer. The DynamoDB on-demand rules applied:

- item size: per attribute, its name's UTF-8 length plus its value's (string: UTF-8 length; number:
  1 byte per two significant digits + 1; boolean and null: 1; list and map: 3 + 1 per element +
  the elements, map keys counted like names);
- GetItem / BatchGetItem: per item ceil(size / 4 KB) read units (a missing item costs 1), halved
  for an eventually consistent read;
- Query: ceil(sum of the returned items' sizes / 4 KB), at least 1, halved when eventually
  consistent (every GSI query is);
- PutItem / UpdateItem / DeleteItem: ceil(max(size before, size after) / 1 KB) write units, at
  least 1; a write refused by its condition still costs ceil(size of the stored item / 1 KB), at
  least 1;
- TransactWriteItems: twice that for every action (a ConditionCheck counts as a write of the item);
- each global secondary index the item is in (before or after) costs the same again at the
  standard rate: an update in place ceil(max / 1 KB), a key change a delete plus a put.
"""

import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from boto3.dynamodb import transform as _transform
from botocore.client import BaseClient
from botocore.exceptions import ClientError

KB = 1024
READ_UNIT = 4 * KB

_active: list["Meter"] = []
_original = BaseClient._make_api_call
_transformed = [0.0]  # seconds spent in boto3's resource transformation hooks, ever (see _timed_transform)


@dataclass
class Meter:
    aws_seconds: float = 0.0
    http_seconds: float = 0.0
    http_calls: int = 0
    meter_seconds: float = 0.0
    transform_seconds: float = 0.0
    app_seconds: float = 0.0
    read_units: float = 0.0
    write_units: float = 0.0
    calls: Counter = field(default_factory=Counter)

    def total_calls(self) -> int:
        return sum(self.calls.values())


# --- item sizes ------------------------------------------------------------------------------------


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    if "e" in digits.lower():
        digits = digits.lower().split("e")[0]
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict) -> int:
    """The size of one DynamoDB-JSON value ({"S": ...}, {"N": ...}, {"M": {...}}...)."""
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(raw) if isinstance(raw, bytes | bytearray) else math.ceil(len(raw) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in raw)
    if kind == "NS":
        return sum(_number_size(v) for v in raw)
    if kind == "BS":
        return sum(len(v) for v in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict | None) -> int:
    """The size of a DynamoDB-JSON item in bytes (0 for None)."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(before: int, after: int) -> int:
    return max(1, math.ceil(max(before, after) / KB))


def read_units(size: int) -> int:
    return max(1, math.ceil(size / READ_UNIT))


# --- reading items back from moto -----------------------------------------------------------------


def _table(client, name: str):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name].get_table(name)


def _stored(client, table_name: str, key: dict) -> dict | None:
    """The item stored under `key` (DynamoDB JSON, keys included), straight from moto's backend."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _table(client, table_name)
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    item = table.get_item(DynamoType(key[table.hash_key_attr]), range_key)
    return _plain(item.to_json()["Attributes"]) if item is not None else None


def _plain(value):
    """moto's to_json() may leave DynamoType objects inside lists and maps."""
    if hasattr(value, "to_regular_json"):
        return value.to_regular_json()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _indexes(client, table_name: str) -> list[tuple[str, str | None]]:
    table = _table(client, table_name)
    found = []
    for index in table.global_indexes:
        keys = {k["KeyType"]: k["AttributeName"] for k in index.schema}
        found.append((keys["HASH"], keys.get("RANGE")))
    return found


def _writes(operation: str, params: dict) -> list[tuple[str, dict, str]]:
    """(table, key, kind) of every item a write call targets; kind is "write" or "check"."""
    def key_of(table: str, item: dict) -> dict:
        return {name: item[name] for name in ("PK", "SK") if name in item}

    if operation in ("PutItem",):
        return [(params["TableName"], key_of(params["TableName"], params["Item"]), "write")]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(params["TableName"], params["Key"], "write")]
    if operation == "TransactWriteItems":
        targets = []
        for action in params["TransactItems"]:
            (kind, body), = action.items()
            key = key_of(body["TableName"], body["Item"]) if kind == "Put" else body["Key"]
            targets.append((body["TableName"], key, "check" if kind == "ConditionCheck" else "write"))
        return targets
    if operation == "BatchWriteItem":
        targets = []
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    targets.append((table, key_of(table, request["PutRequest"]["Item"]), "write"))
                else:
                    targets.append((table, request["DeleteRequest"]["Key"], "write"))
        return targets
    return []


def _index_units(indexes, before: dict | None, after: dict | None) -> int:
    units = 0
    for hash_name, range_name in indexes:
        old, new = _index_key(before, hash_name, range_name), _index_key(after, hash_name, range_name)
        if old is None and new is None:
            continue
        if old == new:
            units += write_units(item_size(before), item_size(after))
        else:
            units += write_units(item_size(before), 0) if old else 0
            units += write_units(0, item_size(after)) if new else 0
    return units


def _index_key(item: dict | None, hash_name: str, range_name: str | None):
    if not item or hash_name not in item or (range_name and range_name not in item):
        return None
    return (str(item[hash_name]), str(item.get(range_name)) if range_name else None)


def _write_capacity(client, operation: str, params: dict, before: list, failed: bool) -> float:
    transactional = operation == "TransactWriteItems"
    units = 0.0
    for (table, key, kind), old in zip(_writes(operation, params), before, strict=True):
        new = old if failed or kind == "check" else _stored(client, table, key)
        base = write_units(item_size(old), item_size(new))
        units += base * (2 if transactional else 1)
        if not failed and new != old:
            units += _index_units(_indexes(client, table), old, new)
    return units


def _read_capacity(operation: str, params: dict, response: dict) -> float:
    if operation == "GetItem":
        factor = 1 if params.get("ConsistentRead") else 0.5
        return read_units(item_size(response.get("Item"))) * factor
    if operation == "BatchGetItem":
        units = 0.0
        for table, request in params["RequestItems"].items():
            factor = 1 if request.get("ConsistentRead") else 0.5
            found = response.get("Responses", {}).get(table, [])
            unprocessed = len(response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
            missing = len(request["Keys"]) - len(found) - unprocessed
            units += (sum(read_units(item_size(item)) for item in found) + max(missing, 0)) * factor
        return units
    if operation in ("Query", "Scan"):
        factor = 1 if params.get("ConsistentRead") and not params.get("IndexName") else 0.5
        return read_units(sum(item_size(item) for item in response.get("Items", []))) * factor
    return 0.0


# --- the wrapper ---------------------------------------------------------------------------------


def _metered_call(self, operation_name, api_params):
    if not _active:
        return _original(self, operation_name, api_params)
    started = time.perf_counter()
    service = self.meta.service_model.service_name
    counting = service == "dynamodb"
    targets = _writes(operation_name, api_params) if counting else []
    before = [_stored(self, table, key) for table, key, _ in targets]
    called, transformed = time.perf_counter(), _transformed[0]
    error = None
    try:
        response = _original(self, operation_name, api_params)
    except ClientError as failure:
        error, response = failure, None
    returned = time.perf_counter()
    transformed = _transformed[0] - transformed  # the resource's (de)serialisation: own time, not AWS
    reads = writes = 0.0
    if counting:
        if targets and (error is None or _condition_failed(error)):
            writes = _write_capacity(self, operation_name, api_params, before, failed=error is not None)
        elif error is None:
            reads = _read_capacity(operation_name, api_params, response)
    finished = time.perf_counter()
    for meter in _active:
        meter.aws_seconds += returned - called - transformed
        meter.transform_seconds += transformed
        meter.meter_seconds += (called - started) + (finished - returned)
        meter.read_units += reads
        meter.write_units += writes
        meter.calls[(service, operation_name)] += 1
    if error is not None:
        raise error
    return response


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("ConditionalCheckFailedException",
                                                            "TransactionCanceledException")


def _timed_http(original):
    def request(self, *args, **kwargs):
        if not _active:
            return original(self, *args, **kwargs)
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            for meter in _active:
                meter.http_seconds += elapsed
                meter.http_calls += 1

    request.metered = True
    return request


def _timed_transform(original):
    def hook(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            _transformed[0] += time.perf_counter() - started

    hook.metered = True
    return hook


def _timed_app(original):
    def call(self, event, context):
        if not _active:
            return original(self, event, context)
        started = time.perf_counter()
        try:
            return original(self, event, context)
        finally:
            elapsed = time.perf_counter() - started
            for meter in _active:
                meter.app_seconds += elapsed

    call.metered = True
    return call


def _install_hooks() -> None:
    """boto3's resource hooks are bound when a resource is created: wrap them before any is."""
    import chalice.app

    for name in ("inject_condition_expressions", "inject_attribute_value_input", "inject_attribute_value_output"):
        if not getattr(getattr(_transform.TransformationInjector, name), "metered", False):
            setattr(_transform.TransformationInjector, name,
                    _timed_transform(getattr(_transform.TransformationInjector, name)))
    if not getattr(_transform.copy_dynamodb_params, "metered", False):
        _transform.copy_dynamodb_params = _timed_transform(_transform.copy_dynamodb_params)
    if not getattr(chalice.app.Chalice.__call__, "metered", False):
        chalice.app.Chalice.__call__ = _timed_app(chalice.app.Chalice.__call__)


_install_hooks()


def install() -> None:
    """Wrap botocore's API call, the Stripe client's HTTP exchange (chalicelib/payments/stripe_http.py)
    and requests' HTTP request (the bench's own calls to localstripe). Safe to repeat."""
    import requests

    from chalicelib.payments import stripe_http

    BaseClient._make_api_call = _metered_call
    if not getattr(requests.Session.request, "metered", False):
        requests.Session.request = _timed_http(requests.Session.request)
    if not getattr(stripe_http.Client._send, "metered", False):
        stripe_http.Client._send = _timed_http(stripe_http.Client._send)


@contextmanager
def metered() -> Iterator[Meter]:
    """Time and capacity of the AWS calls made inside the block (blocks may nest)."""
    install()
    meter = Meter()
    _active.append(meter)
    try:
        yield meter
    finally:
        _active.remove(meter)
