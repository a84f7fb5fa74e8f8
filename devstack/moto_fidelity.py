"""Where moto 5.2's DynamoDB departs from DynamoDB in ways that cost O(table) per request, fixed at the
start of the devstack's moto server (as `devstack/localstripe_fidelity.py` does for localstripe).

- TransactWriteItems: moto deep-copies every table a transaction names (items, indexes and the whole
  stream shard) before running it, to put the copy back when the transaction is cancelled. Each
  checkout then costs time and memory in proportion to the table (1.6 s at 5,000 items; the moto
  server grew by ~80 MB per purchase). Here, as DynamoDB documents, every condition is checked first
  against the current items; if any fails the transaction is cancelled with one
  CancellationReason per action, by position (`ConditionalCheckFailed`, with the old item when
  `ReturnValuesOnConditionCheckFailure` is ALL_OLD, `None` for the others), and nothing is written;
  otherwise every write is applied. Two actions on one item are a ValidationException before
  anything is checked; more than 100 actions likewise. Should a write still fail half-way (an
  invalid update expression), the items already written and their stream records are put back.
- Query on the table's key looks only at the queried partition instead of sorting every item of the
  table first; on an index moto still looks at every item, but no longer sorts them all first (the
  query sorts its matches itself, so the order is the same).
- Streams (devstack/moto_streams.py): records trimmed after 24 h as DynamoDB trims them, and locally
  once the pump has moved past them; shard iterators expire after 15 minutes, as in DynamoDB (moto
  kept every record and every iterator it ever made, one per GetRecords).
- SES: moto keeps every message sent, for its own tests to read back; SES keeps none. The devstack
  writes each email to its outbox, so its moto server keeps only the last SES_KEPT_MESSAGES (100).
- Answers: moto 5.2 writes every response by walking the service model shape by shape (two thirds of
  the moto server's CPU under the soak run, ~50 ms per item-heavy answer). DynamoDB's JSON protocol
  sends the result as it is, so the item operations and GetRecords are written with `json.dumps`
  (timestamps as epoch seconds, binary as base64, as the model-driven writer does). With
  MOTO_FIDELITY_CHECK_ANSWERS=1 both are computed and compared (tests/test_moto_fidelity.py).

The devstack's one DynamoDB lock (devstack/motoserver.py) stays: it is what makes a transaction
isolated from other writers, as DynamoDB's are.
"""

import copy
import os
import threading

MAX_TRANSACTION_ITEMS = 100
SES_KEPT_MESSAGES = 100
_installed = False
_install_lock = threading.Lock()


def install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        from moto.dynamodb import models
        from moto.dynamodb.models import table as tables
        from moto.dynamodbstreams import models as stream_models

        from devstack import moto_streams

        models.DynamoDBBackend.transact_write_items = transact_write_items
        _partition_query(tables.Table)
        moto_streams.trimmed_stream(tables.StreamShard, stream_models)
        _plain_json_answers()
        _few_sent_emails()
        _installed = True


# --- TransactWriteItems ---------------------------------------------------------------------------

