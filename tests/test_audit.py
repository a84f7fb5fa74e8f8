"""The audit log: each admin write and its record in one transaction, every admin write route recorded,
read (owner only) with filters, pages and a CSV export."""

import csv
import io
from datetime import timedelta
from urllib.parse import quote as escaped

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import audit, clock
from chalicelib.repository import discounts as discount_repository
from chalicelib.repository import dynamo
from tests.conftest import ADMIN, make_product
from tests.growth_support import relay
from tests.orders_support import Stream
from tests.queue_support import consumers_fixture, mail_fixture  # noqa: F401
from tests.staff_support import as_staff, staff_token
from tests.test_admin_orders import paid_order
from tests.test_crm import ADA, buy
from tests.test_messages import order, write


def records(api, query: str = "") -> list[dict]:
    answer = api.get(f"/admin/audit{query}", headers=ADMIN)
    assert answer.status_code == 200, answer.data
    return answer.data["data"]


def stored_records() -> list[dict]:
    month = clock.iso(clock.now())[:7]
    answer = dynamo.call("query", TableName=dynamo.table(), KeyConditionExpression="PK = :pk",
                         ExpressionAttributeValues=dynamo.values(pk=audit.partition(month)))
    return [dynamo.from_item(item) for item in answer["Items"]]


IMPORT = ("product_id,product_title,description,active,sku,variant_title,price,currency,on_hand,low_stock_threshold\n"
          ",Mug,,true,MUG-1,,1200,EUR,4,\n")
DISCOUNT = {"code": "SUMMER", "kind": "percent", "value": 10}


def test_an_admin_write_is_recorded_with_who_what_and_the_fields_it_changed(client, pool):
    owner = as_staff(staff_token(pool, "owner", "olive@staff.example.com"))
    assert client.post("/admin/discounts", DISCOUNT, headers=owner).status_code == 201
    disabled = client.post("/admin/discounts/summer/disable", {}, headers=owner)
    assert disabled.status_code == 200 and disabled.data["disabled_at"] == disabled.data["ends_at"]

    newest, created = records(client)
    assert newest["id"].startswith("aud_") and newest["actor"] == "staff:olive@staff.example.com"
    assert (newest["action"], newest["resource"]) == ("POST /admin/discounts/{code}/disable",
                                                      "discounts/summer/disable")
    assert newest["before"] == {"DISCOUNT#SUMMER": {"ends_at": None, "disabled_at": None}}
    assert newest["after"] == {"DISCOUNT#SUMMER": {"ends_at": disabled.data["ends_at"].replace("+00:00", "Z"),
                                                   "disabled_at": disabled.data["ends_at"].replace("+00:00", "Z")}}
    assert created["action"] == "POST /admin/discounts" and created["before"] == {"DISCOUNT#SUMMER": None}
    assert created["after"]["DISCOUNT#SUMMER"]["code"] == "SUMMER"
    # An ended code stays as it is: the retried disable changes nothing and writes no record of a change.
    again = client.post("/admin/discounts/SUMMER/disable", {}, headers=owner)
    assert again.data["ends_at"] == disabled.data["ends_at"]
    for unknown in ("NOPE", "x" * 3000, "bad%20code"):
        assert client.post(f"/admin/discounts/{unknown}/disable", {}, headers=owner).status_code == 404


def test_reads_are_not_recorded(client):
    client.get("/admin/orders", headers=ADMIN)
    client.get("/admin/discounts", headers=ADMIN)
    assert records(client) == []


def test_a_write_whose_condition_fails_writes_neither_the_change_nor_its_record(client):
    assert client.post("/admin/discounts", DISCOUNT, headers=ADMIN).status_code == 201
    again = client.post("/admin/discounts", DISCOUNT | {"value": 50}, headers=ADMIN)
    assert again.status_code == 409 and again.data["error"]["code"] == "resource_exists"
    assert [r["action"] for r in records(client)] == ["POST /admin/discounts"]
    assert discount_repository.get("SUMMER").value == 10


