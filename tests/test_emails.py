"""The email consumer: what each event tells the customer, exactly once per event, escaping,
failures that are retried and then dead-lettered, and the local outbox."""

import email
import email.policy
import json
import re
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import clock, config
from chalicelib.repository import deliveries, dynamo
from chalicelib.services import emails
from tests.queue_support import (  # noqa: F401
    consumers_fixture,
    mail_fixture,
    message,
    order_item,
    pump,
    queue_bodies,
    sent_emails,
    sqs_event,
)


def deliver(api, *bodies: str):
    return api.raw.lambda_.invoke("on_email_message", sqs_event(api, *bodies)).payload


def outbox(api) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(api.outbox.glob("*.eml"))]


def parts(message) -> tuple[str, str]:
    """(text, html) of a sent message, from its outbox copy."""
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def ses_failure(code: str = "Throttling"):
    def raiser(**kwargs):
        raise ClientError({"Error": {"Code": code, "Message": "injected"}}, "SendEmail")
    return raiser


def test_a_paid_order_gets_one_confirmation_with_lines_totals_and_the_order_link(mail):
    item = order_item()
    assert deliver(mail, message("OrderPaid", item)) == {"batchItemFailures": []}
    [sent] = sent_emails()
    assert sent.destinations["ToAddresses"] == ["ada@example.com"]
    assert sent.source == "Demo Shop <shop@example.com>"
    assert sent.subject == f"Demo Shop: Your order {item['id']} is confirmed"
    [saved] = outbox(mail)
    text, html = parts(saved)
    link = f"https://shop.example/order.html?id={item['id']}&token=tok_Secret-123"
    assert link in text
    assert f'href="{link.replace("&", "&amp;")}"' in html
    for part in (text, html):
        assert "T-shirt – M" in part and "Mug" in part
        assert "€39.98" in part and "€12.50" in part and "€62.45" in part  # line totals and the total
        assert "Berlin" in part and "Ada Lovelace" in part
    assert sent.body == html  # what SES got is what the outbox shows


def test_the_same_message_delivered_twice_sends_one_email(mail):
    body = message("OrderPaid")
    deliver(mail, body)
    deliver(mail, body)
    assert deliver(mail, body, body) == {"batchItemFailures": []}  # and twice within one batch
    assert len(sent_emails()) == 1
    record = deliveries.get("email", json.loads(body)["id"])
    assert (record["state"], record["attempts"]) == ("done", 1)
    assert record["message_id"] and record["expires_at"] > clock.now().timestamp() + 29 * 86400


def test_customer_entered_names_are_escaped_in_the_html_part(mail):
    attack = "<script>alert(1)</script>"
    address = {"name": attack, "line1": '1 "Main" <b>Street</b> & Co', "city": "Berlin", "postal_code": "10115",
               "country": "DE"}
    deliver(mail, message("OrderPaid", order_item(shipping_address=address)))
    text, html = parts(outbox(mail)[0])
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Street&lt;/b&gt; &amp; Co" in html
    assert attack in text  # the plain-text part is not HTML: it shows the name as typed


def test_a_shipment_email_names_the_carrier_the_tracking_number_and_its_link(mail):
    deliver(mail, message("ShipmentCreated", carrier="DHL", tracking_number="JD0146 0000"))
    deliver(mail, message("ShipmentCreated", carrier="Hermes", tracking_number="H1234"))
    known, unknown = sorted(outbox(mail), key=lambda m: "Hermes" in parts(m)[0])
    text, html = parts(known)
    url = "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id=JD0146%200000"
    assert "Carrier: DHL" in text and "Tracking number: JD0146 0000" in text and url in text
    assert url.replace("&", "&amp;") in html and "2 × T-shirt – M" in html
    assert "is on its way" in known["Subject"]
    text, html = parts(unknown)
    assert "Carrier: Hermes" in text and "Tracking number: H1234" in text
    assert "Track your parcel" not in text and "href" not in html.split("Tracking number")[1].split("</p>")[0]


@pytest.mark.parametrize(("carrier", "start"), [("ups", "https://www.ups.com/"), ("FedEx", "https://www.fedex.com/"),
                                                ("USPS", "https://tools.usps.com/"), ("dpd", "https://tracking.dpd.de/"),
                                                ("DHL Express", "https://www.dhl.com/"), ("GLS", None)])
def test_tracking_links_exist_for_known_carriers_only(carrier, start):
    url = emails.tracking_url(carrier, "1Z/99")
    if start is None:
        assert url is None
    else:
        assert url.startswith(start) and url.endswith("1Z%2F99")


def test_refund_and_cancellation_emails_tell_the_amount_and_the_reason(mail):
    item = order_item()
    deliver(mail, message("RefundCreated", item, amount=1500))
    deliver(mail, message("OrderCancelled", item, reason="out of stock"))
    by_subject = {m["Subject"].split(": ", 1)[1].split(" ")[0]: parts(m)[0] for m in outbox(mail)}
    refund, cancelled = by_subject["A"], by_subject["Your"]
    assert "we have refunded €15.00" in refund
    assert "has been cancelled: out of stock" in cancelled and "refunded to your original payment method" in cancelled
    assert [m.destinations["ToAddresses"] for m in sent_emails()] == [["ada@example.com"]] * 2


def test_an_order_needing_review_is_mailed_to_the_shop_owner(mail):
    item = order_item()
    deliver(mail, message("OrderNeedsReview", item))
    [sent] = sent_emails()
    assert sent.destinations["ToAddresses"] == ["owner@example.com"]
    assert "does not match the order total" in parts(outbox(mail)[0])[0]


