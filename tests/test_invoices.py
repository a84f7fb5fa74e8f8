"""Pay by invoice: a buyer of a company with payment terms checks out without a card; the order is placed
and reserved, counted against the company's credit, and gets an invoice numbered without gaps (PDF in S3);
the shop marks it paid, which frees the credit once; overdue invoices block new invoice checkouts."""

import email
import hashlib
import hmac
import json
import os
import threading
from datetime import timedelta

import boto3
import pytest

from bench.aws_calls import count_calls  # installs the counter before the app's clients exist
from chalicelib import clock, config, payments
from chalicelib.models.customers import customer_id_for
from chalicelib.models.invoices import REVERSE_CHARGE_TEXT
from chalicelib.repository import invoices as invoice_store
from chalicelib.services import store_credit
from tests.b2b_support import account_cart, add_buyer, make_company
from tests.conftest import ADMIN, make_product
from tests.customers_support import bearer
from tests.invoice_support import check_pdf
from tests.orders_support import Stream, queue_messages
from tests.queue_support import consumers_fixture, mail_fixture, pump, sent_emails  # noqa: F401
from tests.test_gift_cards import apply, card, issue

INVOICE = {"payment_method": "invoice"}


@pytest.fixture
def no_stripe(monkeypatch):
    """Paying by invoice never asks the payment provider for anything."""
    def refuse(*_, **__):
        raise AssertionError("the payment provider was called")

    monkeypatch.setattr(payments, "provider", refuse)


@pytest.fixture
def acme(client, pool, no_stripe):
    """A company with 30 days' terms and a credit limit of 100.00 EUR, one buyer, T-shirts at 19.99."""
    make_product(client, price=1999, on_hand=50)
    company = make_company(client, vat_id="FR12345678901", payment_terms_days=30, credit_limit={"EUR": 10000})
    headers = add_buyer(client, pool, company["id"], "ada@acme.example")
    return {"company": company, "headers": headers}


def invoice_checkout(client, headers, lines: dict[str, int]):
    cart = account_cart(client, headers, lines)
    return client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=headers), cart


def test_a_buyer_checks_out_by_invoice_without_a_card(client, acme):
    answer, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 2})
    assert answer.status_code == 201, answer.data
    order = answer.data["order"]
    assert order["status"] == "paid" and order["payment_status"] == "invoiced" and order["company_id"] == \
        acme["company"]["id"]
    invoice = order["invoice"]
    assert invoice["id"].startswith("inv_") and invoice["number"] == f"{clock.now().year}-000001"
    assert invoice["due_at"][:10] == (clock.now() + timedelta(days=30)).date().isoformat()
    assert invoice["url"].endswith(f"/orders/{order['id']}/invoice")
    assert answer.data["payment"]["provider"] == "invoice" and answer.data["payment"]["client_secret"] is None
    product = client.get(f"/products/{client.get('/products').data['data'][0]['id']}").data
    assert {v["sku"]: v["available"] for v in product["variants"]}["TEE-M"] == 48  # reserved like any order
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == order["total"]


def test_the_invoice_pdf_is_stored_and_linked_with_both_vat_ids_and_the_lines(client, acme, pool, monkeypatch):
    monkeypatch.setenv("SHOP_VAT_ID", "DE999999999")
    monkeypatch.setenv("SHOP_ADDRESS", "1 Marktplatz; 10117 Berlin")
    config.reset()
    answer, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 2})
    order = answer.data["order"]
    link = client.get(f"/orders/{order['id']}/invoice", headers={"X-Order-Token": answer.data["order_token"]})
    assert link.status_code == 302
    assert client.get(f"/orders/{order['id']}/invoice", headers={"X-Order-Token": "nope"}).status_code == 404
    assert client.get(f"/orders/{order['id']}/invoice", headers=acme["headers"]).status_code == 302  # the owner
    mallory = bearer(pool.sign_up("mallory@example.com")["id"])
    assert client.get(f"/orders/{order['id']}/invoice", headers=mallory).status_code == 404
    assert client.get(f"/admin/invoices/{order['invoice']['id']}").status_code == 401
    key = f"invoices/{clock.now().year}/{order['invoice']['number']}-{order['invoice']['id']}.pdf"
    stored = boto3.client("s3").get_object(Bucket=config.settings().documents_bucket, Key=key)["Body"].read()
    text = check_pdf(stored)["text"]
    for expected in (order["invoice"]["number"], "VAT ID: DE999999999", "VAT ID: FR12345678901", "Acme GmbH",
                     "1 Marktplatz", "TEE-M", "Due date: " + order["invoice"]["due_at"][:10]):
        assert expected in text, expected
    assert order["reverse_charge"] and order["tax_total"] == 0  # a French company buying from a German shop
    assert REVERSE_CHARGE_TEXT in text
    admin = client.get(f"/admin/invoices/{order['invoice']['id']}", headers=ADMIN)
    assert admin.status_code == 200 and admin.data["status"] == "open" and admin.data["url"].startswith("http")


