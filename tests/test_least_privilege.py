"""The other side of least privilege: each function's IAM policy (.chalice/policy-*.json) allows every
AWS call the function makes. A policy one action too narrow would otherwise only fail in AWS: the
main flows run here against moto, each AWS call is attributed to the function that made it, and
checked against that function's policy (action and resource). tests/test_package.py checks that
the policies grant nothing more than named resources.
"""

import json
import re
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from botocore import handlers

from chalicelib import clock
from chalicelib.services import emails
from tests.conftest import ADMIN, make_product
from tests.orders_support import Stream, checked_out, post_event
from tests.queue_support import pump
from tests.test_webhooks import order_of, paid_event

ROOT = Path(__file__).resolve().parent.parent
STAGE = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]
EVENT = "before-parameter-build"
SENDER = "shop@example.com"

# A call inside a DynamoDB transaction needs the permission of its single-item twin (AWS: "Using
# IAM with DynamoDB transactions"); dynamodb:TransactWriteItems is no IAM action.
TRANSACTION_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                       "ConditionCheck": "ConditionCheckItem"}


def policy(function: str) -> list[dict]:
    name = STAGE["iam_policy_file"] if function == "api" else STAGE["lambda_functions"][function]["iam_policy_file"]
    return json.loads((ROOT / ".chalice" / name).read_text())["Statement"]


class Recorder:
    """(function, IAM action, resource) of every AWS call made inside `function(name)`. Resources as
    the policies name them: `${Table.Arn}`, `${Table.Arn}/index/*`, `${EmailQueue.Arn}`, SSM
    parameter ARNs with the stage as `${Stage}`."""

    def __init__(self, outputs: dict):
        self.calls: list[tuple[str, str, str]] = []
        self.current: str | None = None
        self.queues = {outputs["EmailQueueUrl"]: "${EmailQueue.Arn}",
                       outputs["FulfilmentQueueUrl"]: "${FulfilmentQueue.Arn}"}
        self.documents = outputs["DocumentsBucketName"]
        self.pools: dict[str, str] = {}  # user pool id: its ARN as the policies name it (`${StaffPool.Arn}`)

    @contextmanager
    def function(self, name: str):
        self.current = name
        try:
            yield
        finally:
            self.current = None

    def __call__(self, params, model, **_):
        if self.current is None:
            return
        service, operation = model.service_model.service_name, model.name
        for action, resource in self._needs(service, operation, params):
            self.calls.append((self.current, action, resource))

    def _needs(self, service: str, operation: str, params: dict):
        if service == "dynamodb":
            if operation == "TransactWriteItems":
                for item in params["TransactItems"]:
                    [(kind, _)] = item.items()
                    yield f"dynamodb:{TRANSACTION_ACTIONS[kind]}", "${Table.Arn}"
            elif operation == "Query" and params.get("IndexName"):
                yield "dynamodb:Query", "${Table.Arn}/index/*"
            else:
                yield f"dynamodb:{operation}", "${Table.Arn}"
        elif service == "dynamodbstreams":  # Lambda's stream mapping reads with the function's role
            stream = "${Table.Arn}/stream/*" if operation == "ListStreams" else "${Table.StreamArn}"
            yield f"dynamodb:{operation}", stream
        elif service == "sqs":
            batch = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}
            yield f"sqs:{batch.get(operation, operation)}", self.queues[params["QueueUrl"]]
        elif service == "sesv2":
            yield f"ses:{operation}", "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"
        elif service == "ssm":
            name = re.sub(r"^/commerce/[^/]+/", "/commerce/${Stage}/", params["Name"])
            yield f"ssm:{operation}", "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + name
        elif service == "s3":  # the catalogue views' bucket, or the documents' (invoice PDFs)
            arn = "${DocumentsBucket.Arn}" if params.get("Bucket") == self.documents else "${ViewsBucket.Arn}"
            if operation in ("GetObject", "HeadObject"):
                yield "s3:GetObject", f"{arn}/*"
                yield "s3:ListBucket", arn  # else a missing object is a 403, not a 404
            else:
                yield f"s3:{operation}", f"{arn}/*"
        elif service == "cognito-idp" and params.get("UserPoolId") in self.pools:
            yield f"cognito-idp:{operation}", self.pools[params["UserPoolId"]]
        else:
            yield f"{service}:{operation}", "?"


