"""The event pump: what AWS does for the app's non-HTTP handlers in production, done locally.

It reads the work from the Chalice app itself (`app.event_sources`), never from a list kept here,
and calls each handler through `app.handler_map` with a Lambda-shaped event, one thread per source:

- `@app.on_dynamodb_record`: polls the table's stream (dynamodbstreams API) and calls the handler
  with `{"Records": [...]}`. When the handler raises, the batch is retried later (with back-off)
  and nothing after it is delivered meanwhile, as Lambda does for a stream. As the deployed mapping
  does (BisectBatchOnFunctionError, MaximumRetryAttempts, an on-failure destination), a failing
  batch is halved until the failing record stands alone; when that one has failed `stream_retries`
  more times and `stream_failure_queue_url` is given, a message in Lambda's on-failure shape (shard
  and sequence numbers, not the record) goes to that queue and the shard moves on.
- `@app.on_sqs_message`: long-polls the queue the handler names (by name or ARN), calls the handler
  with an SQS event, deletes the batch on success and leaves it on failure, so it comes back after
  the queue's visibility timeout and goes to the dead-letter queue through the redrive policy. A
  handler that returns `{"batchItemFailures": [...]}` has only the others deleted, as Lambda does
  with ReportBatchItemFailures, which the deployment template turns on.
- `@app.schedule`: calls the handler every `schedule_seconds` with a scheduled-event payload.

Other sources (S3, SNS, Kinesis, event-pattern rules) are listed as not pumped. Errors are logged
with a traceback and the pump carries on.

moto quirk: a cancelled `TransactWriteItems` restores a deep copy of the whole table, stream shard
included, so a shard iterator taken before it would read a shard that no longer receives records.
The pump therefore takes a fresh iterator on every poll, after the last sequence number it
delivered, instead of following `NextShardIterator`.
"""

import base64
import datetime
import json
import logging
import threading
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from chalice.app import DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig
from chalice.local import LambdaContext

log = logging.getLogger("devstack.pump")

MOTO_ACCOUNT = "123456789012"
MAX_BACKOFF_SECONDS = 30.0


