"""Dead-letter queues: list what failed, and send it back to be processed again.

    python -m tools.dlq list email           # each dead-lettered message: type, event id, receive count
    python -m tools.dlq redrive email        # move them all back to the email queue
    python -m tools.dlq redrive fulfilment --max 10

Run from the repository root. A queue is `email` or `fulfilment`; its URL comes from
EMAIL_QUEUE_URL / FULFILMENT_QUEUE_URL when set (the local stack sets them), else from the outputs
of the CloudFormation stack `--stack` (default: $STACK_NAME, else commerce-$STAGE), else from the
queue's name (EMAIL_QUEUE_NAME..., default commerce-$STAGE-email). Its dead-letter queue is the
target of the queue's redrive policy. Against the local stack, point boto3 at the moto server with
AWS_ENDPOINT_URL=http://127.0.0.1:5000; in AWS, use credentials allowed to receive, send and delete
on both queues.

Listing receives every message (with a short visibility timeout, so each is seen once) and then
makes them visible again: it adds one to each receive count. Redriving sends a copy to the source
queue and deletes the original only once SQS accepted the copy (a receive, send, delete loop rather
than StartMessageMoveTask, which moto does not implement). The consumers de-duplicate on the event
id, so redriving a message whose side effect did happen has no second effect.
"""

import argparse
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

from chalicelib import config

QUEUES = ("email", "fulfilment")
HOLD_SECONDS = 60  # how long a received message stays invisible while we list or move it


def source_url(queue: str, stack: str | None = None) -> str:
    """The URL of the `email` or `fulfilment` queue (see the module docstring)."""
    settings = config.settings()
    url = {"email": settings.email_queue_url, "fulfilment": settings.fulfilment_queue_url}[queue]
    if url:
        return url
    stack = stack or os.environ.get("STACK_NAME") or f"commerce-{settings.stage}"
    output = {"email": "EmailQueueUrl", "fulfilment": "FulfilmentQueueUrl"}[queue]
    try:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        if output in outputs:
            return outputs[output]
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
    name = {"email": settings.email_queue_name, "fulfilment": settings.fulfilment_queue_name}[queue]
    return boto3.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def dead_letter_url(sqs, queue_url: str) -> str:
    """The URL of the queue that `queue_url`'s redrive policy dead-letters into."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    if "RedrivePolicy" not in attributes:
        raise SystemExit(f"{queue_url} has no redrive policy, so no dead-letter queue")
    arn = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
    account, name = arn.split(":")[4], arn.split(":")[5]
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def _receive(sqs, url: str, limit: int) -> list[dict]:
    """Up to `limit` messages, each once, left invisible for HOLD_SECONDS."""
    found: dict[str, dict] = {}
    while len(found) < limit:
        # Long polling (WaitTimeSeconds) asks every SQS server; short polling may answer "empty" early.
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, limit - len(found)),
                                    VisibilityTimeout=HOLD_SECONDS, WaitTimeSeconds=1,
                                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        found.update((m["MessageId"], m) for m in batch)
    return list(found.values())


def describe(message: dict) -> tuple[str, str]:
    """(type, event id) of a message; poison messages need not be JSON at all."""
    try:
        body = json.loads(message["Body"])
        return str(body.get("type", "?")), str(body.get("id", "?"))
    except (ValueError, AttributeError):
        return "(not an event)", f"message {message['MessageId']}"


def list_messages(queue: str, stack: str | None = None, limit: int = 1000, out=sys.stdout) -> list[dict]:
    """Print the dead-lettered messages of `queue` and leave them where they are."""
    sqs = boto3.client("sqs")
    dlq = dead_letter_url(sqs, source_url(queue, stack))
    messages = _receive(sqs, dlq, limit)
    for start in range(0, len(messages), 10):
        sqs.change_message_visibility_batch(QueueUrl=dlq, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(messages[start:start + 10])])
    print(f"{len(messages)} dead-lettered message(s) in {dlq}", file=out)
    if messages:
        print(f"{'TYPE':<18} {'EVENT ID':<56} RECEIVES", file=out)
    rows = []
    for message in messages:
        kind, event_id = describe(message)
        receives = int(message["Attributes"].get("ApproximateReceiveCount", 0))
        rows.append({"type": kind, "id": event_id, "receive_count": receives, "message_id": message["MessageId"]})
        print(f"{kind:<18} {event_id:<56} {receives}", file=out)
    return rows


def redrive(queue: str, stack: str | None = None, limit: int = 1000, out=sys.stdout) -> int:
    """Move up to `limit` dead-lettered messages of `queue` back to it; returns how many moved.
    A message is deleted from the dead-letter queue only after the source queue accepted its copy."""
    sqs = boto3.client("sqs")
    source = source_url(queue, stack)
    dlq = dead_letter_url(sqs, source)
    moved = 0
    while moved < limit:
        batch = _receive(sqs, dlq, min(10, limit - moved))
        if not batch:
            break
        answer = sqs.send_message_batch(QueueUrl=source, Entries=[
            {"Id": str(i), "MessageBody": m["Body"], **({"MessageAttributes": m["MessageAttributes"]}
                                                        if m.get("MessageAttributes") else {})}
            for i, m in enumerate(batch)])
        accepted = [batch[int(entry["Id"])] for entry in answer.get("Successful", [])]
        if accepted:
            sqs.delete_message_batch(QueueUrl=dlq, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(accepted)])
        moved += len(accepted)
        if answer.get("Failed"):
            # Left in the dead-letter queue; they are visible again after HOLD_SECONDS.
            raise SystemExit(f"SQS refused {len(answer['Failed'])} message(s): {answer['Failed']}; "
                             f"moved {moved} so far")
    print(f"moved {moved} message(s) from {dlq} back to {source}", file=out)
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dlq", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("list", "redrive"))
    parser.add_argument("queue", choices=QUEUES)
    parser.add_argument("--stack", help="CloudFormation stack whose outputs name the queues")
    parser.add_argument("--max", type=int, default=1000, help="at most this many messages (default 1000)")
    args = parser.parse_args(argv)
    if args.command == "list":
        list_messages(args.queue, args.stack, args.max)
    else:
        redrive(args.queue, args.stack, args.max)
    return 0


if __name__ == "__main__":
    sys.exit(main())