@pytest.fixture
def recorder(aws):
    recording = Recorder(aws)
    spec = (EVENT, recording)
    handlers.BUILTIN_HANDLERS.append(spec)  # every client created from now on (moto's session included)
    boto3.DEFAULT_SESSION.events.register(EVENT, recording)
    try:
        yield recording
    finally:
        handlers.BUILTIN_HANDLERS.remove(spec)
        boto3.DEFAULT_SESSION.events.unregister(EVENT, recording)
        recording.current = None


def allowed(function: str, action: str, resource: str) -> bool:
    return any(action in statement["Action"] and resource in statement["Resource"] for statement in policy(function))


def test_every_aws_call_of_the_main_flows_is_allowed_by_the_policy_of_its_function(shop, aws, recorder, monkeypatch):
    from tests.conftest import reset_clients

    reset_clients()  # clients made before the recorder was installed would not be seen
    monkeypatch.setenv("EMAIL_SENDER", SENDER)
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    emails._ses.cache_clear()
    stream = Stream()

    with recorder.function("api"):
        make_product(shop, on_hand=5)
        # TEE-M's stock split over shard items (models/stock.py), folded back below: Put and Delete
        # of shard items in transactions.
        assert shop.put("/admin/inventory/TEE-M", {"on_hand": 5, "shards": 3}, headers=ADMIN).status_code == 200
        paid = checked_out(shop, {"TEE-M": 2})
        unpaid = checked_out(shop, {"TEE-M": 1})
        assert post_event(shop, paid_event(paid)).status_code == 200
        assert order_of(shop, paid)["status"] == "paid"
        assert shop.get("/admin/orders", headers=ADMIN).status_code == 200
        shipment = shop.post(f"/admin/orders/{paid['order']['id']}/shipments",
                             {"carrier": "DHL", "tracking_number": "JD0146"}, headers=ADMIN | {"Idempotency-Key": "k1"})
        assert shipment.status_code == 201, shipment.data

    moment = clock.now() + timedelta(minutes=31)  # past the unpaid order's payment deadline
    monkeypatch.setattr(clock, "now", lambda: moment)
    tick = shop.raw.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                             resources=[])
    with recorder.function("expire_unpaid_orders"):
        assert shop.raw.lambda_.invoke("expire_unpaid_orders", tick).payload == {"cancelled": 1}
    assert order_of(shop, unpaid)["status"] == "cancelled"
    with recorder.function("api"):
        assert shop.put("/admin/inventory/TEE-M", {"on_hand": 5, "shards": 1}, headers=ADMIN).status_code == 200

    with recorder.function("on_table_change"):
        shop.raw.lambda_.invoke("on_table_change", {"Records": stream.read()})

    # pump() also receives and deletes, as Lambda's event source mapping does with the function's role.
    for function, queue in (("on_email_message", "EmailQueueUrl"), ("on_fulfilment_message", "FulfilmentQueueUrl")):
        with recorder.function(function):
            result = pump(shop, function, aws[queue])
        assert result["received"] and not result["failed"], (function, result)

    functions = {function for function, _, _ in recorder.calls}
    assert functions == {"api", "expire_unpaid_orders", "on_table_change", "on_email_message",
                         "on_fulfilment_message"}
    assert ("on_email_message", "ses:SendEmail") in {call[:2] for call in recorder.calls}
    print("\n".join(sorted({f"{f}: {a} on {r}" for f, a, r in recorder.calls})))
    denied = sorted({call for call in recorder.calls if not allowed(*call)})
    assert not denied, "\n".join(f"{f}: {a} on {r}" for f, a, r in denied)


def test_the_catalogue_views_rebuild_and_search_are_allowed_by_their_policies(client, aws, recorder):
    from tests.conftest import reset_clients
    from tests.growth_support import relay, scheduled

    reset_clients()
    stream = Stream()
    with recorder.function("api"):
        make_product(client, on_hand=5)
        assert client.get("/search?q=shirt").status_code == 502  # not built yet: a 404 inside, not a 403
    with recorder.function("on_table_change"):
        relay(client, stream)
    with recorder.function("refresh_catalogue_views"):
        assert scheduled(client, "refresh_catalogue_views")["rebuilt"] is True
    with recorder.function("api"):
        assert client.get("/search?q=shirt").status_code == 200
        assert client.raw.http.get("/feeds/google.xml").status_code == 200

    functions = {function for function, _, _ in recorder.calls}
    assert functions == {"api", "on_table_change", "refresh_catalogue_views"}
    assert ("refresh_catalogue_views", "s3:PutObject") in {call[:2] for call in recorder.calls}
    denied = sorted({call for call in recorder.calls if not allowed(*call)})
    assert not denied, "\n".join(f"{f}: {a} on {r}" for f, a, r in denied)