class Pump:
    def __init__(self, app, *, endpoint_url: str, region: str, schedule_seconds: float = 30.0,
                 table_stream_arn: str | None = None, poll_seconds: float = 1.0, sqs_wait_seconds: int = 2,
                 stream_failure_queue_url: str | None = None, stream_retries: int = 3):
        """`table_stream_arn` is used when a stream handler names a stream moto does not know (an ARN
        from another environment); `sqs_wait_seconds` bounds how long `stop()` may wait; without
        `stream_failure_queue_url` a failing stream record is retried for ever."""
        self.app = app
        self.endpoint_url, self.region = endpoint_url, region
        self.schedule_seconds = schedule_seconds
        self.poll_seconds, self.sqs_wait_seconds = poll_seconds, sqs_wait_seconds
        self.table_stream_arn = table_stream_arn
        self.stream_failure_queue_url, self.stream_retries = stream_failure_queue_url, stream_retries
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> list[str]:
        """Start one thread per source; returns a line per source saying what is pumped."""
        lines = []
        for source in self.app.event_sources:
            if isinstance(source, DynamoDBEventConfig):
                target, what = self._pump_stream, f"{source.name} <- DynamoDB stream"
            elif isinstance(source, SQSEventConfig):
                target, what = self._pump_queue, f"{source.name} <- SQS {source.queue or source.queue_arn}"
            elif isinstance(source, ScheduledEventConfig):
                target, what = self._pump_schedule, f"{source.name} <- every {self.schedule_seconds:g} s"
            else:
                log.warning("not pumped locally: %s (%s)", source.name, type(source).__name__)
                lines.append(f"{source.name} (not pumped locally: {type(source).__name__})")
                continue
            thread = threading.Thread(target=self._run, args=(target, source), name=f"pump-{source.name}",
                                      daemon=True)
            self._threads.append(thread)
            lines.append(what)
        for thread in self._threads:
            thread.start()
        return lines

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop pumping: no new deliveries start. Waits up to `timeout` seconds for the threads to
        finish what they are doing (a long poll lasts up to `sqs_wait_seconds`); None does not wait."""
        self._stopping.set()
        if timeout is not None:
            deadline = time.monotonic() + timeout
            for thread in self._threads:
                thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def _run(self, target, source) -> None:
        try:
            target(source)
        except Exception:
            log.exception("pump thread for %s stopped", source.name)

    def _client(self, service: str):
        # A session per thread: boto3 sessions are not thread-safe.
        return boto3.session.Session().client(service, endpoint_url=self.endpoint_url, region_name=self.region,
                                              config=Config(retries={"mode": "standard", "max_attempts": 3},
                                                            read_timeout=self.sqs_wait_seconds + 10))

    def _invoke(self, source, event: dict):
        context = LambdaContext(function_name=f"{self.app.app_name}-local-{source.name}", memory_size=128,
                                max_runtime_ms=900_000)
        return self.app.handler_map[source.name](event, context)

    def _failed(self, what: str, source, backoff: float) -> float:
        """Log the current exception (unless stopping), wait `backoff` seconds; the next back-off."""
        if not self._stopping.is_set():
            log.exception("%s for %s failed; retrying in %.1f s", what, source.name, backoff)
            self._stopping.wait(backoff)
        return min(backoff * 2, MAX_BACKOFF_SECONDS)

    # --- DynamoDB stream ---------------------------------------------------------------------

    def _pump_stream(self, source: DynamoDBEventConfig) -> None:
        streams = self._client("dynamodbstreams")
        arn, shards = None, []
        positions: dict[str, str | None] = {}  # shard id -> last sequence number delivered
        limits: dict[str, int] = {}  # shard id -> batch size while bisecting a failing batch
        failures: dict[str, int] = {}  # shard id -> failures of its single failing record
        backoff = self.poll_seconds
        while not self._stopping.is_set():
            try:
                if arn is None:
                    arn, shards = self._describe_stream(streams, source.stream_arn)
                    for shard in shards:
                        positions[shard] = (self._last_sequence_number(streams, arn, shard)
                                            if source.starting_position == "LATEST" else None)
                batches = [(shard, self._read_shard(streams, arn, shard, positions[shard],
                                                    limits.get(shard, source.batch_size)))
                           for shard in shards]
            except Exception:
                backoff = self._failed("reading the stream", source, backoff)
                continue
            batches = [(shard, records) for shard, records in batches if records]
            if not batches:
                self._stopping.wait(self.poll_seconds)
                continue
            try:
                for shard, records in batches:
                    self._invoke(source, {"Records": [_stream_record(r, arn) for r in records]})
                    log.info("%s <- %d stream record(s)", source.name, len(records))
                    positions[shard] = records[-1]["dynamodb"]["SequenceNumber"]
                    limits.pop(shard, None), failures.pop(shard, None)
                backoff = self.poll_seconds
            except Exception:
                # Not advanced: the records come again, and nothing behind them meanwhile.
                backoff = self._failed("the handler", source, backoff)
                if self._bisect_or_set_aside(source, arn, shard, records, limits, failures):
                    positions[shard] = records[-1]["dynamodb"]["SequenceNumber"]

    def _bisect_or_set_aside(self, source, arn: str, shard: str, records: list[dict], limits: dict,
                             failures: dict) -> bool:
        """After a failed batch: halve it, or count a failure of its single record; True when that
        record was sent to the failure queue (the shard moves on)."""
        if len(records) > 1:
            limits[shard] = len(records) // 2
            return False
        failures[shard] = failures.get(shard, 0) + 1
        if not self.stream_failure_queue_url or failures[shard] <= self.stream_retries:
            return False
        message = on_failure_message(records, arn, shard, failures[shard],
                                     f"arn:aws:lambda:{self.region}:{MOTO_ACCOUNT}:function:"
                                     f"{self.app.app_name}-local-{source.name}")
        try:
            self._client("sqs").send_message(QueueUrl=self.stream_failure_queue_url, MessageBody=json.dumps(message))
        except Exception:
            log.exception("could not set the failing stream record aside; it is retried")
            return False
        log.error("%s: stream record %s failed %d times; set aside in %s (python -m tools.dlq replay stream)",
                  source.name, records[0]["dynamodb"]["SequenceNumber"], failures.pop(shard),
                  self.stream_failure_queue_url)
        limits.pop(shard, None)
        return True

    def _describe_stream(self, streams, stream_arn: str) -> tuple[str, list[str]]:
        try:
            description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
        except ClientError:
            if not self.table_stream_arn or stream_arn == self.table_stream_arn:
                raise
            log.warning("stream %s is unknown locally; reading the table's stream %s", stream_arn,
                        self.table_stream_arn)
            stream_arn = self.table_stream_arn
            description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
        return stream_arn, [shard["ShardId"] for shard in description["Shards"]]

    @staticmethod
    def _read_shard(streams, arn: str, shard: str, after: str | None, limit: int) -> list[dict]:
        position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after else {
            "ShardIteratorType": "TRIM_HORIZON"}
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **position)["ShardIterator"]
        return streams.get_records(ShardIterator=iterator, Limit=min(limit, 1000))["Records"]

    def _last_sequence_number(self, streams, arn: str, shard: str) -> str | None:
        """Where LATEST is now: the sequence number of the shard's newest record (None if empty)."""
        last = None
        while records := self._read_shard(streams, arn, shard, last, 1000):
            last = records[-1]["dynamodb"]["SequenceNumber"]
        return last

    # --- SQS -----------------------------------------------------------------------------------

    def _pump_queue(self, source: SQSEventConfig) -> None:
        sqs = self._client("sqs")
        url = arn = None
        backoff = self.poll_seconds
        while not self._stopping.is_set():
            try:
                if url is None:
                    url, arn = self._resolve_queue(sqs, source)
                messages = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=max(1, min(source.batch_size, 10)),
                    WaitTimeSeconds=self.sqs_wait_seconds, MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                backoff = self.poll_seconds
            except Exception:
                backoff = self._failed("receiving from the queue", source, backoff)
                continue
            if not messages:
                continue
            try:
                result = self._invoke(source, {"Records": [_sqs_record(m, arn, self.region) for m in messages]})
            except Exception:
                if self._stopping.is_set():
                    break
                # Left in the queue: visible again after the visibility timeout, then dead-lettered.
                log.exception("%s failed on %d message(s); they stay in the queue for redelivery", source.name,
                              len(messages))
                continue
            handled = _handled(messages, result)
            log.info("%s <- %d message(s)", source.name, len(messages))
            if len(handled) < len(messages):
                log.warning("%s reported %d of %d message(s) failed; they stay in the queue for redelivery",
                            source.name, len(messages) - len(handled), len(messages))
            if not handled:
                continue
            try:
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(handled)])
            except Exception:
                self._failed("deleting handled messages", source, self.poll_seconds)

    @staticmethod
    def _resolve_queue(sqs, source: SQSEventConfig) -> tuple[str, str]:
        if source.queue:
            url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        else:
            *_, account, name = source.queue_arn.split(":")
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    # --- schedules -----------------------------------------------------------------------------

    def _pump_schedule(self, source: ScheduledEventConfig) -> None:
        while not self._stopping.wait(self.schedule_seconds):
            try:
                self._invoke(source, self._scheduled_event(source))
                log.debug("%s <- scheduled event", source.name)
            except Exception:
                log.exception("scheduled handler %s failed", source.name)

    def _scheduled_event(self, source: ScheduledEventConfig) -> dict:
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rule = f"arn:aws:events:{self.region}:{MOTO_ACCOUNT}:rule/{self.app.app_name}-local-{source.name}"
        return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": MOTO_ACCOUNT, "time": now, "region": self.region, "resources": [rule], "detail": {}}