def test_invoice_numbers_have_no_gaps_a_refused_checkout_takes_none(client, acme):
    year = clock.now().year
    first, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 1})
    refused, cart = invoice_checkout(client, acme["headers"], {"TEE-S": 4})  # 4 x 19.99 + shipping: over 100
    assert refused.status_code == 409, refused.data
    assert refused.data["error"]["code"] == "credit_limit_exceeded"
    assert client.get(f"/carts/{cart['id']}").data["status"] == "open"  # nothing changed
    assert client.patch(f"/carts/{cart['id']}/lines/TEE-S", {"quantity": 1}).status_code == 200
    second = client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=acme["headers"])
    assert [a.data["order"]["invoice"]["number"] for a in (first, second)] == [f"{year}-000001", f"{year}-000002"]
    assert invoice_store.last_number(year) == 2


def test_the_credit_limit_counts_open_invoices_and_paying_one_frees_its_amount_once(client, acme):
    first, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 3})
    total = first.data["order"]["total"]
    refused, cart = invoice_checkout(client, acme["headers"], {"TEE-S": 2})
    assert refused.status_code == 409 and refused.data["error"]["code"] == "credit_limit_exceeded"
    invoice_id = first.data["order"]["invoice"]["id"]
    for _ in range(2):
        paid = client.post(f"/admin/invoices/{invoice_id}/paid", headers=ADMIN)
        assert paid.status_code == 200, paid.data
        assert paid.data["status"] == "paid" and paid.data["paid_at"]
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == 0  # freed once, not twice
    order = client.get(f"/admin/orders/{first.data['order']['id']}", headers=ADMIN).data
    assert order["payment_status"] == "paid" and order["amount_paid"] == total
    again = client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=acme["headers"])
    assert again.status_code == 201, again.data
    assert client.post("/admin/invoices/inv_nope/paid", headers=ADMIN).status_code == 404
    assert client.post(f"/admin/invoices/{invoice_id}/paid").status_code == 401


def test_listing_invoices_by_status(client, acme):
    first, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 1})
    second, _ = invoice_checkout(client, acme["headers"], {"TEE-S": 1})
    client.post(f"/admin/invoices/{first.data['order']['invoice']['id']}/paid", headers=ADMIN)
    open_ = client.get("/admin/invoices?status=open", headers=ADMIN).data["data"]
    paid = client.get("/admin/invoices?status=paid", headers=ADMIN).data["data"]
    assert [i["id"] for i in open_] == [second.data["order"]["invoice"]["id"]]
    assert [i["id"] for i in paid] == [first.data["order"]["invoice"]["id"]]
    bad = client.get("/admin/invoices?status=late", headers=ADMIN)
    assert bad.status_code == 400 and bad.data["error"]["param"] == "status"


def test_an_invoice_overdue_past_the_grace_period_blocks_invoice_checkouts(client, acme, monkeypatch):
    first, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 1})
    cart = account_cart(client, acme["headers"], {"TEE-S": 1})
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=30 + 10))  # overdue, within 14 days' grace
    assert client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=acme["headers"]).status_code == 201
    cart = account_cart(client, acme["headers"], {"TEE-S": 1})
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=30 + 15))  # past the grace period
    blocked = client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=acme["headers"])
    assert blocked.status_code == 409 and blocked.data["error"]["code"] == "invoices_overdue", blocked.data
    assert blocked.data["error"]["param"] == "payment_method"
    client.post(f"/admin/invoices/{first.data['order']['invoice']['id']}/paid", headers=ADMIN)
    assert client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=acme["headers"]).status_code == 201


