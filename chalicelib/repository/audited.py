"""DynamoDB writes made while an admin request's audit context is open (chalicelib/audit.py): each becomes a
TransactWriteItems with the audit record as one more item, so the change and its record are written together
or not at all. `dynamo.call` routes here; nothing else calls this module.
"""

from botocore.exceptions import ClientError

from chalicelib import audit
from chalicelib.errors import InvalidRequest, UpstreamUnavailable
from chalicelib.repository import dynamo

SINGLE = {"put_item": "Put", "update_item": "Update", "delete_item": "Delete"}
_NOT_IN_TRANSACTIONS = ("ReturnValues", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics")
MAX_ITEMS = 100  # TransactWriteItems' limit, the audit record included


def _key(kind: str, action: dict) -> dict:
    if kind == "Put":
        return {name: action["Item"][name] for name in ("PK", "SK") if name in action["Item"]}
    return action["Key"]


def _changes(items: list[dict]) -> tuple[dict, dict, dict]:
    """(before, after, the stored items read first by label) of the audited items of a transaction."""
    written = []
    for entry in items:
        (kind, action), = entry.items()
        if kind in ("Put", "Update", "Delete"):
            key = dynamo.from_item(_key(kind, action))
            if audit.audited(key):
                written.append((kind, action, key))
    if not written:
        return {}, {}, {}
    stored = {audit.label(item): item for item in dynamo.batch_get([key for _, _, key in written])}
    before, after = {}, {}
    for kind, action, key in written:
        name = audit.label(key)
        if kind == "Update":
            fields = audit.update_fields(action["UpdateExpression"], action.get("ExpressionAttributeNames") or {},
                                         dynamo.from_item(action.get("ExpressionAttributeValues") or {}))
            old, new = audit.change(kind, stored.get(name), fields=fields)
        else:
            old, new = audit.change(kind, stored.get(name), dynamo.from_item(action.get("Item")))
        before[name], after[name] = old, new
    return before, after, stored


def _transact(items: list[dict], **extra) -> tuple[dict, dict]:
    """Write `items` with their audit record; answers (DynamoDB's answer, the items read before)."""
    before, after, stored = _changes(items)
    if not after:
        return dynamo.raw_call("transact_write_items", TransactItems=items, **extra), stored
    if len(items) >= MAX_ITEMS:
        raise InvalidRequest(f"This change writes more than {MAX_ITEMS - 1} items at once; make it in smaller parts.")
    record = audit.record(audit.current(), before, after)
    piece = {"Put": {"TableName": dynamo.table(), "Item": dynamo.to_item(record),
                     "ConditionExpression": "attribute_not_exists(PK)"}}
    # The record's id as the request token: botocore resending this transaction after a timeout is answered
    # as the first attempt was (DynamoDB's idempotent TransactWriteItems), not refused by the record's condition.
    extra.setdefault("ClientRequestToken", record["id"])
    return dynamo.raw_call("transact_write_items", TransactItems=[*items, piece], **extra), stored


def _single(operation: str, kwargs: dict) -> dict:
    kind = SINGLE[operation]
    action = {k: v for k, v in kwargs.items() if k not in _NOT_IN_TRANSACTIONS}
    if not audit.audited(dynamo.from_item(_key(kind, action))):  # bookkeeping: written as it was
        return dynamo.raw_call(operation, **kwargs)
    try:
        _, stored = _transact([{kind: action}])
    except ClientError as error:
        if dynamo.error_code(error) != "TransactionCanceledException":
            raise
        reason = (error.response.get("CancellationReasons") or [{}])[0]
        if reason.get("Code") == "ConditionalCheckFailed":  # the single write's own error, as its callers know it
            response = {"Error": {"Code": "ConditionalCheckFailedException",
                                  "Message": "The conditional request failed"}}
            if "Item" in reason:
                response["Item"] = reason["Item"]
            raise ClientError(response, operation) from error
        raise UpstreamUnavailable("The database is busy; please retry.") from error
    wanted = kwargs.get("ReturnValues", "NONE")
    if wanted in ("ALL_OLD", "UPDATED_OLD"):
        old = stored.get(audit.label(dynamo.from_item(_key(kind, action))))
        return {"Attributes": dynamo.to_item(old)} if old else {}
    if wanted in ("ALL_NEW", "UPDATED_NEW"):
        old = stored.get(audit.label(dynamo.from_item(_key(kind, action))))
        new = old and kind == "Update" and audit.applied(
            old, action["UpdateExpression"], action.get("ExpressionAttributeNames") or {},
            dynamo.from_item(action.get("ExpressionAttributeValues") or {}))
        if new:  # the item read before, with the update applied: no second read
            return {"Attributes": dynamo.to_item(new)}
        new = dynamo.raw_call("get_item", TableName=dynamo.table(), Key=_key(kind, action), ConsistentRead=True)
        return {"Attributes": new["Item"]} if "Item" in new else {}
    return {}


def _batch(kwargs: dict) -> dict:
    """A BatchWriteItem as transactions of at most 99 writes and their record each (all processed)."""
    items = []
    for table, requests in kwargs["RequestItems"].items():
        for request in requests:
            if "PutRequest" in request:
                items.append({"Put": {"TableName": table, "Item": request["PutRequest"]["Item"]}})
            else:
                items.append({"Delete": {"TableName": table, "Key": request["DeleteRequest"]["Key"]}})
    for start in range(0, len(items), MAX_ITEMS - 1):
        _transact(items[start:start + MAX_ITEMS - 1])
    return {"UnprocessedItems": {}}


def call(operation: str, kwargs: dict) -> dict:
    if operation == "transact_write_items":
        items = list(kwargs.pop("TransactItems"))
        return _transact(items, **kwargs)[0]
    if operation == "batch_write_item":
        return _batch(kwargs)
    return _single(operation, kwargs)
