"""Stream and queue consumers. Errors propagate: the stream or queue delivers again, and a
poison message ends in its dead-letter queue; nothing is caught-and-logged to "succeed".

The SQS consumers take batches and report partial failures: each message is processed on its own,
and the ones that failed are returned as `{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`,
so only they are delivered again (and after maxReceiveCount dead-lettered) while the rest of the
batch is deleted. That needs `FunctionResponseTypes: [ReportBatchItemFailures]` on the event source
mappings (Chalice does not set it; the deployment template does): without it Lambda ignores the
answer and deletes a partly failed batch. When every message of a batch fails the invocation
raises, which retries the whole batch under either setting.
"""

import json
import logging

from chalice import Blueprint

from chalicelib import config, observability
from chalicelib.services import emails, fulfilment, relay

bp = Blueprint(__name__)
log = logging.getLogger(__name__)

# A fulfilment hand-over can wait FULFILMENT_WEBHOOK_TIMEOUT (5 s) per message: a batch of 3 stays at
# half the function's timeout (30 s, .chalice/config.json), which stays a sixth of the queues'
# visibility timeout (180 s). A timed-out batch is retried whole; the consumers de-duplicate.
EMAIL_BATCH_SIZE = 10
FULFILMENT_BATCH_SIZE = 3


@bp.on_dynamodb_record(stream_arn=config.settings().table_stream_arn, batch_size=100, starting_position="LATEST")
def on_table_change(event):
    relay.relay([record.to_dict() for record in event])


@bp.on_sqs_message(queue=config.settings().email_queue_name, batch_size=EMAIL_BATCH_SIZE)
def on_email_message(event):
    return each_message(event, lambda message, body: emails.deliver(message))


@bp.on_sqs_message(queue=config.settings().fulfilment_queue_name, batch_size=FULFILMENT_BATCH_SIZE)
def on_fulfilment_message(event):
    return each_message(event, fulfilment.hand_over)


def each_message(event, work) -> dict:
    """Run `work(message, body)` for every record of an SQS batch; the failed ones (logged with their
    traceback) are reported back for redelivery. Raises when nothing in the batch succeeded."""
    records = list(event)
    failures, errors = [], []
    for record in records:
        message_id = record.to_dict().get("messageId")
        try:
            message = json.loads(record.body)
            # Log under the id of the request that caused the event (carried by the relay).
            observability.start(message.get("correlation_id") if isinstance(message, dict) else None, message_id)
            work(message, record.body)
        except Exception as error:
            log.exception("SQS message %s failed; it will be delivered again", message_id)
            failures.append({"itemIdentifier": message_id})
            errors.append(error)
    if errors and len(errors) == len(records):
        if len(errors) == 1:
            raise errors[0]
        raise ExceptionGroup(f"all {len(errors)} messages of the batch failed", errors)
    return {"batchItemFailures": failures}
