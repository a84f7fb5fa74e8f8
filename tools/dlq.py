"""Dead-letter queues: list what failed, and send it back to be processed again.

    python -m tools.dlq list email           # each dead-lettered message: type, event id, receive count
    python -m tools.dlq redrive email        # move them all back to the email queue
    python -m tools.dlq redrive fulfilment --max 10
    python -m tools.dlq list stream          # stream batches the relay failed on every retry
    python -m tools.dlq replay stream        # read them back from the table's stream, relay them

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

`stream` is the stream mapping's on-failure queue (StreamFailureQueue; STREAM_FAILURE_QUEUE_URL,
else the stack output StreamFailureQueueUrl, else commerce-$STAGE-stream-failures). Its messages
are Lambda's on-failure records: the shard and the first and last sequence numbers of a batch the
relay failed on every retry, not the records themselves. Replaying reads each batch back from the
stream (GetShardIterator AT_SEQUENCE_NUMBER, GetRecords up to the last sequence number), runs the
relay (chalicelib.services.relay.relay, the code of on_table_change) on it in this process, against the
table and queues of TABLE_NAME / EMAIL_QUEUE_URL / FULFILMENT_QUEUE_URL, else the stack's outputs,
and deletes the message only once the relay succeeded. The relay is idempotent per change (event
ids and report counts are keyed on the record's eventID), so replaying twice has no second effect.
A stream keeps records 24 hours: a batch older than that cannot be read back; replay says so and
leaves its message. Replaying needs dynamodb:GetShardIterator/GetRecords on the stream and what
the relay's policy allows (.chalice/policy-relay.json).
"""

import argparse
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

from chalicelib import config

QUEUES = ("email", "fulfilment")
STREAM = "stream"
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


def _stack_outputs(stack: str | None) -> dict:
    stack = stack or os.environ.get("STACK_NAME") or f"commerce-{config.settings().stage}"
    try:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        return {}
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def stream_failure_url(stack: str | None = None) -> str:
    """The URL of the stream mapping's on-failure queue (see the module docstring)."""
    url = os.environ.get("STREAM_FAILURE_QUEUE_URL") or _stack_outputs(stack).get("StreamFailureQueueUrl")
    if url:
        return url
    name = f"commerce-{config.settings().stage}-stream-failures"
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


def batch_info(message: dict) -> dict | None:
    """The DDBStreamBatchInfo of an on-failure message (None if it is not one)."""
    try:
        info = json.loads(message["Body"]).get("DDBStreamBatchInfo")
    except (ValueError, AttributeError):
        return None
    return info if isinstance(info, dict) and {"streamArn", "shardId", "startSequenceNumber",
                                               "endSequenceNumber"} <= set(info) else None


def read_batch(streams, info: dict) -> list[dict]:
    """The records of a failed batch, read back from the stream in Lambda's shape. Raises
    LookupError when the stream no longer holds all of them (older than 24 h)."""
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"], ShardId=info["shardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"])["ShardIterator"]
    except ClientError as error:
        raise LookupError(f"shard {info['shardId']} from {info['startSequenceNumber']} cannot be read "
                          f"({error.response['Error']['Code']}): past the stream's 24 h?") from error
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    records: list[dict] = []
    while iterator:
        answer = streams.get_records(ShardIterator=iterator, Limit=1000)
        records += [r for r in answer["Records"] if start <= int(r["dynamodb"]["SequenceNumber"]) <= end]
        if not answer["Records"] or int(answer["Records"][-1]["dynamodb"]["SequenceNumber"]) >= end:
            break
        iterator = answer.get("NextShardIterator")
    if not records or records[0]["dynamodb"]["SequenceNumber"] != info["startSequenceNumber"] \
            or records[-1]["dynamodb"]["SequenceNumber"] != info["endSequenceNumber"]:
        raise LookupError(f"shard {info['shardId']} no longer holds {info['startSequenceNumber']}.."
                          f"{info['endSequenceNumber']} (read {len(records)} record(s))")
    return [_lambda_record(r, info["streamArn"]) for r in records]


