"""Deliveries: the record that an event's side effect outside our table (an email sent through SES,
an order handed to the fulfilment provider) happened, so a redelivered queue message does not
repeat it.

A delivery is claimed with a short lease before the side effect and marked done after it:

    claim ──▶ send ──▶ complete          redelivery finds `done`: nothing is sent again
      │         └─ raises ──▶ release    the retry claims afresh and sends
      └─ crash (no release, no done)     a redelivery after the lease has run out claims and sends again

So an event's side effect happens at least once, and exactly once unless the worker dies between
"accepted by SES / the provider" and "marked done"; losing it is never an option. The lease
(LEASE_SECONDS) must be longer than one send can take (so a duplicate delivered concurrently backs
off instead of sending too) and shorter than the queues' visibility timeout (180 s in
infra/template.yaml), so the redelivery after a crash finds it expired. Records expire after 30
days (TTL), longer than a message can live in a queue plus its dead-letter queue (4 + 14 days), so a
redriven message is still recognised.

Access patterns (one table, see DESIGN.md):

| pattern                          | key                                          | function   |
| -------------------------------- | -------------------------------------------- | ---------- |
| claim a delivery (conditional)   | PK=`SENT#<channel>#<event id>`, SK=`SENT`    | `claim`    |
| read a delivery                  | same key, GetItem (consistent)               | `get`      |
| mark it done                     | same key, UpdateItem                         | `complete` |
| give up a claim after a failure  | same key, DeleteItem if the claim is ours    | `release`  |
| an order's emails, oldest first  | GSI1PK=`ORDER_EMAILS#<order id>`, GSI1SK=`<sent at>#<event id>` | `order_emails` |

`once` strings claim, the side effect and complete/release together for the consumers.
"""

import secrets
from datetime import timedelta

from botocore.exceptions import ClientError

from chalicelib import clock
from chalicelib.repository import dynamo

LEASE_SECONDS = 60
RETENTION = timedelta(days=30)


class DeliveryInProgress(Exception):
    """Another worker holds a live claim on this delivery: retry later (the message is redelivered
    after the queue's visibility timeout, by when the other worker is done or its lease has run out)."""


def delivery_key(channel: str, event_id: str) -> dict:
    return {"PK": f"SENT#{channel}#{event_id}", "SK": "SENT"}


def order_email(order_id: str, event_id: str, kind: str, subject: str, to: str) -> dict:
    """The details `complete` records on an order's email delivery so the order's emails can be listed."""
    return {"order_id": order_id, "email_type": kind, "subject": subject, "to": to,
            "GSI1PK": f"ORDER_EMAILS#{order_id}", "GSI1SK": f"{clock.iso(clock.now())}#{event_id}"}


def order_emails(order_id: str) -> list[dict]:
    """The emails sent about an order (kept as long as their delivery records: RETENTION), oldest first."""
    items, _ = dynamo.query_page("GSI1", "GSI1PK", f"ORDER_EMAILS#{order_id}", 100, None)
    return [{"event_id": item["PK"].split("#", 2)[2], "type": item.get("email_type"), "subject": item.get("subject"),
             "to": item.get("to"), "sent_at": item.get("done_at")} for item in items]


def _now() -> int:
    return int(clock.now().timestamp())


def get(channel: str, event_id: str) -> dict | None:
    return dynamo.get(delivery_key(channel, event_id))


def claim(channel: str, event_id: str, token: str | None = None, lease_seconds: int = LEASE_SECONDS) -> str | None:
    """Claim the delivery of `event_id` on `channel` for the claim `token` (a new one when None): returns the
    token to pass to `complete` or `release`, or None when the delivery is done already (nothing to send).
    A claim `token` already holds (botocore resending our own write after a timeout) is ours again. Raises
    DeliveryInProgress while another worker's lease is live. One conditional write; a refusal hands back
    the record (ALL_OLD), so no second read."""
    now = _now()
    token = token or secrets.token_hex(8)
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(delivery_key(channel, event_id)),
                    UpdateExpression="SET #state = :claimed, claim_token = :token, lease_until = :until, "
                                     "expires_at = :expires, claimed_at = :now ADD attempts :one",
                    ConditionExpression="attribute_not_exists(PK) OR (#state = :claimed AND lease_until < :now)",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues=dynamo.values(
                        claimed="claimed", token=token, until=now + lease_seconds, one=1, now=now,
                        expires=now + int(RETENTION.total_seconds())),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return token
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise
        current = dynamo.from_item(error.response["Item"]) if error.response.get("Item") else None
    if current is None:  # moto before ALL_OLD support; DynamoDB always hands the record back
        raise DeliveryInProgress(f"{channel} delivery of {event_id} changed hands; retry")
    if current.get("state") == "done":
        return None
    if current.get("claim_token") == token:
        return token  # our own claim, written by an earlier send of this same request
    raise DeliveryInProgress(f"{channel} delivery of {event_id} is claimed until {current.get('lease_until')}")


def complete(channel: str, event_id: str, token: str, **details) -> None:
    """Mark the delivery done (whoever holds the claim now: the side effect has happened), with
    `details` such as the provider's message id. Idempotent."""
    details = {k: v for k, v in details.items() if v is not None}
    names = {"#state": "state"} | {f"#{k}": k for k in details}
    sets = ", ".join(f"#{k} = :{k}" for k in details)
    dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(delivery_key(channel, event_id)),
                UpdateExpression="SET #state = :done, done_at = :now, done_by = :token"
                                 + (f", {sets}" if sets else "") + " REMOVE lease_until, claim_token",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=dynamo.values(done="done", now=clock.iso(clock.now()), token=token,
                                                        **details))


def release(channel: str, event_id: str, token: str) -> None:
    """Give up our claim after a failed send, so the retry need not wait for the lease. Does
    nothing when the claim is no longer ours (our lease ran out and another worker took over)."""
    try:
        dynamo.call("delete_item", TableName=dynamo.table(), Key=dynamo.to_item(delivery_key(channel, event_id)),
                    ConditionExpression="#state = :claimed AND claim_token = :token",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues=dynamo.values(claimed="claimed", token=token))
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise


def once(channel: str, event_id: str, effect) -> bool:
    """Run `effect()` (a side effect outside the table, returning details to record or None) unless
    the delivery of `event_id` on `channel` is done already: claim → effect → complete; a failing
    effect releases the claim and its exception propagates. Returns whether the effect ran. Raises
    DeliveryInProgress (see `claim`)."""
    token = claim(channel, event_id)
    if token is None:
        return False
    try:
        details = effect() or {}
    except Exception:
        release(channel, event_id, token)
        raise
    complete(channel, event_id, token, **details)
    return True