def test_only_a_buyer_of_a_company_with_terms_may_pay_by_invoice(client, pool, no_stripe):
    make_product(client, price=1999, on_hand=50)
    outsider = bearer(pool.sign_up("mallory@example.com")["id"])
    no_terms = make_company(client, name="Cash Only", vat_id=None)
    cash = add_buyer(client, pool, no_terms["id"], "bob@cash.example")
    for headers in (outsider, cash):
        answer, cart = invoice_checkout(client, headers, {"TEE-M": 1})
        assert answer.status_code == 409, answer.data
        assert answer.data["error"]["code"] == "invoice_not_allowed"
        assert client.get(f"/carts/{cart['id']}").data["status"] == "open"


def test_an_invoiced_order_goes_to_fulfilment_and_its_invoice_is_emailed_then_reminded_when_overdue(
        client, acme, mail, aws, monkeypatch):
    stream = Stream()
    answer, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 1})
    order = answer.data["order"]
    mail.raw.lambda_.invoke("on_table_change", {"Records": stream.read()})
    assert [m["type"] for m in queue_messages(aws["FulfilmentQueueUrl"])] == ["OrderPaid"]  # ship it
    pump(mail, "on_email_message", aws["EmailQueueUrl"])
    raw = [m for m in sent_emails() if "acme.example" in " ".join(m.destinations) and hasattr(m, "raw_data")]
    assert len(raw) == 1
    message = email.message_from_string(raw[0].raw_data)
    assert message["Subject"] == f"Demo Shop: Invoice {order['invoice']['number']}"
    [attachment] = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert attachment.get_filename() == f"invoice-{order['invoice']['number']}.pdf"
    assert order["invoice"]["number"] in check_pdf(attachment.get_payload(decode=True))["text"]

    tick = mail.raw.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                             resources=[])
    assert mail.raw.lambda_.invoke("remind_overdue_invoices", tick).payload == {"reminded": 0}  # not due yet
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=31))
    assert mail.raw.lambda_.invoke("remind_overdue_invoices", tick).payload == {"reminded": 1}
    assert mail.raw.lambda_.invoke("remind_overdue_invoices", tick).payload == {"reminded": 0}  # once a week
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=39))
    assert mail.raw.lambda_.invoke("remind_overdue_invoices", tick).payload == {"reminded": 1}
    mail.raw.lambda_.invoke("on_table_change", {"Records": stream.read()})
    pump(mail, "on_email_message", aws["EmailQueueUrl"])
    subjects = [email.message_from_string(m.raw_data)["Subject"] for m in sent_emails() if hasattr(m, "raw_data")]
    assert subjects.count(f"Demo Shop: Reminder - invoice {order['invoice']['number']} is overdue") == 2
    client.post(f"/admin/invoices/{order['invoice']['id']}/paid", headers=ADMIN)
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(days=60))
    assert mail.raw.lambda_.invoke("remind_overdue_invoices", tick).payload == {"reminded": 0}  # paid


