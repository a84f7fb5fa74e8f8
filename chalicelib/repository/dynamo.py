"""The boto3 client, item (de)serialisation, cursors and the translation of AWS errors."""

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import audit, config
from chalicelib.errors import InvalidRequest, UpstreamUnavailable

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Errors that mean "AWS could not do it now": the client may safely retry the whole request.
RETRYABLE = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
             "InternalServerError", "ServiceUnavailable", "TransactionInProgressException"}


@lru_cache(maxsize=1)
def client():
    # Standard retry mode retries throttling with back-off; timeouts stay well inside API Gateway's 29 s.
    return boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2,
                                                  read_timeout=config.settings().dynamodb_read_timeout_seconds))


def table() -> str:
    return config.settings().table_name


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def _native(value):
    if isinstance(value, float):
        raise TypeError("floats are not stored; money and counts are integers")
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_native(v) for v in value]
    return value


def _serialized(value) -> dict:
    """boto3's TypeSerializer for the types we store, without its per-value Decimal context and type
    dispatch (a third of a cart change's own time); anything else goes to it. None in a map is left out."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if kind is dict:
        return {"M": {k: _serialized(v) for k, v in value.items() if v is not None}}
    if kind is list or kind is tuple:
        return {"L": [_serialized(v) for v in value]}
    if value is None:
        return {"NULL": True}
    if kind is float:
        raise TypeError("floats are not stored; money and counts are integers")
    return _serializer.serialize(_native(value))


def _deserialized(value: dict):
    """The plain value of a DynamoDB value: numbers as int (float when fractional), sets as lists.
    A value has exactly one type key: membership tests are cheaper than unpacking it (a cart's read
    is about a third faster)."""
    if "S" in value:
        return value["S"]
    if "N" in value:
        raw = value["N"]
        try:
            return int(raw)
        except ValueError:
            return _plain(Decimal(raw))
    if "M" in value:
        return {k: _deserialized(v) for k, v in value["M"].items()}
    if "L" in value:
        return [_deserialized(v) for v in value["L"]]
    if "BOOL" in value:
        return value["BOOL"]
    if "NULL" in value:
        return None
    return _plain(_deserializer.deserialize(value))


def to_item(data: dict) -> dict:
    """A plain dict as a DynamoDB item; None values are left out."""
    return {k: _serialized(v) for k, v in data.items() if v is not None}


def to_value(value) -> dict:
    return _serialized(value)


def from_item(item: dict | None) -> dict | None:
    if item is None:
        return None
    return {k: _deserialized(v) for k, v in item.items()}


def values(**kwargs) -> dict:
    """ExpressionAttributeValues from keyword arguments: values(qty=2) -> {":qty": {"N": "2"}}."""
    return {f":{k}": to_value(v) for k, v in kwargs.items()}


AUDITABLE = {"put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"}


def call(operation: str, **kwargs) -> dict:
    """Call a DynamoDB API, turning outages and throttling into a retryable 502. While an admin request's
    audit context is open, a write carries its audit record in the same transaction (repository/audited.py)."""
    if operation in AUDITABLE and audit.current() is not None:
        from chalicelib.repository import audited

        return audited.call(operation, kwargs)
    return raw_call(operation, **kwargs)


def transaction_room() -> int:
    """How many actions a transaction may have now: DynamoDB's 100, less the audit record's one while an
    admin request's audit context is open."""
    return 100 - (audit.current() is not None)


def raw_call(operation: str, **kwargs) -> dict:
    """`call` without the audit."""
    try:
        return getattr(client(), operation)(**kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] in RETRYABLE:
            raise UpstreamUnavailable("The database is busy; please retry.") from error
        raise
    except BotoCoreError as error:
        raise UpstreamUnavailable("The database could not be reached; please retry.") from error


def error_code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


def cancellation_codes(error: ClientError) -> list[str]:
    """Per-item reasons of a cancelled transaction ("None", "ConditionalCheckFailed", ...)."""
    return [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]


@dataclass(frozen=True)
class Piece:
    """One named action of a transaction ("order", "cart", "stock:<sku>", "discount"...)."""

    name: str
    action: dict


def put(name: str, item: dict, condition: str | None = None, **condition_values) -> Piece:
    """A transaction piece writing `item` (key included), if `condition` holds."""
    put_item = {"TableName": table(), "Item": to_item(item)}
    if condition:
        put_item["ConditionExpression"] = condition
    if condition_values:
        put_item["ExpressionAttributeValues"] = values(**condition_values)
    return Piece(name, {"Put": put_item})


def update(name: str, key: dict, expression: str, condition: str | None = None,
           names: dict[str, str] | None = None, **expression_values) -> Piece:
    """A transaction piece updating the item at `key`, if `condition` holds."""
    update_item = {"TableName": table(), "Key": to_item(key), "UpdateExpression": expression}
    if condition:
        update_item["ConditionExpression"] = condition
    if names:
        update_item["ExpressionAttributeNames"] = names
    if expression_values:
        update_item["ExpressionAttributeValues"] = values(**expression_values)
    return Piece(name, {"Update": update_item})