def test_in_an_audit_context_a_single_write_is_one_transaction_with_its_record(aws):
    audit.begin("admin_key:test", "POST", "/admin/things/{thing_id}", {"thing_id": "1"})
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item({"PK": "THING#1", "SK": "THING", "n": 1}))
        with pytest.raises(ClientError) as refused:
            dynamo.call("put_item", TableName=dynamo.table(),
                        Item=dynamo.to_item({"PK": "THING#1", "SK": "THING", "n": 2}),
                        ConditionExpression="attribute_not_exists(PK)", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        assert dynamo.error_code(refused.value) == "ConditionalCheckFailedException"
        assert dynamo.from_item(refused.value.response["Item"])["n"] == 1
        with pytest.raises(dynamo.Cancelled) as cancelled:
            dynamo.transact([dynamo.update("thing", {"PK": "THING#1", "SK": "THING"}, "SET n = :n", "n = :two",
                                           n=5, two=2)])
        assert cancelled.value.failed("thing")
        changed = dynamo.call("update_item", TableName=dynamo.table(),
                              Key=dynamo.to_item({"PK": "THING#1", "SK": "THING"}),
                              UpdateExpression="SET n = n + :one", ExpressionAttributeValues=dynamo.values(one=1),
                              ReturnValues="ALL_NEW")
        assert dynamo.from_item(changed["Attributes"])["n"] == 2
    finally:
        audit.end()
    assert dynamo.get({"PK": "THING#1", "SK": "THING"})["n"] == 2
    kept = sorted(stored_records(), key=lambda r: r["SK"])
    assert [(r["before"], r["after"]) for r in kept] == [
        ('{"THING#1": null}', '{"THING#1": {"n": 1}}'),
        ('{"THING#1": {"n": 1}}', '{"THING#1": {"n": "n + 1"}}')]


def test_the_log_is_filtered_by_actor_resource_and_day_and_paged(client, pool):
    support = as_staff(staff_token(pool, "manager", "max@staff.example.com"))
    make_product(client, sku_prefix="TEE", on_hand=10)
    for n in range(3):
        assert client.post("/admin/inventory/TEE-M/adjustments", {"delta": 1, "reason": f"count {n}"},
                           headers=support).status_code == 201
    assert [r["actor"] for r in records(client, "?actor=staff:max@staff.example.com")] == [
        "staff:max@staff.example.com"] * 3
    assert len(records(client, "?resource=inventory/TEE-M")) == 3
    assert records(client, "?resource=orders") == []
    assert records(client, "?from=2020-01-01&to=2020-01-31") == []
    first = client.get("/admin/audit?limit=2", headers=ADMIN).data
    rest = client.get(f"/admin/audit?limit=2&cursor={first['next_cursor']}", headers=ADMIN).data
    ids = [r["id"] for r in first["data"] + rest["data"]]
    assert len(ids) == len(set(ids)) == 4  # 3 adjustments and the product
    for bad in ("?from=2026-13-01", "?limit=0", "?cursor=nope", "?from=2026-02-01&to=2026-01-01"):
        answer = client.get(f"/admin/audit{bad}", headers=ADMIN)
        assert answer.status_code == 400 and answer.data["error"]["param"], bad


def test_the_log_exports_as_csv(client):
    client.post("/admin/discounts", DISCOUNT, headers=ADMIN)
    answer = client.raw.http.get("/admin/audit.csv", headers=ADMIN)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.body.decode())))
    assert [(r["action"], r["resource"]) for r in rows] == [("POST /admin/discounts", "discounts")]
    assert '"code": "SUMMER"' in rows[0]["after"]