def _lambda_json(value):
    """A value as Lambda's JSON has it: boto3 parses timestamps into datetimes and binary into bytes,
    Lambda passes epoch seconds and base64 text."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _lambda_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_lambda_json(v) for v in value]
    return value


def _handled(messages: list[dict], result) -> list[dict]:
    """The messages to delete after an invocation that returned `result`: all of them, unless it
    reported some as failed (`{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`, honoured
    because the deployment enables ReportBatchItemFailures). As in Lambda, a report naming an id
    that is not in the batch fails the whole batch."""
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return messages
    failed = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in result["batchItemFailures"]}
    if not failed <= {message["MessageId"] for message in messages}:
        return []
    return [message for message in messages if message["MessageId"] not in failed]


def on_failure_message(records: list[dict], stream_arn: str, shard: str, attempts: int, function_arn: str) -> dict:
    """What Lambda sends to a stream mapping's on-failure destination for a failed batch: where
    the records are, not the records (docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)."""
    def arrival(record):
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        when = created if isinstance(created, datetime.datetime) else datetime.datetime.fromtimestamp(
            float(created or 0), datetime.UTC)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": function_arn,
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": now,
        "DDBStreamBatchInfo": {
            "shardId": shard, "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]), "batchSize": len(records),
            "streamArn": stream_arn}}


def _stream_record(record: dict, stream_arn: str) -> dict:
    return _lambda_json(record) | {"eventSourceARN": stream_arn}


def _sqs_record(message: dict, queue_arn: str, region: str) -> dict:
    attributes = {
        name: {"dataType": value["DataType"], "stringValue": value.get("StringValue"),
               "binaryValue": _lambda_json(value.get("BinaryValue")), "stringListValues": [], "binaryListValues": []}
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": message.get("Attributes", {}), "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
            "awsRegion": region}
