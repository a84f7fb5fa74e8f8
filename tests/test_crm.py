"""The shop's customer view: figures kept from the stream (once per change however often it is
delivered), segments with counts and a CSV export, the daily sweep that moves customers on by the
day of their last order (no Scan) and offers one win-back code per lapse to those who consent."""

from datetime import timedelta

import boto3
import pytest

from chalicelib import clock, unsubscribe
from chalicelib.models.customers import customer_id_for
from chalicelib.repository import dynamo
from chalicelib.services import emails
from tests import test_least_privilege
from tests.conftest import ADMIN, make_product
from tests.growth_support import at_fixture, cart_with, check_out, pay, refund, relay, scheduled  # noqa: F401
from tests.orders_support import Stream, queue_messages
from tests.queue_support import consumers_fixture, mail_fixture, pump, sent_emails  # noqa: F401
from tests.test_reports import report

ADA, GRACE = "ada@example.com", "Grace@Example.com"
recorder = test_least_privilege.recorder  # the fixture: AWS calls by function


def buy(api, lines: dict[str, int], email: str = ADA, code: str | None = None, paid: bool = True) -> dict:
    cart = cart_with(api, lines, email=email)
    if code:
        answer = api.patch(f"/carts/{cart['id']}", {"discount_code": code})
        assert answer.status_code == 200, answer.data
    result = check_out(api, cart["id"])
    if paid:
        pay(api, result)
    return result


def customers(api, query: str = "") -> dict:
    answer = api.get(f"/admin/customers{query}", headers=ADMIN)
    assert answer.status_code == 200, answer.data
    return answer.data


def segments(api) -> dict[str, int]:
    answer = api.get("/admin/segments", headers=ADMIN)
    assert answer.status_code == 200, answer.data
    return {s["id"]: s["count"] for s in answer.data["data"]}


def consent(email: str, granted: bool = True) -> None:
    """The accounts side's PROFILE item, as it writes it."""
    item = {"PK": f"CUSTOMER#{customer_id_for(email)}", "SK": "PROFILE", "email": email,
            "marketing_consent": {"granted": granted, "at": clock.iso(clock.now()), "source": "account"}}
    boto3.client("dynamodb").put_item(TableName=dynamo.table(), Item=dynamo.to_item(item))


def sweep(api) -> dict:
    return scheduled(api, "sweep_customers")


@pytest.fixture
def products(shop):
    make_product(shop, sku_prefix="TEE", price=2500, on_hand=100)
    make_product(shop, sku_prefix="HAT", price=40000, on_hand=100, sizes=("ONE",), title="Hat")


