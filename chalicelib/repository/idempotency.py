"""Idempotency records: the stored answer of a POST sent with an `Idempotency-Key`.

One item per scope (caller + key), `PK=IDEMPOTENCY#<scope hash>`, `SK=IDEMPOTENCY`, so the records spread
over partitions like any other entity. Attributes:

- `status`: `in_progress` while the first attempt runs, then `completed`;
- `fingerprint`: SHA-256 of the request (method, path, body), to tell a replay from a different request;
- `owner`: a random token of the attempt holding the record, so a late attempt whose lease was taken over
  cannot overwrite or delete the newer attempt's record;
- `lease_until` (epoch seconds, in progress only): after it a retry may take the record over;
- `response`: `{status, headers, body}` with the body as the exact string that was sent;
- `expires_at` (epoch seconds): the table's TTL attribute. TTL deletion lags by up to days, so every
  read and conditional write treats a record past it as absent.
"""

import time

from botocore.exceptions import ClientError

from chalicelib.repository import dynamo

IN_PROGRESS = "in_progress"
COMPLETED = "completed"


def record_key(scope: str) -> dict:
    return {"PK": f"IDEMPOTENCY#{scope}", "SK": "IDEMPOTENCY"}


def claim(scope: str, fingerprint: str, owner: str, lease_until: int, expires_at: int) -> dict | None:
    """Write an in-progress record held by `owner` unless a live one exists: None when claimed, else the
    live record (in progress or completed) as it stands. One conditional put; a record past `expires_at`,
    or in progress past its lease, counts as absent and is replaced. A record `owner` already holds is a
    retry of this same put (botocore resends a write whose answer timed out) and counts as claimed."""
    now = int(time.time())
    item = record_key(scope) | {"status": IN_PROGRESS, "fingerprint": fingerprint, "owner": owner,
                                "lease_until": lease_until, "expires_at": expires_at}
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(item),
                    ConditionExpression=("attribute_not_exists(PK) OR expires_at < :now"
                                         " OR (#status = :in_progress AND lease_until < :now)"),
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=dynamo.values(now=now, in_progress=IN_PROGRESS),
                    # The live record comes back with the refusal: a replay costs this one call.
                    ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise
        # The condition fails only on an existing item, which ALL_OLD hands back.
        existing = dynamo.from_item(error.response["Item"])
        if existing.get("owner") == owner and existing.get("status") == IN_PROGRESS:
            # Our own put, sent again by botocore after a timeout: the claim is ours, carry on.
            return None
        return existing
    return None


def get(scope: str) -> dict | None:
    """The live record of `scope`, or None if there is none or it has expired."""
    item = dynamo.get(record_key(scope))
    if not item or item.get("expires_at", 0) < time.time():
        return None
    return item


def complete(scope: str, owner: str, response: dict, expires_at: int) -> bool:
    """Store the answer on the record `owner` holds; False (nothing written) if another attempt took the
    record over after `owner`'s lease ran out, in which case that attempt's answer is the one kept."""
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(record_key(scope)),
                    UpdateExpression="SET #status = :completed, #response = :response, expires_at = :expires_at"
                                     " REMOVE lease_until",
                    ConditionExpression="#owner = :owner AND #status = :in_progress",
                    ExpressionAttributeNames={"#status": "status", "#response": "response", "#owner": "owner"},
                    ExpressionAttributeValues=dynamo.values(completed=COMPLETED, response=response,
                                                            expires_at=expires_at, owner=owner,
                                                            in_progress=IN_PROGRESS))
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release(scope: str, owner: str) -> None:
    """Delete the in-progress record `owner` holds, so the key can be used again at once (an answer that
    must not be kept). A record another attempt took over is left alone; safe to repeat."""
    try:
        dynamo.call("delete_item", TableName=dynamo.table(), Key=dynamo.to_item(record_key(scope)),
                    ConditionExpression="#owner = :owner AND #status = :in_progress",
                    ExpressionAttributeNames={"#status": "status", "#owner": "owner"},
                    ExpressionAttributeValues=dynamo.values(owner=owner, in_progress=IN_PROGRESS))
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise
