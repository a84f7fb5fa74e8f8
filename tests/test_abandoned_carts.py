"""Abandoned carts: one reminder per idle cart (found through the time-bucketed idle index, never a
Scan), its signed expiring restore link, and the revenue it recovers."""

import json
import re
from datetime import timedelta
from urllib.parse import unquote

import boto3
import pytest

from chalicelib import cart_links, clock, config
from chalicelib.repository import carts, dynamo
from chalicelib.services import abandoned_carts, emails
from tests import test_least_privilege
from tests.conftest import ADMIN, make_product
from tests.growth_support import at_fixture, cart_with, check_out, pay, relay, scheduled  # noqa: F401
from tests.orders_support import Stream, queue_messages
from tests.queue_support import consumers_fixture, mail_fixture, pump, sent_emails, sqs_event  # noqa: F401

SECRET = "cart-link-test-secret"
recorder = test_least_privilege.recorder  # the fixture: AWS calls by function
allowed = test_least_privilege.allowed


@pytest.fixture
def signing(monkeypatch):
    monkeypatch.setenv("CART_LINK_SECRET", SECRET)
    monkeypatch.setenv("UNSUBSCRIBE_SECRET", "unsubscribe-test-secret")


def consent(email: str = "ada@example.com", granted: bool = True) -> None:
    """The shopper said yes (or no) to marketing email: reminders are marketing."""
    from chalicelib.models.customers import MarketingConsent, customer_id_for
    from chalicelib.repository import customers

    customers.save_profile(customer_id_for(email), email, clock.now(), marketing_consent=MarketingConsent(
        granted=granted, at=clock.now(), source="checkout"))


def sweep(api) -> int:
    return scheduled(api, "sweep_abandoned_carts")["reminded"]


def restore(api, token: str):
    return api.post("/carts/restore", {"token": token})


def reminders(queue_url: str) -> list[dict]:
    return [m for m in queue_messages(queue_url) if m["type"] == "CartAbandoned"]


def link_in(sent) -> str:
    """The restore token in a sent email's (HTML) body."""
    return unquote(re.search(r"/cart\.html\?restore=([^\"&\s<]+)", sent.body).group(1))