def test_every_admin_write_route_is_recorded(shop, localstripe, pool):
    from app import app
    from tests.b2b_support import BILLING, account_cart, add_buyer, make_company

    make_product(shop, sku_prefix="TEE", price=2500, on_hand=50)
    product_id = shop.get("/admin/products", headers=ADMIN).data["data"][0]["id"]
    paid = paid_order(shop, {"TEE-M": 1}, localstripe)["order"]["id"]
    to_cancel = paid_order(shop, {"TEE-M": 1}, localstripe)["order"]["id"]
    messaged, token = order(shop)
    write(shop, messaged, token)
    buy(shop, {"TEE-M": 1})
    relay(shop, Stream())
    customer_id = shop.get(f"/admin/customers?email={ADA}", headers=ADMIN).data["data"][0]["id"]
    product = shop.get(f"/products/{product_id}").data
    from tests.test_returns import ask, line, shipped_order
    from tests.test_sales import sale_body

    returned = shipped_order(shop, {"TEE-M": 2}, localstripe)
    kept, rejected = (ask(shop, returned, [line()]).data["id"] for _ in range(2))
    # B2B: a company with a price list, a buyer's quote and another buyer's invoiced order.
    company = make_company(shop, payment_terms_days=30, credit_limit={"EUR": 1_000_000})["id"]
    price_list = shop.post("/admin/price-lists", {"name": "Acme", "currency": "EUR", "prices": [
        {"sku": "TEE-M", "tiers": [{"min_quantity": 1, "price": 2000}]}]}, headers=ADMIN).data["id"]
    quoting = add_buyer(shop, pool, company, "quoting@acme.example")
    cart = account_cart(shop, quoting, {"TEE-M": 2})
    quote = shop.post(f"/carts/{cart['id']}/quote", {}, headers=quoting).data["id"]
    paying = add_buyer(shop, pool, company, "paying@acme.example")
    cart = account_cart(shop, paying, {"TEE-M": 1})
    invoice = shop.post(f"/carts/{cart['id']}/checkout", {"payment_method": "invoice"},
                        headers=paying).data["order"]["invoice"]["id"]
    calls = [
        ("POST", "/admin/products", {"title": "Cap", "variants": [
            {"sku": "CAP-1", "price": 900, "currency": "EUR", "on_hand": 2}]}),
        ("PUT", f"/admin/products/{product_id}", {"title": "Tee 2", "variants": [
            {"sku": v["sku"], "price": 2600, "currency": "EUR", "on_hand": 50} for v in product["variants"]]}),
        ("POST", "/admin/products/import", {"csv": IMPORT}),
        ("POST", "/admin/categories", {"slug": "tops", "title": "Tops"}),
        ("POST", "/admin/collections", {"slug": "picks", "title": "Picks", "product_ids": [product_id]}),
        ("PUT", "/admin/inventory/TEE-S", {"on_hand": 20, "low_stock_threshold": 2}),
        ("POST", "/admin/inventory/TEE-S/adjustments", {"delta": 1, "reason": "found one"}),
        ("POST", "/admin/discounts", DISCOUNT),
        ("POST", "/admin/discounts/SUMMER/disable", {}),
        ("POST", f"/admin/orders/{paid}/shipments", {"carrier": "dhl", "tracking_number": "T1"}),
        ("POST", f"/admin/orders/{paid}/refunds", {"amount": 100}),
        ("POST", f"/admin/orders/{paid}/confirmation-email", {}),
        ("POST", f"/admin/orders/{to_cancel}/cancel", {}),
        ("POST", f"/admin/orders/{messaged}/messages", {"body": "On its way."}),
        ("POST", f"/admin/orders/{messaged}/messages/close", {}),
        ("PATCH", f"/admin/customers/{customer_id}", {"note": "likes tees"}),
        ("POST", f"/admin/customers/{customer_id}/credit", {"currency": "EUR", "amount": 500, "reason": "sorry"}),
        ("POST", f"/admin/returns/{rejected}/reject", {}),
        ("POST", f"/admin/returns/{kept}/approve", {}),
        ("POST", f"/admin/returns/{kept}/receive", {"lines": [{"sku": "TEE-M", "quantity": 1, "restock": True}]}),
        ("POST", f"/admin/returns/{kept}/refund", {"method": "store_credit"}),
        ("POST", "/admin/sales", sale_body(starts_at=clock.iso(clock.now() + timedelta(days=1)),
                                           ends_at=clock.iso(clock.now() + timedelta(days=2)))),
        ("POST", f"/admin/products/{product_id}/images", {"content_type": "image/png", "alt": "front"}),
        ("POST", "/admin/gift-cards", {"currency": "EUR", "amount": 1000}),
        ("POST", "/admin/companies", {"name": "Other SARL", "billing_address": BILLING}),
        ("PATCH", f"/admin/companies/{company}", {"name": "Acme AG"}),
        ("POST", f"/admin/companies/{company}/buyers", {"email": "bob@acme.example"}),
        ("POST", "/admin/price-lists", {"name": "Other", "currency": "EUR", "prices": []}),
        ("PUT", f"/admin/price-lists/{price_list}", {"name": "Acme 2", "currency": "EUR", "prices": []}),
        ("POST", f"/admin/price-lists/{price_list}/import", {"csv": "sku,min_quantity,price\nTEE-M,1,1900\n"}),
        ("POST", f"/admin/quotes/{quote}/answer", {"lines": [{"sku": "TEE-M", "unit_price": 1800}],
                                                    "expires_at": clock.iso(clock.now() + timedelta(days=7))}),
        ("POST", f"/admin/invoices/{invoice}/paid", {}),
    ]
    for method, path, body in calls:
        answer = shop.request(method, path, body, headers=ADMIN)
        assert answer.status_code < 300, (path, answer.data)
    card = shop.get("/admin/gift-cards", headers=ADMIN).data["data"][0]["id"]
    assert shop.post(f"/admin/gift-cards/{card}/disable", {}, headers=ADMIN).status_code == 200
    for role in ("owner", "support", "fulfilment"):  # staff accounts: the pool's role groups (infra/deploy.yaml)
        boto3.client("cognito-idp").create_group(UserPoolId=pool.pool_id, GroupName=role)
    staff_token(pool, "owner", "olive@staff.example.com")
    invited = shop.post("/admin/staff", {"email": "nia@staff.example.com", "role": "support"}, headers=ADMIN)
    username = escaped(invited.data["username"], safe="")
    for method, path, body in (("PUT", f"/admin/staff/{username}/role", {"role": "fulfilment"}),
                               ("POST", f"/admin/staff/{username}/disable", {}),
                               ("POST", f"/admin/staff/{username}/enable", {})):
        assert shop.request(method, path, body, headers=ADMIN).status_code == 200, path
    recorded = {r["action"] for r in stored_records()}
    writes = {f"{m} {p}" for p, methods in app.routes.items() if p.startswith("/admin")
              for m in methods if m not in ("GET", "OPTIONS")}
    assert not writes - recorded, f"write routes without a record (add them to this test): {writes - recorded}"