def test_paying_by_invoice_and_its_reminders_are_allowed_by_their_policies(client, aws, recorder, pool, monkeypatch):
    from tests.b2b_support import account_cart, add_buyer, make_company
    from tests.conftest import reset_clients
    from tests.growth_support import relay, scheduled

    reset_clients()
    monkeypatch.setenv("EMAIL_SENDER", SENDER)
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    emails._ses.cache_clear()
    stream = Stream()
    make_product(client, on_hand=5)
    company = make_company(client, payment_terms_days=30, credit_limit={"EUR": 100000})
    headers = add_buyer(client, pool, company["id"], "ada@acme.example")  # signs up in the pool: the test's calls
    with recorder.function("api"):
        cart = account_cart(client, headers, {"TEE-M": 1})
        placed = client.post(f"/carts/{cart['id']}/checkout", {"payment_method": "invoice"}, headers=headers)
        assert placed.status_code == 201, placed.data
        invoice_id = placed.data["order"]["invoice"]["id"]
        assert client.get(f"/admin/invoices/{invoice_id}", headers=ADMIN).status_code == 200
    moment = clock.now() + timedelta(days=31)
    monkeypatch.setattr(clock, "now", lambda: moment)
    with recorder.function("remind_overdue_invoices"):
        assert scheduled(client, "remind_overdue_invoices") == {"reminded": 1}
    with recorder.function("api"):
        assert client.post(f"/admin/invoices/{invoice_id}/paid", headers=ADMIN).status_code == 200
    with recorder.function("on_table_change"):
        relay(client, stream)
    with recorder.function("on_email_message"):
        result = pump(client, "on_email_message", aws["EmailQueueUrl"])
    assert result["received"] and not result["failed"], result

    functions = {function for function, _, _ in recorder.calls}
    assert functions == {"api", "remind_overdue_invoices", "on_table_change", "on_email_message"}
    assert ("api", "s3:PutObject") in {call[:2] for call in recorder.calls}
    denied = sorted({call for call in recorder.calls if not allowed(*call)})
    assert not denied, "\n".join(f"{f}: {a} on {r}" for f, a, r in denied)


def test_managing_staff_accounts_is_allowed_on_the_staff_pool_only(client, aws, recorder, monkeypatch):
    from urllib.parse import quote

    from chalicelib import accounts, config
    from tests.customers_support import create_pool

    staff = create_pool("commerce-test-staff")
    cognito = boto3.client("cognito-idp")
    for role in ("owner", "support", "fulfilment"):
        cognito.create_group(UserPoolId=staff.pool_id, GroupName=role)
    cognito.admin_create_user(UserPoolId=staff.pool_id, Username="olive@staff.example.com", MessageAction="SUPPRESS")
    cognito.admin_add_user_to_group(UserPoolId=staff.pool_id, Username="olive@staff.example.com", GroupName="owner")
    monkeypatch.setenv("STAFF_USER_POOL_ID", staff.pool_id)
    monkeypatch.setenv("STAFF_CLIENT_ID", staff.client_id)
    config.reset()
    accounts.reset()
    recorder.pools[staff.pool_id] = "${StaffPool.Arn}"
    with recorder.function("api"):
        invited = client.post("/admin/staff", {"email": "nia@staff.example.com", "role": "support"}, headers=ADMIN)
        assert invited.status_code == 201, invited.data
        path = f"/admin/staff/{quote(invited.data['username'], safe='')}"
        assert client.put(f"{path}/role", {"role": "fulfilment"}, headers=ADMIN).status_code == 200
        assert client.post(f"{path}/disable", headers=ADMIN).status_code == 200
        assert client.post(f"{path}/enable", headers=ADMIN).status_code == 200
        assert len(client.get("/admin/staff", headers=ADMIN).data["data"]) == 2

    cognito_calls = {call for call in recorder.calls if call[1].startswith("cognito-idp:")}
    assert {"cognito-idp:AdminCreateUser", "cognito-idp:AdminUserGlobalSignOut",
            "cognito-idp:ListUsersInGroup"} <= {action for _, action, _ in cognito_calls}
    assert {resource for _, _, resource in cognito_calls} == {"${StaffPool.Arn}"}
    denied = sorted({call for call in recorder.calls if not allowed(*call)})
    assert not denied, "\n".join(f"{f}: {a} on {r}" for f, a, r in denied)