def _key_of(table, kind: str, body: dict) -> dict:
    if kind != "Put":
        return body["Key"]
    attrs = body["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _check(backend, kind: str, body: dict):
    """The action's reason to cancel, as (code, message, old item) or (None, None, None)."""
    from moto.dynamodb.comparisons import get_filter_expression as condition_of
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    condition = body.get("ConditionExpression")
    if condition is None:
        return None, None, None
    current = backend.get_item(body["TableName"], _key_of(backend.get_table(body["TableName"]), kind, body))
    test = condition_of(condition, body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues"))
    if test.expr(current):
        return None, None, None
    old = current.to_json()["Attributes"] if current and body.get(
        "ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
    return "ConditionalCheckFailed", ConditionalCheckFailed().message, old


def transact_write_items(self, transact_items: list[dict]) -> None:
    """DynamoDBBackend.transact_write_items: check every condition, then apply every write."""
    from moto.dynamodb.exceptions import (
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > MAX_TRANSACTION_ITEMS:
        raise TooManyTransactionsException()
    actions, targets = [], set()
    for action in transact_items:
        if len(action) > 1:
            raise TransactWriteSingleOpException()
        kind, body = next(iter(action.items()))
        if kind not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise MockValidationException(f"Unsupported transaction operation: {kind}")
        actions.append((kind, body))
        try:
            target = (body["TableName"], str(sorted(_key_of(self.get_table(body["TableName"]), kind, body).items())))
        except Exception:  # noqa: S112 - an unknown table or a missing key is this action's reason below
            continue
        if target in targets:
            raise MultipleTransactionsException()
        targets.add(target)

    reasons = []
    for kind, body in actions:
        try:
            reasons.append(_check(self, kind, body))
        except MockValidationException:
            raise
        except Exception as error:  # as moto: the action's reason is the error's name
            reasons.append((type(error).__name__, str(getattr(error, "message", error)), None))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    _apply(self, actions)


def _apply(backend, actions: list[tuple[str, dict]]) -> None:
    """Apply every write; if one still fails, put back what was written (items and stream records)."""
    from moto.dynamodb.exceptions import MockValidationException, TransactionCanceledException

    undo, streams = [], {}
    for position, (kind, body) in enumerate(actions):
        if kind == "ConditionCheck":
            continue
        table = backend.get_table(body["TableName"])
        key = _key_of(table, kind, body)
        hash_key, range_key = backend.get_keys_value(table, key)
        undo.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        if table.stream_shard is not None and id(table) not in streams:
            streams[id(table)] = (table, len(table.stream_shard.items))
        names, values = body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues")
        try:
            if kind == "Put":
                backend.put_item(body["TableName"], body["Item"], expression_attribute_names=names,
                                 expression_attribute_values=values)
            elif kind == "Delete":
                backend.delete_item(body["TableName"], key, expression_attribute_names=names,
                                    expression_attribute_values=values)
            else:
                backend.update_item(body["TableName"], key, update_expression=body["UpdateExpression"],
                                    expression_attribute_names=names, expression_attribute_values=values)
        except Exception as error:
            for table_, hash_, range_, item in reversed(undo):
                _restore(table_, hash_, range_, item)
            for table_, length in streams.values():
                del table_.stream_shard.items[length:]
            if isinstance(error, MockValidationException):
                raise
            reasons = [(None, None, None)] * len(actions)
            reasons[position] = (type(error).__name__, str(getattr(error, "message", error)), None)
            raise TransactionCanceledException(reasons) from error


def _restore(table, hash_key, range_key, item) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    partition = table.items.setdefault(hash_key, {})
    if item is None:
        partition.pop(range_key, None)
        if not partition:
            table.items.pop(hash_key, None)
    else:
        partition[range_key] = item


def _few_sent_emails() -> None:
    from collections import deque

    from moto.ses.models import SESBackend

    created = SESBackend.__init__

    def __init__(self, *args, **kwargs):
        created(self, *args, **kwargs)
        self.sent_messages = deque(maxlen=SES_KEPT_MESSAGES)  # appended to, read as a sequence

    SESBackend.__init__ = __init__


# --- Answers --------------------------------------------------------------------------------------

PLAIN_JSON_OPERATIONS = {
    "dynamodb": {"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                 "TransactWriteItems", "TransactGetItems", "BatchWriteItem"},
    "dynamodbstreams": {"GetRecords", "GetShardIterator"},
}


def _json_default(value):
    import base64
    import calendar
    import datetime

    if isinstance(value, datetime.datetime):
        seconds = calendar.timegm(value.timetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _plain_json_answers() -> None:
    import json

    from moto.core.responses import ActionResult

    modelled = ActionResult.execute_result
    check = os.environ.get("MOTO_FIDELITY_CHECK_ANSWERS") == "1"

    def execute_result(self, context):
        operations = PLAIN_JSON_OPERATIONS.get(context.service_model.service_name, ())
        if context.operation_model.name not in operations or not isinstance(self.result, dict):
            return modelled(self, context)
        body = json.dumps(self.result, default=_json_default, separators=(",", ":"))
        version = context.service_model.metadata.get("jsonVersion", "1.0")
        answer = 200, {"Content-Type": f"application/x-amz-json-{version}"}, body
        if check:
            expected = modelled(self, context)
            if (expected[0], expected[1], json.loads(expected[2] or "{}")) != (answer[0], answer[1], json.loads(body)):
                raise AssertionError(f"{context.operation_model.name}: {expected} != {answer}")
        return answer

    ActionResult.execute_result = execute_result


# --- Query ----------------------------------------------------------------------------------------

def _partition_query(table_class) -> None:
    sorted_all_items = table_class.all_items
    query = table_class.query
    querying = threading.local()

    def all_items(self):
        scope = getattr(querying, "scope", None)
        if scope is None:
            return sorted_all_items(self)
        if scope == "partition":
            partition = self.items.get(querying.hash_key)  # .get: `items` is a defaultdict
            if partition is None:
                return []
            return list(partition.values()) if self.range_key_attr else [partition]
        items = []
        for hash_set in self.items.values():
            items.extend(hash_set.values() if self.range_key_attr else [hash_set])
        return items

    def partition_query(self, *args, **kwargs):
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        querying.scope = "index" if index_name else "partition"
        querying.hash_key = args[0] if args else kwargs.get("hash_key")
        try:
            return query(self, *args, **kwargs)
        finally:
            querying.scope = querying.hash_key = None

    table_class.all_items = all_items
    table_class.query = partition_query