def test_an_idle_cart_gets_one_reminder_whose_link_restores_it(shop, mail, aws, at, signing):
    stream = Stream()
    make_product(shop)
    consent()
    start = at(clock.now())
    idle = cart_with(shop, {"TEE-M": 2, "TEE-S": 1})
    cart_with(shop, {"TEE-M": 1}, email=None)       # nobody to remind
    cart_with(shop, {})                             # nothing to remind of
    check_out(shop, cart_with(shop, {"TEE-M": 1})["id"])  # bought

    at(start + timedelta(minutes=59))
    assert sweep(shop) == 0  # not idle long enough yet
    at(start + timedelta(minutes=61))
    assert sweep(shop) == 1
    at(start + timedelta(minutes=76))
    assert sweep(shop) == 0  # reminded once

    relay(shop, stream)
    [reminder] = reminders(aws["EmailQueueUrl"])
    assert reminder["id"] == f"{idle['id']}.CartAbandoned"
    assert reminder["data"]["cart"] | {"lines": None} == {"id": idle["id"], "email": "ada@example.com",
                                                          "currency": "EUR", "lines": None, "subtotal": 5997}
    assert [(line["title"], line["quantity"]) for line in reminder["data"]["cart"]["lines"]] == [
        ("T-shirt – M", 2), ("T-shirt – S", 1)]

    delivered = mail.raw.lambda_.invoke("on_email_message", sqs_event(mail, json.dumps(reminder)))
    assert delivered.payload == {"batchItemFailures": []}
    [sent] = sent_emails()
    assert sent.destinations["ToAddresses"] == ["ada@example.com"]
    assert "Your cart is waiting" in sent.subject and "T-shirt – M" in sent.body
    assert "https://shop.example/cart.html?restore=" in sent.body
    assert "https://shop.example/unsubscribe.html?token=cus_" in sent.body
    from email import message_from_bytes, policy

    [eml] = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in mail.outbox.glob("*.eml")]
    assert re.fullmatch(r"<http://127\.0\.0\.1:8000/unsubscribe\?token=cus_\w+\.[\w-]+>",
                        re.sub(r"\s+", "", eml["List-Unsubscribe"]))
    assert eml["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    restored = restore(shop, link_in(sent))
    assert restored.status_code == 200, restored.data
    assert (restored.data["id"], restored.data["status"], restored.data["subtotal"]) == (idle["id"], "open", 5997)
    assert carts.get(idle["id"]).recovered is True
    assert restore(shop, link_in(sent)).status_code == 200  # the link works again until it expires


def test_overlapping_sweeps_and_later_changes_still_send_one_email_per_cart(shop, mail, aws, at, signing):
    stream = Stream()
    make_product(shop)
    consent()
    start = at(clock.now())
    idle = cart_with(shop, {"TEE-M": 1})

    at(start + timedelta(minutes=61))
    assert abandoned_carts.sweep() == 1
    dynamo.call("delete_item", TableName=dynamo.table(), Key=dynamo.to_item(carts.sweep_key()))
    assert abandoned_carts.sweep() == 0  # a second sweep that started from the same position
    at(start + timedelta(minutes=70))
    assert shop.post(f"/carts/{idle['id']}/lines", {"sku": "TEE-S", "quantity": 1}).status_code == 200
    at(start + timedelta(minutes=140))
    abandoned_carts.sweep()  # idle again after the change

    relay(shop, stream)
    for _ in range(3):
        pump(mail, "on_email_message", aws["EmailQueueUrl"])
    assert len(sent_emails()) == 1


def test_no_reminder_goes_without_consent_or_after_unsubscribing(shop, mail, aws, at, signing):
    from chalicelib import unsubscribe
    from chalicelib.models.customers import customer_id_for

    stream = Stream()
    make_product(shop)
    consent("bob@example.com")
    start = at(clock.now())
    cart_with(shop, {"TEE-M": 1})                              # ada never said yes
    cart_with(shop, {"TEE-S": 1}, email="eve@example.com")      # eve said no
    cart_with(shop, {"TEE-S": 1}, email="bob@example.com")      # bob said yes, then unsubscribed
    consent("eve@example.com", granted=False)
    at(start + timedelta(minutes=61))
    assert sweep(shop) == 3
    token = unsubscribe.token(customer_id_for("bob@example.com"))
    assert shop.post(f"/unsubscribe?token={token}").status_code == 200

    relay(shop, stream)
    assert len(reminders(aws["EmailQueueUrl"])) == 3
    for _ in range(3):
        pump(mail, "on_email_message", aws["EmailQueueUrl"])
    assert sent_emails() == []


def test_a_tampered_or_expired_link_is_rejected(client, at, signing, monkeypatch):
    make_product(client)
    cart = cart_with(client, {"TEE-M": 1})
    other = cart_with(client, {"TEE-S": 1})
    now = at(clock.now())
    token = cart_links.token(cart["id"], now + timedelta(days=7))
    cart_id, expiry, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    for bad in (f"{cart_id}.{expiry}.{flipped}", f"{other['id']}.{expiry}.{signature}",
                f"{cart_id}.{int(expiry) + 86400}.{signature}", f"{cart_id}.{expiry}", "not-a-token",
                f"{cart_id}.{expiry}.{signature}.", f"{cart_id}.-1.{signature}"):
        answer = restore(client, bad)
        assert (answer.status_code, answer.data["error"]["code"], answer.data["error"]["param"]) == (
            400, "invalid_token", "token"), bad
    assert carts.get(cart["id"]).recovered is False

    monkeypatch.setenv("CART_LINK_SECRET", "another-secret")
    assert restore(client, token).data["error"]["code"] == "invalid_token"
    monkeypatch.setenv("CART_LINK_SECRET", f"another-secret,{SECRET}")  # while rotating: both are accepted
    assert restore(client, token).status_code == 200
    monkeypatch.setenv("CART_LINK_SECRET", SECRET)

    at(now + timedelta(days=7, seconds=1))
    assert restore(client, token).data["error"]["code"] == "invalid_token"

    unknown = client.post("/carts/restore", {"token": token, "cart_id": cart["id"]})
    assert (unknown.status_code, unknown.data["error"]["param"]) == (400, "cart_id")
    gone = cart_links.token("cart_" + "0" * 32, now + timedelta(days=30))
    assert restore(client, gone).status_code == 404


def test_a_purchase_from_a_restored_cart_is_recovered_revenue(shop, at, signing):
    stream = Stream()
    make_product(shop, price=2500)
    start = at(clock.now())
    cart = cart_with(shop, {"TEE-M": 2})
    at(start + timedelta(minutes=61))
    assert abandoned_carts.sweep() == 1
    assert restore(shop, cart_links.token(cart["id"], clock.now() + timedelta(days=1))).status_code == 200
    at(None)
    result = check_out(shop, cart["id"])
    assert result["order"]["total"] == 5000
    pay(shop, result)
    relay(shop, stream)

    today = clock.now().date()
    report = shop.get(f"/admin/reports/sales?from={today - timedelta(days=1)}&to={today}", headers=ADMIN).data
    assert (report["revenue"], report["recovered_revenue"]) == (5000, 5000)


def test_the_sweep_reads_only_the_hours_since_its_last_run(client, at):
    from bench.aws_calls import count_calls

    make_product(client)
    start = at(clock.now().replace(minute=30, second=0))
    cart_with(client, {"TEE-M": 1})
    at(start + timedelta(minutes=61))
    with count_calls() as first:
        assert abandoned_carts.sweep() == 1
    at(start + timedelta(minutes=76))
    with count_calls() as second:
        assert abandoned_carts.sweep() == 0

    # First run: the lookback's 25 hour partitions; then one or two hours per 15-minute run.
    assert first.by_operation()[("dynamodb", "Query")] == 25
    assert second.by_operation() == {("dynamodb", "GetItem"): 1, ("dynamodb", "Query"): 1,
                                     ("dynamodb", "PutItem"): 1}


def test_a_checked_out_cart_leaves_the_idle_index(shop):
    make_product(shop)
    cart = cart_with(shop, {"TEE-M": 1})
    assert "GSI2PK" in dynamo.get(carts.cart_key(cart["id"]))
    check_out(shop, cart["id"])
    assert "GSI2PK" not in dynamo.get(carts.cart_key(cart["id"]))


def test_every_aws_call_of_the_growth_flows_is_allowed_by_its_functions_policy(shop, mail, aws, recorder, at,
                                                                               monkeypatch):
    from tests.conftest import reset_clients

    reset_clients()
    emails._ses.cache_clear()
    boto3.client("ssm").put_parameter(Name="/commerce/test/cart-link-secret", Value=SECRET, Type="SecureString")
    monkeypatch.setenv("CART_LINK_SECRET_PARAM", "/commerce/test/cart-link-secret")
    boto3.client("ssm").put_parameter(Name="/commerce/test/unsubscribe-secret", Value="u", Type="SecureString")
    monkeypatch.setenv("UNSUBSCRIBE_SECRET_PARAM", "/commerce/test/unsubscribe-secret")
    config.reset()
    consent()
    stream = Stream()
    start = at(clock.now())
    with recorder.function("api"):
        product = make_product(shop, on_hand=5)
        shop.put("/admin/inventory/TEE-M", {"on_hand": 5, "low_stock_threshold": 3}, headers=ADMIN)
        pay(shop, check_out(shop, cart_with(shop, {"TEE-M": 3, "TEE-S": 1})["id"]))
        cart_with(shop, {"TEE-S": 1})  # left idle
    at(start + timedelta(minutes=61))
    with recorder.function("sweep_abandoned_carts"):
        assert sweep(shop) == 1
    with recorder.function("on_table_change"):
        relay(shop, stream)
    with recorder.function("on_email_message"):
        for _ in range(4):
            pump(mail, "on_email_message", aws["EmailQueueUrl"])
    token = link_in(next(s for s in sent_emails() if "cart.html" in s.body))
    with recorder.function("api"):
        assert restore(shop, token).status_code == 200
        assert shop.get(f"/products/{product['id']}/recommendations").status_code == 200
        assert shop.get("/admin/reports/sales", headers=ADMIN).status_code == 200

    kinds = {s.subject.split(":")[-1].strip() for s in sent_emails()}
    assert {"Your cart is waiting for you", "TEE-M"} <= kinds, kinds
    functions = {function for function, _, _ in recorder.calls}
    assert functions == {"api", "sweep_abandoned_carts", "on_table_change", "on_email_message"}
    assert ("on_email_message", "ssm:GetParameter") in {call[:2] for call in recorder.calls}
    denied = sorted({call for call in recorder.calls if not allowed(*call)})
    assert not denied, "\n".join(f"{f}: {a} on {r}" for f, a, r in denied)