def test_concurrent_invoice_checkouts_never_exceed_the_credit_limit_and_take_consecutive_numbers(moto_server):
    from chalice.test import Client

    from app import app
    from chalicelib.errors import CommerceError
    from chalicelib.models.customers import customer_id_for
    from chalicelib.services import checkout
    from tests.conftest import Api, ready_cart

    buyers = 6
    with Client(app, stage_name="test") as raw:
        api = Api(raw)
        make_product(api, price=1999, on_hand=100)
        carts = [ready_cart(api, {"TEE-M": 1}, email=f"buyer{n}@acme.example") for n in range(buyers)]
        total = carts[0]["total"]
        company = make_company(api, payment_terms_days=30, credit_limit={"EUR": 3 * total + total // 2})
        for n in range(buyers):
            assert api.post(f"/admin/companies/{company['id']}/buyers", {"email": f"buyer{n}@acme.example"},
                            headers=ADMIN).status_code == 201
    outcomes = []

    def buy(n):
        try:
            result = checkout.complete(carts[n]["id"], "invoice", None, customer_id_for(f"buyer{n}@acme.example"))
            outcomes.append(("ok", result.order.invoice.number))
        except CommerceError as error:
            outcomes.append((error.code, None))

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    year = clock.now().year
    assert sorted(code for code, _ in outcomes) == ["credit_limit_exceeded"] * 3 + ["ok"] * 3, outcomes
    assert sorted(number for _, number in outcomes if number) == [f"{year}-00000{n}" for n in (1, 2, 3)]
    assert invoice_store.open_credit(company["id"], "EUR") == 3 * total
    assert invoice_store.last_number(year) == 3
    assert os.environ["AWS_ENDPOINT_URL"]  # it ran against the moto server


def test_an_invoice_to_a_company_of_the_shops_country_carries_tax_and_no_reverse_charge(client, pool, no_stripe):
    make_product(client, price=1999, on_hand=50)
    company = make_company(client, vat_id="DE123456789", payment_terms_days=14, credit_limit={"EUR": 100000})
    headers = add_buyer(client, pool, company["id"], "ada@acme.example")
    answer, _ = invoice_checkout(client, headers, {"TEE-M": 1})
    assert answer.status_code == 201, answer.data
    order = answer.data["order"]
    assert not order["reverse_charge"] and order["tax_total"] > 0
    invoice = client.get(f"/admin/invoices/{order['invoice']['id']}", headers=ADMIN).data
    assert invoice["reverse_charge"] is False and invoice["tax_total"] == order["tax_total"]
    assert invoice["total"] == order["total"] and invoice["due_at"][:10] == order["invoice"]["due_at"][:10]


def test_an_invoiced_checkout_costs_a_fixed_number_of_calls_and_no_payment_provider_call(client, acme):
    cart = account_cart(client, acme["headers"], {"TEE-M": 1, "TEE-S": 1})
    with count_calls() as calls:
        answer = client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=acme["headers"])
    assert answer.status_code == 201, answer.data
    print("invoiced checkout:", calls.by_operation())
    # GetItem: the cart, the year's number counter; BatchGetItem: the pricing inputs (SKUs, discount,
    # membership; then the company, whose terms the invoice takes, and its price list); Query: the overdue
    # check; one transaction; the PDF upload.
    assert calls.by_operation() == {
        ("dynamodb", "GetItem"): 2, ("dynamodb", "BatchGetItem"): 2, ("dynamodb", "Query"): 1,
        ("dynamodb", "TransactWriteItems"): 1, ("s3", "PutObject"): 1}


def test_cancelling_an_invoiced_order_voids_its_invoice_frees_the_credit_and_keeps_the_number(client, acme):
    first, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 2})
    order = first.data["order"]
    cancelled = client.post(f"/admin/orders/{order['id']}/cancel", {"reason": "customer changed their mind"},
                            headers=ADMIN)
    assert cancelled.status_code == 200, cancelled.data
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == 0
    assert client.post(f"/admin/orders/{order['id']}/cancel", {}, headers=ADMIN).status_code == 409
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == 0  # freed once
    invoice = client.get(f"/admin/invoices/{order['invoice']['id']}", headers=ADMIN).data
    assert invoice["status"] == "void"
    paid = client.post(f"/admin/invoices/{order['invoice']['id']}/paid", headers=ADMIN)
    assert paid.status_code == 409 and paid.data["error"]["code"] == "invoice_void"
    second, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 1})
    assert second.data["order"]["invoice"]["number"] == f"{clock.now().year}-000002"  # no number reused


def transfer(client, body: dict, secret: str = "bank-secret"):  # noqa: S107 - a test secret
    raw = json.dumps(body).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.request("POST", "/webhooks/bank-transfer", raw=raw,
                          headers={"X-Signature": signature, "Content-Type": "application/json"})