def test_events_without_an_email_send_nothing_and_record_nothing(mail):
    body = json.dumps({"id": "prod_1.CatalogueReindexed", "type": "CatalogueReindexed",
                       "occurred_at": "2025-01-01T00:00:00Z", "data": {"product": {"id": "prod_1"}}})
    assert deliver(mail, body) == {"batchItemFailures": []}
    assert sent_emails() == [] and deliveries.get("email", "prod_1.CatalogueReindexed") is None


def test_the_outbox_holds_each_sent_message_as_an_eml_file_with_both_parts(mail):
    body = message("OrderPaid")
    deliver(mail, body)
    [path] = mail.outbox.glob("*.eml")
    event_id = json.loads(body)["id"]
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}Z-{re.escape(event_id)}\.eml", path.name)
    saved = outbox(mail)[0]
    assert saved["To"] == "ada@example.com" and saved["X-Event-Id"] == event_id
    assert [p.get_content_type() for p in saved.iter_parts()] == ["text/plain", "text/html"]


def test_a_failing_ses_call_raises_so_the_message_is_retried_and_the_retry_sends_it(mail):
    ses = emails._ses()
    ses.meta.events.register("before-call.sesv2.SendEmail", ses_failure())
    body = message("OrderPaid")
    with pytest.raises(ClientError, match="Throttling"):
        deliver(mail, body)
    assert sent_emails() == [] and list(mail.outbox.glob("*.eml")) == []
    assert deliveries.get("email", json.loads(body)["id"]) is None  # the claim was released: no wait
    ses.meta.events.unregister("before-call.sesv2.SendEmail", ses_failure())
    emails._ses.cache_clear()
    deliver(mail, body)
    assert len(sent_emails()) == 1


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue_after_five_receives(mail, aws):
    emails._ses().meta.events.register("before-call.sesv2.SendEmail", ses_failure("MessageRejected"))
    body = message("OrderPaid")
    boto3.client("sqs").send_message(QueueUrl=aws["EmailQueueUrl"], MessageBody=body)
    attempts = []
    for _ in range(10):
        answer = pump(mail, "on_email_message", aws["EmailQueueUrl"])
        if not answer["received"]:
            break
        attempts.append(answer)
    assert len(attempts) == 5 and all(isinstance(a["raised"], ClientError) for a in attempts)
    assert queue_bodies(aws["EmailDeadLetterQueueUrl"]) == [body]
    assert sent_emails() == []


def test_a_batch_with_a_poison_message_reports_only_that_message(mail):
    good = message("OrderPaid")
    answer = deliver(mail, good, "this is not JSON")
    assert answer == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert len(sent_emails()) == 1


def test_a_batch_where_every_message_fails_raises(mail):
    with pytest.raises(ExceptionGroup):
        deliver(mail, "not JSON", json.dumps({"id": "x", "type": "OrderPaid", "data": {}}))
    with pytest.raises(json.JSONDecodeError):
        deliver(mail, "not JSON")


def test_a_crash_after_ses_accepted_is_sent_again_once_the_lease_has_run_out(mail, monkeypatch):
    body = message("OrderPaid")
    event_id = json.loads(body)["id"]

    def crash_on_done(params, **kwargs):
        if ":done" in params.get("ExpressionAttributeValues", {}):
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "UpdateItem")

    dynamo.client().meta.events.register("before-parameter-build.dynamodb.UpdateItem", crash_on_done)
    with pytest.raises(Exception, match="database"):
        deliver(mail, body)  # SES accepted it; recording that failed
    dynamo.client().meta.events.unregister("before-parameter-build.dynamodb.UpdateItem", crash_on_done)
    assert len(sent_emails()) == 1 and deliveries.get("email", event_id)["state"] == "claimed"

    with pytest.raises(deliveries.DeliveryInProgress):
        deliver(mail, body)  # redelivered while the claim's lease is live: wait, do not send
    assert len(sent_emails()) == 1

    later = clock.now() + timedelta(seconds=deliveries.LEASE_SECONDS + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    deliver(mail, body)  # at least once: nothing is lost, at the price of a second copy
    deliver(mail, body)
    assert len(sent_emails()) == 2
    assert deliveries.get("email", event_id)["attempts"] == 2


def test_moto_like_ses_rejects_mail_from_an_unverified_sender(mail):
    boto3.client("sesv2").delete_email_identity(EmailIdentity="shop@example.com")
    with pytest.raises(ClientError, match="not verified"):
        deliver(mail, message("OrderPaid"))


def test_money_is_formatted_from_minor_units_in_its_currency():
    assert emails.money(2494, "EUR") == "€24.94"
    assert emails.money(123456789, "USD") == "$1,234,567.89"
    assert emails.money(1000, "JPY") == "1,000 JPY"
    assert emails.money(5, "CHF") == "0.05 CHF"
    assert emails.money(1234, "KWD") == "1.234 KWD"


def test_queue_names_come_from_the_name_the_url_or_the_stage(monkeypatch):
    for name in ("EMAIL_QUEUE_NAME", "EMAIL_QUEUE_URL", "FULFILMENT_QUEUE_NAME", "FULFILMENT_QUEUE_URL", "STAGE"):
        monkeypatch.delenv(name, raising=False)
    config.reset()
    assert (config.settings().email_queue_name, config.settings().fulfilment_queue_name) == (
        "commerce-dev-email", "commerce-dev-fulfilment")
    monkeypatch.setenv("EMAIL_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/commerce-prod-email")
    monkeypatch.setenv("FULFILMENT_QUEUE_NAME", "my-fulfilment")
    config.reset()
    assert (config.settings().email_queue_name, config.settings().fulfilment_queue_name) == (
        "commerce-prod-email", "my-fulfilment")
    config.reset()