def test_paid_orders_make_a_customer_with_figures_once_however_often_the_stream_delivers(shop, products, at):
    stream = Stream()
    at(clock.now() - timedelta(minutes=5))
    first = buy(shop, {"TEE-M": 2})                     # 5000
    buy(shop, {"TEE-S": 1}, paid=False)                 # never paid: not counted
    records = relay(shop, stream)
    at(None)
    buy(shop, {"TEE-S": 4}, email="ADA@example.com ")   # the same customer: 10000
    refund(shop, first, 1000)
    records += relay(shop, stream)

    shop.raw.lambda_.invoke("on_table_change", {"Records": records})  # the stream delivers again
    shop.raw.lambda_.invoke("on_table_change", {"Records": records[len(records) // 2:]})

    found = customers(shop, f"?email={ADA.upper()}")["data"]
    assert len(found) == 1
    ada = found[0]
    assert ada["id"] == customer_id_for(ADA)
    assert (ada["orders_count"], ada["lifetime_value"], ada["segment"]) == (2, {"EUR": 14000}, "repeat")
    assert ada["first_order_at"] <= ada["last_order_at"]
    assert (ada["tags"], ada["note"], ada["store_credit"]) == ([], None, {"EUR": 0})
    assert segments(shop) == {"new": 0, "repeat": 1, "vip": 0, "at_risk": 0, "lapsed": 0}

    detail = shop.get(f"/admin/customers/{ada['id']}", headers=ADMIN)
    assert detail.status_code == 200, detail.data
    assert [o["total"] for o in detail.data["orders"]] == [10000, 5000]  # newest first, paid only
    assert detail.data["orders"][1]["amount_refunded"] == 1000


def test_segments_move_with_orders_and_lists_page_by_index(shop, products, at):
    stream = Stream()
    start = at(clock.now() - timedelta(hours=1))  # a minute between orders: a stable order of the lists
    buy(shop, {"TEE-M": 1}, email="new@example.com")
    at(start + timedelta(minutes=1))
    buy(shop, {"HAT-ONE": 2}, email="vip@example.com")   # 80000 >= VIP_THRESHOLD (50000)
    at(start + timedelta(minutes=2))
    buy(shop, {"TEE-M": 1}, email=GRACE)
    at(start + timedelta(minutes=3))
    buy(shop, {"TEE-M": 1}, email=GRACE.lower())
    relay(shop, stream)

    assert segments(shop) == {"new": 1, "repeat": 1, "vip": 1, "at_risk": 0, "lapsed": 0}
    newest = customers(shop, "?limit=2")
    assert [c["email"] for c in newest["data"]] == ["grace@example.com", "vip@example.com"]
    rest = customers(shop, f"?limit=2&cursor={newest['next_cursor']}")
    assert [c["email"] for c in rest["data"]] == ["new@example.com"] and rest["next_cursor"] is None
    by_last_order = customers(shop, "?sort=last_order")["data"]
    assert [c["email"] for c in by_last_order] == ["grace@example.com", "vip@example.com", "new@example.com"]
    assert [c["segment"] for c in customers(shop, "?segment=vip")["data"]] == ["vip"]
    assert customers(shop, "?email=nobody@example.com") == {"data": [], "next_cursor": None}

    csv = shop.raw.http.get("/admin/segments/repeat/customers.csv", headers=ADMIN)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.body.decode().splitlines()
    assert lines[0].startswith("id,email,segment,orders_count,lifetime_value")
    # 2 × (2500 + 495 shipping)
    assert lines[1].startswith(f"{customer_id_for(GRACE)},grace@example.com,repeat,2,EUR 5990")


def test_the_shop_tags_and_notes_a_customer(shop, products):
    stream = Stream()
    buy(shop, {"TEE-M": 1})
    relay(shop, stream)
    path = f"/admin/customers/{customer_id_for(ADA)}"

    answer = shop.patch(path, {"tags": ["wholesale", "wholesale", "berlin"], "note": "Call before shipping."},
                        headers=ADMIN)
    assert answer.status_code == 200, answer.data
    assert (answer.data["tags"], answer.data["note"]) == (["wholesale", "berlin"], "Call before shipping.")
    assert shop.patch(path, {"note": "=cmd"}, headers=ADMIN).data["tags"] == ["wholesale", "berlin"]
    buy(shop, {"TEE-S": 1})
    relay(shop, stream)  # the stream's next change keeps what the shop wrote
    again = shop.get(path, headers=ADMIN).data
    assert (again["orders_count"], again["tags"], again["note"]) == (2, ["wholesale", "berlin"], "=cmd")
    csv = shop.raw.http.get("/admin/segments/repeat/customers.csv", headers=ADMIN).body.decode()
    assert ",'=cmd" in csv  # no formula for a spreadsheet


@pytest.mark.parametrize(("method", "path", "body", "param"), [
    ("GET", "/admin/customers?sort=oldest", None, "sort"),
    ("GET", "/admin/customers?segment=gold", None, "segment"),
    ("GET", "/admin/customers?segment=vip&sort=newest", None, "sort"),
    ("GET", "/admin/customers?limit=0", None, "limit"),
    ("GET", "/admin/customers?cursor=not-a-cursor", None, "cursor"),
    ("PATCH", "/admin/customers/cus_x", {}, None),
    ("PATCH", "/admin/customers/cus_x", {"tags": "vip"}, "tags"),
    ("PATCH", "/admin/customers/cus_x", {"tags": [""]}, "tags.0"),
    ("PATCH", "/admin/customers/cus_x", {"note": "x" * 2001}, "note"),
    ("PATCH", "/admin/customers/cus_x", {"orders_count": 9}, "orders_count"),
])
def test_bad_input_is_a_400_naming_it(client, method, path, body, param):
    answer = client.request(method, path, body, headers=ADMIN)
    assert answer.status_code == 400, answer.data
    assert answer.data["error"]["code"] == "invalid_request"
    assert answer.data["error"].get("param") == param


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/admin/customers/cus_unknown"), ("PATCH", "/admin/customers/cus_unknown"),
    ("GET", "/admin/customers/ord_x"), ("GET", "/admin/segments/gold/customers.csv"),
])
def test_unknown_customers_and_segments_are_404(client, method, path):
    answer = client.request(method, path, {"note": "x"} if method == "PATCH" else None, headers=ADMIN)
    assert (answer.status_code, answer.data["error"]["code"]) == (404, "resource_missing")


@pytest.mark.parametrize("path", ["/admin/customers", "/admin/customers/cus_x", "/admin/segments",
                                  "/admin/segments/new/customers.csv"])
def test_customer_routes_need_the_admin_key(client, path):
    assert client.get(path).status_code == 401


def test_the_sweep_moves_customers_on_and_offers_one_winback_per_lapse_to_those_who_consent(shop, products, at, aws,
                                                                                           monkeypatch):
    monkeypatch.setenv("UNSUBSCRIBE_SECRET", "unsubscribe-test-secret")
    stream = Stream()
    start = at(clock.now())
    buy(shop, {"TEE-M": 2})
    buy(shop, {"TEE-M": 2}, email=GRACE)
    consent(ADA)
    consent(GRACE, granted=False)
    relay(shop, stream)
    assert sweep(shop) == {"moved": 0, "offered": 0}

    at(start + timedelta(days=59))
    assert sweep(shop) == {"moved": 0, "offered": 0}
    at(start + timedelta(days=60))
    assert sweep(shop) == {"moved": 2, "offered": 0}
    assert sweep(shop) == {"moved": 0, "offered": 0}  # the day's buckets are read once
    assert segments(shop)["at_risk"] == 2

    at(start + timedelta(days=120, hours=1))
    assert sweep(shop) == {"moved": 2, "offered": 1}
    assert segments(shop) == {"new": 0, "repeat": 0, "vip": 0, "at_risk": 0, "lapsed": 2}
    relay(shop, stream)
    offers = [m for m in queue_messages(aws["EmailQueueUrl"]) if m["type"] == "WinBackOffered"]
    assert [m["data"]["customer"]["email"] for m in offers] == [ADA]  # Grace does not consent
    code = offers[0]["data"]["winback"]["code"]
    email = emails.render(offers[0])
    assert email.to == ADA and code in email.text and "15 %" in email.subject
    # Marketing, like the abandoned-cart reminder: the one-click unsubscribe link in the body and headers,
    # and consent checked again when it is sent.
    assert unsubscribe.page_link(customer_id_for(ADA)) in email.text
    assert dict(email.headers) == unsubscribe.headers(customer_id_for(ADA))
    consent(ADA, granted=False)
    assert emails.deliver(offers[0]) is False

    discount = shop.get("/admin/discounts", headers=ADMIN).data["data"][0]
    assert (discount["code"], discount["usage_limit"], discount["per_customer_limit"]) == (code, 1, 1)

    # Sweeping the same days again (another run, the relay again) offers nothing more.
    dynamo.call("delete_item", TableName=dynamo.table(), Key=dynamo.to_item({"PK": "SWEEP#customers", "SK": "SWEEP"}))
    assert sweep(shop) == {"moved": 0, "offered": 0}

    # The code is Ada's: another customer's cart cannot use it.
    other = cart_with(shop, {"TEE-M": 1}, email="mallory@example.com")
    refused = shop.patch(f"/carts/{other['id']}", {"discount_code": code})
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "discount_not_for_customer")

    # Ada comes back with the code: the order counts as win-back revenue, she is a customer again.
    result = buy(shop, {"TEE-M": 4}, code=code)
    relay(shop, stream)
    day = clock.now().date()
    figures = report(shop, day, day).data
    assert figures["winback_revenue"] == result["order"]["total"] == 8500
    assert customers(shop, f"?email={ADA}")["data"][0]["segment"] == "repeat"
    assert buy(shop, {"TEE-M": 1}, paid=False) and True  # the code is used up for a second cart:
    cart = cart_with(shop, {"TEE-M": 1})
    assert shop.patch(f"/carts/{cart['id']}", {"discount_code": code}).status_code == 409


