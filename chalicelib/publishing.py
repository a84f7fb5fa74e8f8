"""Publishing events to their SQS queues (the email and the fulfilment queue)."""

from functools import lru_cache

from chalicelib import config
from chalicelib.events import EMAIL, FULFILMENT, Event


@lru_cache(maxsize=1)
def _sqs():
    import boto3

    return boto3.client("sqs")


def queue_url(queue: str) -> str:
    settings = config.settings()
    return {FULFILMENT: settings.fulfilment_queue_url, EMAIL: settings.email_queue_url}[queue]


def publish(events: list[Event]) -> None:
    """Send each event to its queues (batches of 10). Raises if any message was not accepted, so
    the caller's source (the stream) delivers again; consumers de-duplicate the resent ones."""
    by_queue: dict[str, list[Event]] = {}
    for event in events:
        for queue in event.queues:
            by_queue.setdefault(queue, []).append(event)
    for queue, queued in by_queue.items():
        for start in range(0, len(queued), 10):
            batch = queued[start:start + 10]
            answer = _sqs().send_message_batch(QueueUrl=queue_url(queue), Entries=[
                {"Id": str(i), "MessageBody": e.body(queue),
                 "MessageAttributes": {"type": {"DataType": "String", "StringValue": e.type}}}
                for i, e in enumerate(batch)])
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} messages for {queue}: {answer['Failed']}")