def check(name: str, key: dict, condition: str, names: dict[str, str] | None = None, **condition_values) -> Piece:
    """A transaction piece writing nothing: the transaction is cancelled unless `condition` holds on the
    item at `key` (a ConditionCheck)."""
    check_item = {"TableName": table(), "Key": to_item(key), "ConditionExpression": condition}
    if names:
        check_item["ExpressionAttributeNames"] = names
    if condition_values:
        check_item["ExpressionAttributeValues"] = values(**condition_values)
    return Piece(name, {"ConditionCheck": check_item})


def delete(name: str, key: dict, condition: str | None = None, **condition_values) -> Piece:
    """A transaction piece deleting the item at `key`, if `condition` holds (without one, nothing
    happens when it is gone already)."""
    delete_item = {"TableName": table(), "Key": to_item(key)}
    if condition:
        delete_item["ConditionExpression"] = condition
    if condition_values:
        delete_item["ExpressionAttributeValues"] = values(**condition_values)
    return Piece(name, {"Delete": delete_item})


class Cancelled(Exception):
    """A transaction DynamoDB cancelled, with each piece's reason by the piece's name."""

    def __init__(self, reasons: dict[str, str]):
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons

    def failed(self, name: str) -> bool:
        """Whether the piece `name`'s condition failed."""
        return self.reasons.get(name) == "ConditionalCheckFailed"

    def first_failed(self, prefix: str) -> str | None:
        """The name of the first piece starting with `prefix` whose condition failed."""
        return next((name for name, reason in self.reasons.items()
                     if name.startswith(prefix) and reason == "ConditionalCheckFailed"), None)

    @property
    def conflict(self) -> bool:
        """Another transaction held one of the items; reading again and retrying may succeed."""
        return "TransactionConflict" in self.reasons.values()


def transact(pieces: list[Piece]) -> None:
    """Write all pieces or none. Raises Cancelled naming each piece's reason (the callers map the
    names to domain errors), UpstreamUnavailable when DynamoDB is busy or unreachable."""
    names = [piece.name for piece in pieces]
    if len(set(names)) != len(names):
        raise ValueError(f"transaction pieces need distinct names: {names}")
    try:
        call("transact_write_items", TransactItems=[piece.action for piece in pieces])
    except ClientError as error:
        if error_code(error) != "TransactionCanceledException":
            raise
        raise Cancelled(dict(zip(names, cancellation_codes(error), strict=False))) from error


def get(key: dict, consistent: bool = True) -> dict | None:
    return from_item(call("get_item", TableName=table(), Key=to_item(key), ConsistentRead=consistent).get("Item"))


def batch_get(keys: list[dict], consistent: bool = True, projection: str | None = None) -> list[dict]:
    """All items found for `keys` (any number), following UnprocessedKeys; only the attributes of
    `projection` (a ProjectionExpression of plain names) when given."""
    found: list[dict] = []
    unique = list({tuple(sorted(k.items())): k for k in keys}.values())  # keys are flat strings
    shape = {"ProjectionExpression": projection} if projection else {}
    for start in range(0, len(unique), 100):
        request = {table(): {"Keys": [to_item(k) for k in unique[start:start + 100]], "ConsistentRead": consistent}
                   | shape}
        for _ in range(10):
            answer = call("batch_get_item", RequestItems=request)
            found.extend(from_item(item) for item in answer["Responses"].get(table(), []))
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise UpstreamUnavailable("The database is busy; please retry.")
    return found


def encode_cursor(last_key: dict | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(from_item(last_key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, key_names: set[str] | None = None, **expected) -> dict | None:
    """The ExclusiveStartKey a cursor stands for; 400 if it is malformed or from another listing.
    `key_names`, when given, are exactly the attributes the start key must have (DynamoDB fails a
    query whose start key lacks or adds key attributes, which would otherwise be a 500)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if (not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values())
            or any(key.get(k) != v for k, v in expected.items()) or len(key) > 6
            or (key_names is not None and set(key) != key_names)):
        raise InvalidRequest("The cursor is not valid for this listing.", param="cursor")
    return to_item(key)


def query_page(index: str | None, pk_name: str, pk_value: str, limit: int, cursor: str | None,
               newest_first: bool = False, sk_condition: str = "", **sk_values) -> tuple[list[dict], str | None]:
    kwargs = {
        "TableName": table(),
        "KeyConditionExpression": f"#pk = :pk{sk_condition}",
        "ExpressionAttributeNames": {"#pk": pk_name} | ({"#sk": pk_name.replace("PK", "SK")} if sk_condition else {}),
        "ExpressionAttributeValues": values(pk=pk_value, **sk_values),
        "Limit": limit,
        "ScanIndexForward": not newest_first,
    }
    if index:
        kwargs["IndexName"] = index
    key_names = {"PK", "SK"} | ({pk_name, pk_name.replace("PK", "SK")} if index else set())
    start = decode_cursor(cursor, key_names=key_names, **{pk_name: pk_value})
    if start:
        kwargs["ExclusiveStartKey"] = start
    answer = call("query", **kwargs)
    return [from_item(item) for item in answer["Items"]], encode_cursor(answer.get("LastEvaluatedKey"))


def query_all(index: str | None, pk_name: str, pk_value: str, page: int = 100, sk_condition: str = "",
              **sk_values) -> Iterator[dict]:
    """Every item of a partition (or of its `sk_condition` range), in key order, read `page` items a Query."""
    cursor = None
    while True:
        items, cursor = query_page(index, pk_name, pk_value, page, cursor, sk_condition=sk_condition, **sk_values)
        yield from items
        if not cursor:
            return
