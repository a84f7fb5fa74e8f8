"""The dead-letter queue tool: listing what failed and moving it back, against in-process moto."""

import io
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import events
from chalicelib.services import emails
from tests.queue_support import consumers_fixture, mail_fixture, message, pump, queue_bodies, sent_emails  # noqa: F401
from tools import dlq


def dead_letter(aws, queue_url: str, body: str) -> None:
    """Get `body` into the queue's dead-letter queue the way SQS does: received (and not deleted)
    maxReceiveCount times, then moved on the next receive."""
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queue_url, MessageBody=body,
                     MessageAttributes={"type": {"DataType": "String", "StringValue": "OrderPaid"}})
    for _ in range(6):
        sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)


def test_list_shows_each_dead_lettered_message_and_leaves_it_there(aws):
    paid = message("OrderPaid", queue=events.FULFILMENT)
    dead_letter(aws, aws["FulfilmentQueueUrl"], paid)
    dead_letter(aws, aws["FulfilmentQueueUrl"], "garbage{")
    out = io.StringIO()
    rows = dlq.list_messages("fulfilment", out=out)
    by_type = {r["type"]: r for r in rows}
    assert by_type["OrderPaid"]["id"] == json.loads(paid)["id"]
    assert by_type["(not an event)"]["id"] == f"message {by_type['(not an event)']['message_id']}"
    assert all(r["receive_count"] == 6 for r in rows)  # five consumer receives, then this listing
    text = out.getvalue()
    assert "2 dead-lettered message(s) in" in text and "commerce-test-fulfilment-dlq" in text
    assert json.loads(paid)["id"] in text
    assert len(queue_bodies(aws["FulfilmentDeadLetterQueueUrl"])) == 2  # still there, visible again
    assert dlq.list_messages("email", out=io.StringIO()) == []


def test_redrive_moves_messages_back_to_their_source_queue(aws):
    bodies = [message("OrderPaid", queue=events.FULFILMENT) for _ in range(12)]
    for body in bodies:
        dead_letter(aws, aws["FulfilmentQueueUrl"], body)
    assert dlq.redrive("fulfilment", out=io.StringIO()) == 12
    assert queue_bodies(aws["FulfilmentDeadLetterQueueUrl"]) == []
    sqs = boto3.client("sqs")
    back = []
    while answer := sqs.receive_message(QueueUrl=aws["FulfilmentQueueUrl"], MaxNumberOfMessages=10,
                                        MessageAttributeNames=["All"]).get("Messages"):
        back += answer
        sqs.delete_message_batch(QueueUrl=aws["FulfilmentQueueUrl"], Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(answer)])
    assert sorted(m["Body"] for m in back) == sorted(bodies)
    assert all(m["MessageAttributes"]["type"]["StringValue"] == "OrderPaid" for m in back)


def test_a_failed_email_is_sent_once_after_the_fix_and_a_redrive(mail, aws):
    def raiser(**kwargs):
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": "injected"}}, "SendEmail")

    emails._ses().meta.events.register("before-call.sesv2.SendEmail", raiser)
    body = message("OrderPaid")
    boto3.client("sqs").send_message(QueueUrl=aws["EmailQueueUrl"], MessageBody=body)
    while pump(mail, "on_email_message", aws["EmailQueueUrl"])["received"]:
        pass
    assert queue_bodies(aws["EmailDeadLetterQueueUrl"]) == [body] and sent_emails() == []

    emails._ses().meta.events.unregister("before-call.sesv2.SendEmail", raiser)  # the fix
    assert dlq.main(["redrive", "email"]) == 0
    assert pump(mail, "on_email_message", aws["EmailQueueUrl"]) == {"received": 1, "failed": 0, "raised": None}
    assert len(sent_emails()) == 1