def test_a_signed_bank_transfer_quoting_the_number_pays_the_invoice_once(client, acme, monkeypatch):
    monkeypatch.setenv("BANK_WEBHOOK_SECRET", "bank-secret")
    config.reset()
    answer, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 1})
    order = answer.data["order"]
    number, total = order["invoice"]["number"], order["total"]
    body = {"transfer_id": "tr_1", "reference": f"Invoice {number} ACME", "amount": total, "currency": "EUR"}
    forged = transfer(client, body, secret="wrong")
    assert forged.status_code == 400 and forged.data["error"]["code"] == "invalid_signature"
    short = transfer(client, body | {"amount": total - 1})
    assert short.status_code == 200 and short.data["applied"] is False
    unknown = transfer(client, body | {"reference": "no number here"})
    assert unknown.status_code == 200 and unknown.data["applied"] is False
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == total  # nothing changed so far
    for _ in range(2):  # the bank delivers twice
        paid = transfer(client, body)
        assert paid.status_code == 200 and paid.data == {"applied": True, "invoice_id": order["invoice"]["id"],
                                                         "status": "paid"}
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == 0
    invoice = client.get(f"/admin/invoices/{order['invoice']['id']}", headers=ADMIN).data
    assert invoice["status"] == "paid"


def balances_cart(client, acme, lines: dict[str, int], card_amount: int, credit: int):
    """The buyer's account cart with a gift card of `card_amount` applied and `credit` of their store credit
    spent on it; the card."""
    store_credit.grant(customer_id_for("ada@acme.example"), "EUR", credit, "goodwill", "test-credit")
    issued = issue(client, card_amount)
    cart = account_cart(client, acme["headers"], lines)
    apply(client, cart["id"], issued["code"])
    answer = client.patch(f"/carts/{cart['id']}", {"use_store_credit": True}, headers=acme["headers"])
    assert answer.status_code == 200, answer.data
    return answer.data, issued


def test_gift_cards_and_store_credit_pay_first_and_the_invoice_is_for_the_rest(client, acme, monkeypatch):
    monkeypatch.setenv("BANK_WEBHOOK_SECRET", "bank-secret")
    config.reset()
    ada = customer_id_for("ada@acme.example")
    # 6 x 19.99 + shipping is over the 100.00 credit limit; less 30.00 of gift card and 10.00 of credit, not.
    cart, issued = balances_cart(client, acme, {"TEE-M": 6}, card_amount=3000, credit=1000)
    assert cart["total"] > 10000 and cart["amount_due"] == cart["total"] - 4000
    answer = client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=acme["headers"])
    assert answer.status_code == 201, answer.data
    order, total, rest = answer.data["order"], cart["total"], cart["total"] - 4000
    assert (order["status"], order["payment_status"], order["amount_due"]) == ("paid", "invoiced", rest)
    assert [(p["method"], p["amount"]) for p in order["payments"]] == [("gift_card", 3000), ("store_credit", 1000),
                                                                        ("invoice", rest)]
    assert answer.data["payment"]["provider"] == "invoice"
    spent = card(client, issued["id"])  # the ledger sums to the balance
    assert spent["balance"] == 0 and [(e["kind"], e["amount"]) for e in spent["ledger"]] == [("issue", 3000),
                                                                                             ("spend", -3000)]
    assert store_credit.balance(ada).get("EUR", 0) == 0
    assert sum(e.amount for e in store_credit.ledger(ada)) == 0
    assert [(e.amount, e.order_id) for e in store_credit.ledger(ada)][-1] == (-1000, order["id"])
    invoice = client.get(f"/admin/invoices/{order['invoice']['id']}", headers=ADMIN).data
    assert invoice["total"] == rest and invoice["subtotal"] + invoice["shipping_total"] + invoice["tax_total"] == total
    assert [(p["method"], p["amount"], p["last4"]) for p in invoice["prepaid"]] == [
        ("gift_card", 3000, issued["last4"]), ("store_credit", 1000, None)]
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == rest  # the limit counts only the rest
    key = f"invoices/{clock.now().year}/{invoice['number']}-{invoice['id']}.pdf"
    text = check_pdf(boto3.client("s3").get_object(Bucket=config.settings().documents_bucket,
                                                   Key=key)["Body"].read())["text"]
    for expected in (f"Paid by gift card ending {issued['last4']}: -30.00 EUR", "Paid by store credit: -10.00 EUR",
                     f"Total due: {rest // 100:,}.{rest % 100:02d} EUR"):
        assert expected in text, expected
    body = {"transfer_id": "tr_1", "reference": f"Invoice {invoice['number']}", "amount": total, "currency": "EUR"}
    assert transfer(client, body).data["applied"] is False  # the order's total is not what the invoice asks for
    paid = transfer(client, body | {"amount": rest})
    assert paid.status_code == 200 and paid.data["applied"] is True, paid.data
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == 0
    settled = client.get(f"/admin/orders/{order['id']}", headers=ADMIN).data
    assert (settled["payment_status"], settled["amount_paid"]) == ("paid", total)