def _lambda_record(record: dict, stream_arn: str) -> dict:
    """A record as Lambda delivers it: boto3 parses the creation time, Lambda sends epoch seconds."""
    record = dict(record, dynamodb=dict(record["dynamodb"]), eventSourceARN=stream_arn)
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, int | float):
        record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
    return record


def _use_stack_resources(stack: str | None) -> None:
    """Point the relay at the stack's table and queues, unless the environment names them."""
    wanted = {"TABLE_NAME": "TableName", "EMAIL_QUEUE_URL": "EmailQueueUrl",
              "FULFILMENT_QUEUE_URL": "FulfilmentQueueUrl"}
    missing = [name for name in wanted if not os.environ.get(name)]
    if missing:
        outputs = _stack_outputs(stack)
        os.environ.update({name: outputs[wanted[name]] for name in missing if wanted[name] in outputs})
        config.reset()


def list_stream_failures(stack: str | None = None, limit: int = 1000, out=sys.stdout) -> list[dict]:
    """Print the failed stream batches waiting in the on-failure queue and leave them there."""
    sqs = boto3.client("sqs")
    url = stream_failure_url(stack)
    messages = _receive(sqs, url, limit)
    for start in range(0, len(messages), 10):
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(messages[start:start + 10])])
    print(f"{len(messages)} failed stream batch(es) in {url}", file=out)
    rows = []
    for message in messages:
        info = batch_info(message) or {}
        body = json.loads(message["Body"]) if info else {}
        rows.append({"message_id": message["MessageId"], "shard": info.get("shardId"),
                     "start": info.get("startSequenceNumber"), "end": info.get("endSequenceNumber"),
                     "records": info.get("batchSize"), "failed_at": body.get("timestamp")})
        print(f"{info.get('shardId', '(not an on-failure record)')} {info.get('startSequenceNumber', '')}.."
              f"{info.get('endSequenceNumber', '')} {info.get('batchSize', '?')} record(s), "
              f"arrived {info.get('approximateArrivalOfFirstRecord', '?')}", file=out)
    return rows


def replay(stack: str | None = None, limit: int = 1000, out=sys.stdout, relay=None) -> int:
    """Read each failed batch back from the stream and relay it; returns how many batches were
    relayed. A batch that fails again, or is no longer in the stream, keeps its message (visible
    again at once); the others are deleted, then SystemExit names what was left."""
    if relay is None:
        from chalicelib.services import relay as stream_relay

        _use_stack_resources(stack)
        relay = stream_relay.relay
    sqs, streams = boto3.client("sqs"), boto3.client("dynamodbstreams")
    url = stream_failure_url(stack)
    replayed, problems = 0, []
    for message in _receive(sqs, url, limit):
        info = batch_info(message)
        try:
            if info is None:
                raise LookupError(f"message {message['MessageId']} is not an on-failure record")
            relay(read_batch(streams, info))
        except Exception as error:  # reported, and the message stays for another try
            problems.append(f"{info and info['startSequenceNumber']}: {type(error).__name__}: {error}")
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        replayed += 1
    print(f"replayed {replayed} stream batch(es) from {url}", file=out)
    if problems:
        raise SystemExit("not replayed (left in the queue):\n" + "\n".join(problems))
    return replayed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dlq", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("list", "redrive", "replay"),
                        help="redrive: email, fulfilment; replay: stream")
    parser.add_argument("queue", choices=(*QUEUES, STREAM))
    parser.add_argument("--stack", help="CloudFormation stack whose outputs name the queues")
    parser.add_argument("--max", type=int, default=1000, help="at most this many messages (default 1000)")
    args = parser.parse_args(argv)
    if (args.command == "replay" and args.queue != STREAM) or (args.command == "redrive" and args.queue == STREAM):
        parser.error("the stream's failures are replayed (replay stream); queues are redriven")
    if args.queue == STREAM and args.command == "list":
        list_stream_failures(args.stack, args.max)
    elif args.command == "list":
        list_messages(args.queue, args.stack, args.max)
    elif args.command == "replay":
        replay(args.stack, args.max)
    else:
        redrive(args.queue, args.stack, args.max)
    return 0


if __name__ == "__main__":
    sys.exit(main())