def test_queues_are_found_from_the_stack_outputs_when_the_environment_does_not_name_them(aws, monkeypatch):
    from chalicelib import config

    monkeypatch.delenv("EMAIL_QUEUE_URL")
    config.reset()
    assert dlq.source_url("email", stack="commerce-test") == aws["EmailQueueUrl"]
    monkeypatch.setenv("STACK_NAME", "commerce-test")
    assert dlq.source_url("email") == aws["EmailQueueUrl"]
    monkeypatch.setenv("STACK_NAME", "no-such-stack")
    monkeypatch.setenv("STAGE", "test")
    config.reset()
    assert dlq.source_url("email") == aws["EmailQueueUrl"]  # by the stage's queue name
    sqs = boto3.client("sqs")
    assert dlq.dead_letter_url(sqs, aws["EmailQueueUrl"]) == aws["EmailDeadLetterQueueUrl"]
    monkeypatch.undo()
    config.reset()


def test_an_unknown_queue_is_refused(capsys):
    with pytest.raises(SystemExit):
        dlq.main(["list", "orders"])
    assert "invalid choice" in capsys.readouterr().err


# --- the stream's on-failure queue -----------------------------------------------------------


@pytest.fixture
def streams_endpoint(monkeypatch):
    # botocore's endpoint rules send DynamoDB Streams calls to a host in-process moto does not
    # intercept; the classic endpoint is (see tests/orders_support.Stream).
    region = boto3.session.Session().region_name
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", f"https://streams.dynamodb.{region}.amazonaws.com")


def set_aside(stream, records: list[dict]) -> dict:
    """What Lambda sends the stream mapping's on-failure queue after the relay failed `records`."""
    from devstack.pump import on_failure_message

    [shard] = stream.client.describe_stream(StreamArn=stream.arn)["StreamDescription"]["Shards"]
    failure = on_failure_message(records, stream.arn, shard["ShardId"], 11,
                                 "arn:aws:lambda:eu-west-1:123456789012:function:commerce-test-on_table_change")
    boto3.client("sqs").send_message(QueueUrl=dlq.stream_failure_url(), MessageBody=json.dumps(failure))
    return failure


def test_a_failed_stream_batch_is_read_back_from_the_stream_and_relayed_once(shop, aws, streams_endpoint):
    from tests.conftest import make_product
    from tests.orders_support import Stream, checked_out, post_event, queue_messages
    from tests.test_webhooks import paid_event

    make_product(shop, on_hand=5)
    order = checked_out(shop, {"TEE-M": 1})
    stream = Stream()
    stream.read()  # relayed: the product and the checkout
    assert post_event(shop, paid_event(order)).status_code == 200
    records = stream.read()
    assert records, "the payment changed nothing in the table"
    failure = set_aside(stream, records)

    out = io.StringIO()
    assert dlq.main(["list", "stream"]) == 0
    [row] = dlq.list_stream_failures(out=out)
    info = failure["DDBStreamBatchInfo"]
    assert (row["start"], row["end"], row["records"]) == (info["startSequenceNumber"], info["endSequenceNumber"],
                                                          len(records))
    assert queue_messages(aws["EmailQueueUrl"]) == []

    assert dlq.replay(out=out) == 1
    paid = [m for m in queue_messages(aws["EmailQueueUrl"]) if m["type"] == "OrderPaid"]
    assert [m["data"]["order"]["id"] for m in paid] == [order["order"]["id"]]
    assert queue_bodies(aws["StreamFailureQueueUrl"]) == []
    assert dlq.replay(out=out) == 0  # nothing left


def test_a_batch_the_stream_no_longer_holds_is_reported_and_kept(shop, aws, streams_endpoint):
    from tests.conftest import make_product
    from tests.orders_support import Stream

    make_product(shop, on_hand=5)
    stream = Stream()
    records = stream.read()
    gone = [dict(r, dynamodb=dict(r["dynamodb"], SequenceNumber=str(10**30 + i))) for i, r in enumerate(records)]
    set_aside(stream, gone)
    with pytest.raises(SystemExit, match="no longer holds"):
        dlq.replay(out=io.StringIO())
    assert len(queue_bodies(aws["StreamFailureQueueUrl"])) == 1


def test_replay_is_only_for_the_stream_and_redrive_only_for_queues(capsys):
    for argv in (["replay", "email"], ["redrive", "stream"]):
        with pytest.raises(SystemExit):
            dlq.main(argv)
        assert "replayed (replay stream)" in capsys.readouterr().err