def test_an_invoice_checkout_the_balances_cover_is_paid_at_once_without_an_invoice(client, acme):
    cart, issued = balances_cart(client, acme, {"TEE-M": 1}, card_amount=2000, credit=5000)
    answer = client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=acme["headers"])
    assert answer.status_code == 201, answer.data
    order = answer.data["order"]
    assert (order["status"], order["payment_status"], order["amount_due"], order["invoice"]) == ("paid", "paid", 0,
                                                                                                  None)
    assert answer.data["payment"] is None
    assert [(p["method"], p["amount"]) for p in order["payments"]] == [("gift_card", 2000),
                                                                        ("store_credit", order["total"] - 2000)]
    assert card(client, issued["id"])["balance"] == 0
    assert store_credit.balance(customer_id_for("ada@acme.example"))["EUR"] == 5000 - (order["total"] - 2000)
    assert invoice_store.last_number(clock.now().year) == 0  # no number taken
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == 0


def test_cancelling_an_invoiced_order_gives_its_balances_back_and_voids_the_rest(client, acme):
    cart, issued = balances_cart(client, acme, {"TEE-M": 2}, card_amount=1000, credit=500)
    answer = client.post(f"/carts/{cart['id']}/checkout", INVOICE, headers=acme["headers"])
    assert answer.status_code == 201, answer.data
    order = answer.data["order"]
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == order["total"] - 1500
    cancelled = client.post(f"/admin/orders/{order['id']}/cancel", {}, headers=ADMIN)
    assert cancelled.status_code == 200, cancelled.data
    assert card(client, issued["id"])["balance"] == 1000
    assert store_credit.balance(customer_id_for("ada@acme.example"))["EUR"] == 500
    assert invoice_store.open_credit(acme["company"]["id"], "EUR") == 0
    assert client.get(f"/admin/invoices/{order['invoice']['id']}", headers=ADMIN).data["status"] == "void"


def test_a_return_of_an_invoiced_order_settles_only_once_its_invoice_is_paid(client, acme):
    from tests.test_returns import admin, line

    answer, _ = invoice_checkout(client, acme["headers"], {"TEE-M": 2})
    order = answer.data["order"]
    assert client.post(f"/admin/orders/{order['id']}/shipments", {"carrier": "dhl", "tracking_number": "JD1"},
                       headers=ADMIN).status_code == 201
    asked = client.post(f"/orders/{order['id']}/returns", {"lines": [line()]}, headers=acme["headers"])
    assert asked.status_code == 201, asked.data
    assert admin(client, asked.data["id"], "approve").status_code == 200
    for method in ("store_credit", "original"):
        refused = admin(client, asked.data["id"], "refund", {"method": method})
        assert refused.status_code == 409 and order["invoice"]["number"] in refused.data["error"]["message"], \
            refused.data
    assert store_credit.balance(order["customer_id"]) == {}
    assert client.post(f"/admin/invoices/{order['invoice']['id']}/paid", headers=ADMIN).status_code == 200
    settled = admin(client, asked.data["id"], "refund", {"method": "store_credit"})
    worth = (order["total"] - order["shipping_total"]) // 2  # one of two shirts; shipping is not refunded
    assert settled.status_code == 200 and settled.data["refund"]["amount"] == worth, settled.data
    assert store_credit.balance(order["customer_id"]) == {"EUR": worth}