def test_an_orders_emails_are_listed_for_its_timeline(mail):
    from tests.queue_support import message, order_item, sqs_event, store

    item = store(order_item("paid"))
    body = message("ShipmentCreated", item, carrier="DHL", tracking_number="JD1")
    mail.raw.lambda_.invoke("on_email_message", sqs_event(mail, body, body))  # delivered twice: sent once
    answer = mail.get(f"/admin/orders/{item['id']}/emails", headers=ADMIN)
    assert answer.status_code == 200, answer.data
    [sent] = answer.data["data"]
    assert (sent["type"], sent["to"]) == ("ShipmentCreated", "ada@example.com")
    assert "is on its way" in sent["subject"] and sent["sent_at"]
    assert mail.get("/admin/orders/ord_nope/emails", headers=ADMIN).status_code == 404


def test_racing_admin_writes_leave_one_record_per_change_that_landed(moto_server):
    """Six concurrent write-offs of a SKU with 3 on hand, over a moto server: the ones whose condition failed
    (stock moved, or would go below 0) wrote no record; each one that landed wrote exactly one."""
    import threading

    from chalice.test import Client

    from app import app
    from chalicelib.errors import CommerceError
    from chalicelib.repository import catalog
    from chalicelib.services import stock_ledger
    from tests.conftest import Api

    with Client(app, stage_name="test") as raw:
        make_product(Api(raw), sku_prefix="TEE", on_hand=3)
    before = len(stored_records())
    outcomes: list[str] = []

    def write_off(n: int):
        audit.begin(f"admin_key:racer{n}", "POST", "/admin/inventory/{sku}/adjustments", {"sku": "TEE-M"})
        try:
            stock_ledger.adjust("TEE-M", "damaged", f"admin_key:racer{n}", delta=-1)
            outcomes.append("adjusted")
        except CommerceError as error:
            outcomes.append(error.code)
        finally:
            audit.end()

    threads = [threading.Thread(target=write_off, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    landed = outcomes.count("adjusted")
    print("write-off race:", sorted(outcomes))
    records = [r for r in stored_records()[before:] if r["action"].endswith("/adjustments")]
    assert landed >= 1 and len(records) == landed, outcomes
    assert catalog.get_skus(["TEE-M"])["TEE-M"].on_hand == 3 - landed
    assert len(stock_ledger.entries("TEE-M", 100, None)[0]) == landed
    assert {r["actor"] for r in records} <= {f"admin_key:racer{n}" for n in range(6)}


def test_an_update_expressions_changed_fields_and_the_item_after_it():
    names, values = {"#a": "alpha"}, {":add": 1, ":set": 2, ":delete": 3}
    assert audit.update_fields("SET #a = :add, b = b + :set REMOVE c ADD d :delete", names, values) == {
        "alpha": 1, "b": "b + 2", "c": None, "d": "add 3"}
    assert audit.applied({"b": 5, "c": 1}, "SET #a = :add, b = b + :set REMOVE c", names, values) == {
        "alpha": 1, "b": 7}
    assert audit.applied({"b": 5}, "SET b = if_not_exists(b, :add) + :set", names, values) is None
    assert audit.applied({"l": [1]}, "SET l[0] = :add", names, values) is None
    assert audit.change("Put", {"PK": "X#1", "SK": "X", "n": 1, "m": 2}, {"PK": "X#1", "SK": "X", "n": 1, "m": 3}) == (
        {"m": 2}, {"m": 3})
    assert audit.label({"PK": "ORDER#o1", "SK": "ORDER"}) == "ORDER#o1"
    assert audit.label({"PK": "ORDER#o1", "SK": "THREAD"}) == "ORDER#o1 THREAD"
