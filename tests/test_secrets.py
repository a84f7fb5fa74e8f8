"""Secrets in a deployed stage come from SSM Parameter Store: `chalicelib.config.secret(NAME)` reads
the parameter named by `NAME_PARAM` and caches it per container for SECRETS_TTL_SECONDS, so a
rotated secret is picked up without a redeploy. Against moto's SSM, with the parameter names of
a deployed stage (README, "Deploying to AWS")."""

import hashlib
import json
import time

import boto3
import pytest

from chalicelib import config
from tests.conftest import ADMIN_KEY, product_body
from tests.stripe_support import sign

ADMIN_KEY_HASHES = "/commerce/test/admin-key-hashes"
STRIPE_WEBHOOK_SECRETS = "/commerce/test/stripe-webhook-secrets"


def put(name: str, value: str) -> None:
    boto3.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def from_ssm(aws, monkeypatch):
    """The app configured like a deployed stage: secrets only as SSM parameter names."""
    for name in ("ADMIN_KEY_HASHES", "STRIPE_WEBHOOK_SECRETS", "STRIPE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADMIN_KEY_HASHES_PARAM", ADMIN_KEY_HASHES)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRETS_PARAM", STRIPE_WEBHOOK_SECRETS)
    put(ADMIN_KEY_HASHES, sha256("key-from-ssm"))
    put(STRIPE_WEBHOOK_SECRETS, "whsec_old")
    config.reset()


def create_product(client, key: str):
    body = product_body(sku_prefix=sha256(key)[:8].upper())
    return client.post("/admin/products", body, headers={"Authorization": f"Bearer {key}"})


def post_webhook(client, secret: str):
    # An event type the shop ignores: only the signature check matters here.
    payload = json.dumps({"id": "evt_rotation", "object": "event", "type": "customer.created",
                          "data": {"object": {"id": "cus_1"}}}).encode()
    return client.request("POST", "/webhooks/stripe", raw=payload, headers={"Stripe-Signature": sign(payload, secret)})


def test_admin_key_hashes_are_read_from_ssm_when_the_param_is_set(client, from_ssm):
    assert create_product(client, "key-from-ssm").status_code == 201
    # The key whose hash the test world put in the environment no longer counts.
    assert create_product(client, ADMIN_KEY).status_code == 401


def test_a_second_admin_key_in_ssm_works_alongside_the_first(client, from_ssm, monkeypatch):
    monkeypatch.setenv("SECRETS_TTL_SECONDS", "0")
    put(ADMIN_KEY_HASHES, f"{sha256('key-from-ssm')},{sha256('next-key')}")

    assert create_product(client, "next-key").status_code == 201
    assert create_product(client, "key-from-ssm").status_code == 201


def test_rotating_the_stripe_webhook_secret_in_ssm_needs_no_redeploy(client, from_ssm, monkeypatch):
    monkeypatch.setenv("SECRETS_TTL_SECONDS", "0")
    assert post_webhook(client, "whsec_old").status_code == 200
    assert post_webhook(client, "whsec_new").status_code == 400

    put(STRIPE_WEBHOOK_SECRETS, "whsec_new,whsec_old")  # Stripe signs with both while rolling
    assert post_webhook(client, "whsec_new").status_code == 200
    assert post_webhook(client, "whsec_old").status_code == 200

    put(STRIPE_WEBHOOK_SECRETS, "whsec_new")  # the old secret expired
    assert post_webhook(client, "whsec_new").status_code == 200
    answer = post_webhook(client, "whsec_old")
    assert (answer.status_code, answer.data["error"]["code"]) == (400, "invalid_signature")


def test_a_secret_is_cached_until_its_ttl_runs_out(from_ssm, monkeypatch):
    monkeypatch.setenv("SECRETS_TTL_SECONDS", "0.5")
    assert config.secret_list("STRIPE_WEBHOOK_SECRETS") == ["whsec_old"]

    put(STRIPE_WEBHOOK_SECRETS, "whsec_new")
    assert config.secret_list("STRIPE_WEBHOOK_SECRETS") == ["whsec_old"]  # one SSM read per TTL, not per request

    time.sleep(0.6)
    assert config.secret_list("STRIPE_WEBHOOK_SECRETS") == ["whsec_new"]