def test_every_aws_call_of_the_crm_flows_is_allowed_by_its_functions_policy(shop, mail, aws, recorder, at, products,
                                                                            monkeypatch):
    from tests.conftest import reset_clients

    monkeypatch.setenv("UNSUBSCRIBE_SECRET", "unsubscribe-test-secret")  # the win-back email's unsubscribe link

    reset_clients()
    emails._ses.cache_clear()
    stream = Stream()
    start = at(clock.now())
    with recorder.function("api"):
        result = buy(shop, {"TEE-M": 1})
        consent(ADA)
        assert shop.post(f"/orders/{result['order']['id']}/messages", {"body": "Hello?"},
                         headers={"X-Order-Token": result["order_token"]}).status_code == 201
        assert shop.post(f"/admin/orders/{result['order']['id']}/messages", {"body": "Hi!"},
                         headers=ADMIN).status_code == 201
    with recorder.function("on_table_change"):
        relay(shop, stream)
    with recorder.function("api"):
        cid = customer_id_for(ADA)
        for path in ("/admin/customers", "/admin/customers?segment=new", f"/admin/customers/{cid}",
                     "/admin/segments", "/admin/messages"):
            assert shop.raw.http.get(path, headers=ADMIN).status_code == 200, path
        assert shop.patch(f"/admin/customers/{cid}", {"tags": ["x"]}, headers=ADMIN).status_code == 200
    with recorder.function("measure_open_threads"):
        assert scheduled(shop, "measure_open_threads")["oldest_open_seconds"] >= 0
    at(start + timedelta(days=120))
    with recorder.function("sweep_customers"):
        assert sweep(shop) == {"moved": 1, "offered": 1}
    with recorder.function("on_table_change"):
        relay(shop, stream)
    with recorder.function("on_email_message"):
        for _ in range(3):
            pump(mail, "on_email_message", aws["EmailQueueUrl"])

    subjects = [s.subject for s in sent_emails()]
    assert any("We miss you" in s for s in subjects) and any("A reply about your order" in s for s in subjects)
    functions = {function for function, _, _ in recorder.calls}
    assert functions == {"api", "on_table_change", "measure_open_threads", "sweep_customers", "on_email_message"}
    denied = sorted({call for call in recorder.calls if not test_least_privilege.allowed(*call)})
    assert not denied, "\n".join(f"{f}: {a} on {r}" for f, a, r in denied)


def test_the_shop_cannot_create_codes_that_look_like_winback_codes(client):
    answer = client.post("/admin/discounts", {"code": "wb-SUMMER", "kind": "percent", "value": 10}, headers=ADMIN)
    assert (answer.status_code, answer.data["error"]["param"]) == (400, "code")
