"""The devstack's moto server (devstack/moto_fidelity.py patched in) keeps DynamoDB's semantics:
transactions check every condition and then apply all or nothing, with DynamoDB's error shapes;
stream records are trimmed once read (and after 24 h), iterators expire; a transaction's cost in
memory does not grow with the table."""

import os
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devstack.processes import Child, free_port

TABLE = "fidelity"


@pytest.fixture(scope="module")
def server():
    env = dict(os.environ)
    os.environ["MOTO_STREAM_READ_RETENTION_SECONDS"] = "0"  # read records go at once (inherited by the child)
    os.environ["MOTO_FIDELITY_CHECK_ANSWERS"] = "1"  # every plain-JSON answer is compared with moto's own
    child = Child("devstack.motoserver", free_port(), "moto server").start()
    try:
        child.wait_until_listening()
        yield child
    finally:
        child.stop()
        os.environ.clear()
        os.environ.update(env)


def _client(server, service="dynamodb"):
    return boto3.client(service, endpoint_url=server.url, region_name="eu-west-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def dynamodb(server):
    client = _client(server)
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                              {"AttributeName": "SK", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                   {"AttributeName": "SK", "KeyType": "RANGE"}],
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    yield client
    client.delete_table(TableName=TABLE)


def _key(pk, sk="A"):
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _stock(client, pk) -> int | None:
    item = client.get_item(TableName=TABLE, Key=_key(pk)).get("Item")
    return int(item["n"]["N"]) if item else None


def _take(pk, n=1):
    return {"Update": {"TableName": TABLE, "Key": _key(pk), "UpdateExpression": "SET n = n - :n",
                       "ConditionExpression": "n >= :n", "ExpressionAttributeValues": {":n": {"N": str(n)}},
                       "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}


def test_a_failed_condition_cancels_with_reasons_by_position_and_writes_nothing(dynamodb):
    for pk, n in (("a", 5), ("b", 1)):
        dynamodb.put_item(TableName=TABLE, Item={**_key(pk), "n": {"N": str(n)}})
    new = {"Put": {"TableName": TABLE, "Item": {**_key("order"), "n": {"N": "0"}},
                   "ConditionExpression": "attribute_not_exists(PK)"}}
    with pytest.raises(ClientError) as failed:
        dynamodb.transact_write_items(TransactItems=[_take("a", 2), _take("b", 2), new])
    error = failed.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    reasons = error["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None"]
    assert reasons[1]["Item"]["n"] == {"N": "1"}  # ALL_OLD
    assert "[None, ConditionalCheckFailed, None]" in error["Error"]["Message"]
    assert (_stock(dynamodb, "a"), _stock(dynamodb, "b"), _stock(dynamodb, "order")) == (5, 1, None)


def test_success_applies_every_write(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**_key("a"), "n": {"N": "5"}})
    dynamodb.put_item(TableName=TABLE, Item={**_key("gone"), "n": {"N": "0"}})
    dynamodb.transact_write_items(TransactItems=[
        _take("a", 2),
        {"Put": {"TableName": TABLE, "Item": {**_key("order"), "n": {"N": "2"}},
                 "ConditionExpression": "attribute_not_exists(PK)"}},
        {"Delete": {"TableName": TABLE, "Key": _key("gone")}},
        {"ConditionCheck": {"TableName": TABLE, "Key": _key("b"), "ConditionExpression": "attribute_not_exists(PK)"}},
    ])
    assert (_stock(dynamodb, "a"), _stock(dynamodb, "order"), _stock(dynamodb, "gone")) == (3, 2, None)


def test_two_actions_on_one_item_are_a_validation_error(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**_key("a"), "n": {"N": "5"}})
    with pytest.raises(ClientError) as failed:
        dynamodb.transact_write_items(TransactItems=[_take("a"), _take("a")])
    assert failed.value.response["Error"]["Code"] == "ValidationException"
    assert _stock(dynamodb, "a") == 5


def test_a_write_failing_half_way_puts_back_what_was_written(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={**_key("a"), "n": {"N": "5"}})
    dynamodb.put_item(TableName=TABLE, Item={**_key("b"), "s": {"S": "text"}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[
            _take("a"),
            {"Update": {"TableName": TABLE, "Key": _key("b"), "UpdateExpression": "ADD s :n",
                        "ExpressionAttributeValues": {":n": {"N": "1"}}}}])
    assert _stock(dynamodb, "a") == 5


def _stream(server):
    streams = _client(server, "dynamodbstreams")
    arn = _client(server).describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return streams, arn, shard


def test_stream_records_read_by_the_consumer_are_trimmed_and_numbers_go_on(server, dynamodb):
    for i in range(3):
        dynamodb.put_item(TableName=TABLE, Item={**_key(f"s{i}"), "n": {"N": "1"}, "b": {"B": b"\x00\xff"},
                                                 "m": {"M": {"l": {"L": [{"S": "x"}, {"NULL": True}]}}}})
    assert dynamodb.get_item(TableName=TABLE, Key=_key("s1"))["Item"]["b"] == {"B": b"\x00\xff"}
    streams, arn, shard = _stream(server)
    first = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=first["ShardIterator"])["Records"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert len(numbers) == 3
    assert records[0]["dynamodb"]["NewImage"]["b"] == {"B": b"\x00\xff"}
    assert records[0]["dynamodb"]["ApproximateCreationDateTime"].year >= 2024
    # The consumer moves past the first two: they are trimmed (retention 0 s in this test).
    after = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                       SequenceNumber=str(numbers[1]))["ShardIterator"]
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in streams.get_records(ShardIterator=after)["Records"]] == [
        numbers[2]]
    horizon = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in streams.get_records(
        ShardIterator=horizon["ShardIterator"])["Records"]] == [numbers[2]]
    with pytest.raises(ClientError) as trimmed:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                   SequenceNumber=str(numbers[0]))
    assert trimmed.value.response["Error"]["Code"] == "TrimmedDataAccessException"
    dynamodb.put_item(TableName=TABLE, Item={**_key("s3"), "n": {"N": "1"}})
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                        SequenceNumber=str(numbers[2]))["ShardIterator"]
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in streams.get_records(ShardIterator=latest)["Records"]] == [
        numbers[2] + 1]


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def test_a_transaction_costs_no_more_with_a_big_table(server, dynamodb):
    """moto deep-copied the table per transaction: 1.6 s at 5,000 items, memory growing with it."""
    blob = {"S": "x" * 500}
    for start in range(0, 3000, 25):
        dynamodb.batch_write_item(RequestItems={TABLE: [
            {"PutRequest": {"Item": {**_key(f"p{i}"), "n": {"N": "100"}, "blob": blob}}} for i in
            range(start, start + 25)]})
    _take("p1")  # warm
    before = _rss_kb(server.process.pid)
    started = time.monotonic()
    for i in range(40):
        dynamodb.transact_write_items(TransactItems=[_take(f"p{i}"), _take(f"p{i + 1000}")])
    per_transaction = (time.monotonic() - started) / 40
    grown_mb = (_rss_kb(server.process.pid) - before) / 1024
    assert per_transaction < 0.25, f"{per_transaction:.2f} s per transaction at 3,000 items"
    assert grown_mb < 20, f"moto grew {grown_mb:.0f} MB over 40 transactions"
    assert _stock(dynamodb, "p0") == 99
    items = dynamodb.query(TableName=TABLE, KeyConditionExpression="PK = :p",
                           ExpressionAttributeValues={":p": {"S": "p7"}})["Items"]
    assert [item["n"]["N"] for item in items] == ["99"]


def test_email_keeps_being_sent_past_the_kept_messages(server):
    """The devstack's moto keeps only the last 100 sent messages (SES keeps none); sending goes on."""
    ses = _client(server, "sesv2")
    ses.create_email_identity(EmailIdentity="shop@example.com")
    for i in range(110):
        ses.send_email(FromEmailAddress="shop@example.com", Destination={"ToAddresses": [f"c{i}@example.com"]},
                       Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "x"}}}})
    assert _client(server, "ses").get_send_quota()["SentLast24Hours"] == 110
