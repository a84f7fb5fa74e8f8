"""The moto world every test builds from `infra/template.yaml`, and small builders.

In-process moto (`mock_aws`) serves most tests; tests that run requests concurrently use the
`moto_server` fixture instead, because in-process moto is not thread-safe.
"""

import hashlib
import json
import os
from pathlib import Path

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = (ROOT / "infra" / "template.yaml").read_text()
ADMIN_KEY = "test-admin-key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
JSON = {"Content-Type": "application/json"}

os.environ.update(AWS_DEFAULT_REGION="eu-west-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)


def build_world(stack: str = "commerce-test", stage: str = "test") -> dict:
    """Create the stack from the template and point the app's configuration at its resources."""
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName=stack, TemplateBody=TEMPLATE,
                                Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}])
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
    os.environ.update(
        STAGE=stage,
        TABLE_NAME=outputs["TableName"],
        FULFILMENT_QUEUE_URL=outputs["FulfilmentQueueUrl"],
        EMAIL_QUEUE_URL=outputs["EmailQueueUrl"],
        VIEWS_BUCKET=outputs["ViewsBucketName"],
        DOCUMENTS_BUCKET=outputs["DocumentsBucketName"],
        IMAGES_BUCKET=outputs["ImagesBucketName"],
        ADMIN_KEY_HASHES=hashlib.sha256(ADMIN_KEY.encode()).hexdigest(),
        GIFT_CARD_SECRET="gift-card-test-secret",
    )
    reset_clients()
    return outputs


def reset_clients() -> None:
    from chalicelib import config, publishing
    from chalicelib.repository import catalogue_views, documents, dynamo, images
    from chalicelib.services import search

    config.reset()
    dynamo.client.cache_clear()
    publishing._sqs.cache_clear()
    catalogue_views.s3.cache_clear()
    documents.s3.cache_clear()
    images.s3.cache_clear()
    search.forget()


@pytest.fixture
def aws():
    """A fresh in-process moto world built from the template."""
    with mock_aws():
        yield build_world()
    reset_clients()


@pytest.fixture
def client(aws):
    from app import app

    # Stage "test" is not in .chalice/config.json: no stage environment (SSM parameter names,
    # shop settings) is layered over what the test sets.
    with Client(app, stage_name="test") as test_client:
        yield Api(test_client)


class Api:
    """Thin JSON helper over chalice.test.Client."""

    def __init__(self, test_client: Client):
        self.raw = test_client

    def request(self, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        answer = self.raw.http.request(method, path, body=payload, headers={**JSON, **(headers or {})})
        answer.data = json.loads(answer.body) if answer.body else None
        return answer

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


# --- builders -------------------------------------------------------------------------------


def product_body(sku_prefix: str = "TEE", price: int = 1999, on_hand: int = 10, currency: str = "EUR",
                 sizes=("S", "M"), active: bool = True, title: str = "T-shirt") -> dict:
    return {"title": title, "description": "Organic cotton.", "active": active,
            "variants": [{"sku": f"{sku_prefix}-{size}", "title": size, "price": price, "currency": currency,
                          "on_hand": on_hand} for size in sizes]}


def make_product(api: Api, **kw) -> dict:
    answer = api.post("/admin/products", product_body(**kw), headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def make_cart(api: Api, **body) -> dict:
    answer = api.post("/carts", body)
    assert answer.status_code == 201, answer.data
    return answer.data


ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115",
           "country": "DE"}


def ready_cart(api: Api, lines: dict[str, int], email: str = "ada@example.com", method: str = "standard") -> dict:
    """A cart with lines, email, address and shipping method: ready to check out."""
    cart = make_cart(api)
    for sku, quantity in lines.items():
        answer = api.post(f"/carts/{cart['id']}/lines", {"sku": sku, "quantity": quantity})
        assert answer.status_code == 200, answer.data
    answer = api.patch(f"/carts/{cart['id']}", {"email": email, "shipping_address": ADDRESS,
                                                 "shipping_method": method})
    assert answer.status_code == 200, answer.data
    return answer.data


@pytest.fixture
def shop(client, localstripe):
    """The API client with Stripe pointed at the test localstripe."""
    from tests.orders_support import use_localstripe

    use_localstripe(localstripe)
    return client


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SerializedMotoServer:
    """A moto server on a thread that handles one request at a time.

    moto's backends are not atomic under concurrent requests (a conditional write or a transaction
    can interleave with another), while DynamoDB's conditional writes are. Serialising the WSGI
    app restores that guarantee; clients still race each other over HTTP exactly as in production.
    """

    def __init__(self, port: int):
        import threading

        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def serialized(environ, start_response):
            with lock:
                return list(app(environ, start_response))

        self.server = make_server("127.0.0.1", port, serialized, threaded=True, request_handler=MotoRequestHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> "SerializedMotoServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()


@pytest.fixture
def moto_server():
    """A moto *server* (over HTTP, see SerializedMotoServer) with the world built from the
    template, for tests that run requests concurrently. Yields the stack outputs."""
    import urllib.request

    server = SerializedMotoServer(free_port()).start()
    # moto's backends live in this process: a second server in one test session would see the first one's world.
    urllib.request.urlopen(urllib.request.Request(f"{server.url}/moto-api/reset", method="POST"), timeout=10)  # noqa: S310
    os.environ["AWS_ENDPOINT_URL"] = server.url
    try:
        yield build_world()
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        reset_clients()
        server.stop()


pytest_plugins = ["tests.stripe_support", "tests.customers_support", "tests.staff_support"]
