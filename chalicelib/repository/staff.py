"""When a staff user's tokens stop counting: one item per staff user whose access the owner changed (disabled,
or given another role), PK=STAFF#<sub>, SK=TOKENS, `not_before` the epoch second from which a token of theirs
is accepted again (chalicelib/services/staff_accounts.py writes it, chalicelib/staff.py reads it on each admin
request made with a staff token). Keyed by the Cognito `sub`, which both the ID and the access token carry and
which no other user ever gets. Not a model of the stream (its SK is none of stream.MODELS)."""

from chalicelib import clock
from chalicelib.repository import dynamo

SK = "TOKENS"


def tokens_key(sub: str) -> dict:
    return {"PK": f"STAFF#{sub}", "SK": SK}


def tokens_not_before(sub: str) -> int | None:
    """The epoch second before which the user's tokens are refused; None: never revoked. A consistent read:
    a revocation counts from the moment its write is acknowledged."""
    item = dynamo.get(tokens_key(sub))
    return int(item["not_before"]) if item and "not_before" in item else None


def revoke_tokens(sub: str, username: str, not_before: int) -> dict:
    """The write (a TransactWriteItems action) refusing the user's tokens issued before `not_before`. It
    never moves `not_before` back (a slower concurrent change keeps the later second); the caller writes it
    with the change's audit record (repository/audit.write_alone)."""
    return {"Update": {
        "TableName": dynamo.table(), "Key": dynamo.to_item(tokens_key(sub)),
        "UpdateExpression": "SET not_before = :not_before, username = :username, changed_at = :at",
        "ConditionExpression": "attribute_not_exists(not_before) OR not_before <= :not_before",
        "ExpressionAttributeValues": dynamo.values(not_before=not_before, username=username,
                                                   at=clock.iso(clock.now()))}}
