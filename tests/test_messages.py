"""Customer service: a customer writes about an order with its order token, the shop reads the inbox
(oldest open thread first), answers (emailed, with a link to the order page), writes internal notes
the customer never sees, and closes the thread; the oldest open thread's age is a metric."""

import json
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.services import emails, messages
from tests.conftest import ADMIN, make_product
from tests.growth_support import at_fixture, cart_with, check_out, relay  # noqa: F401
from tests.orders_support import Stream, queue_messages


def order(api, email: str = "ada@example.com") -> tuple[str, str]:
    result = check_out(api, cart_with(api, {"TEE-M": 1}, email=email)["id"])
    return result["order"]["id"], result["order_token"]


def write(api, order_id: str, token: str | None, body="Where is my parcel?", **kw):
    headers = {"X-Order-Token": token} if token is not None else {}
    return api.post(f"/orders/{order_id}/messages", {"body": body}, headers=headers | kw.pop("headers", {}))


def read(api, order_id: str, token: str):
    return api.get(f"/orders/{order_id}/messages", headers={"X-Order-Token": token})


def reply(api, order_id: str, body: str, internal: bool = False):
    return api.post(f"/admin/orders/{order_id}/messages", {"body": body, "internal": internal}, headers=ADMIN)


def inbox(api, query: str = "") -> dict:
    answer = api.get(f"/admin/messages{query}", headers=ADMIN)
    assert answer.status_code == 200, answer.data
    return answer.data


@pytest.fixture
def catalogue(shop):
    make_product(shop, on_hand=50)
    return shop


def test_a_conversation_about_an_order(catalogue, aws, at):
    api, stream = catalogue, Stream()
    order_id, token = order(api)
    start = at(clock.now())

    written = write(api, order_id, token)
    assert written.status_code == 201, written.data
    assert written.data["author"] == "customer" and written.data["id"].startswith("msg_")
    at(start + timedelta(minutes=1))
    assert reply(api, order_id, "Refund if it is lost.", internal=True).status_code == 201
    at(start + timedelta(minutes=2))
    answered = reply(api, order_id, "It left our warehouse today.")
    assert answered.status_code == 201 and answered.data["internal"] is False

    seen = read(api, order_id, token)
    assert seen.status_code == 200
    assert [(m["author"], m["body"]) for m in seen.data["data"]] == [
        ("customer", "Where is my parcel?"), ("shop", "It left our warehouse today.")]  # never the note
    shop_view = api.get(f"/admin/orders/{order_id}/messages", headers=ADMIN).data["data"]
    assert [m["internal"] for m in shop_view] == [False, True, False]

    threads = inbox(api)["data"]
    assert [(t["order_id"], t["status"], t["messages_count"], t["last_author"]) for t in threads] == [
        (order_id, "open", 2, "shop")]

    # The answer is emailed (through the stream and the email queue), with the link to the order page.
    relay(api, stream)
    replies = [m for m in queue_messages(aws["EmailQueueUrl"]) if m["type"] == "MessageReplied"]
    assert len(replies) == 1
    email = emails.render(replies[0])
    assert email.to == "ada@example.com" and "It left our warehouse today." in email.text
    assert emails.order_url(order_id, token) in email.text and "Refund if it is lost" not in email.text

    closed = api.post(f"/admin/orders/{order_id}/messages/close", {}, headers=ADMIN)
    assert (closed.status_code, closed.data["status"]) == (200, "closed")
    assert api.post(f"/admin/orders/{order_id}/messages/close", {}, headers=ADMIN).data == closed.data
    assert inbox(api)["data"] == []
    assert [t["order_id"] for t in inbox(api, "?status=closed")["data"]] == [order_id]

    at(start + timedelta(minutes=3))
    write(api, order_id, token, "It arrived, thanks!")  # the customer opens it again
    assert [(t["status"], t["opened_at"]) for t in inbox(api)["data"]] == [("open", clock.iso(clock.now()))]


def test_the_inbox_lists_the_oldest_open_thread_first_page_by_page_and_measures_its_age(catalogue, at, capsys):
    api = catalogue
    start = at(clock.now() - timedelta(hours=3))
    orders = [order(api, f"c{n}@example.com") for n in range(3)]
    for n, (order_id, token) in enumerate(reversed(orders)):
        at(start + timedelta(minutes=n))
        assert write(api, order_id, token).status_code == 201
    at(start + timedelta(hours=2))

    first = inbox(api, "?limit=2")
    rest = inbox(api, f"?limit=2&cursor={first['next_cursor']}")
    assert [t["order_id"] for t in first["data"] + rest["data"]] == [o for o, _ in reversed(orders)]

    capsys.readouterr()
    assert messages.measure_oldest_open() == 7200
    metric = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metric["OldestOpenThreadAge"] == [7200.0]
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Commerce"


def test_one_orders_token_never_reads_or_writes_another_orders_messages(catalogue):
    api = catalogue
    mine, my_token = order(api)
    theirs, their_token = order(api, "grace@example.com")
    assert write(api, theirs, their_token, "Private: my door code is 1234").status_code == 201

    for answer in (read(api, theirs, my_token), write(api, theirs, my_token), read(api, theirs, ""),
                   api.get(f"/orders/{theirs}/messages"), write(api, theirs, None),
                   read(api, "ord_" + "0" * 32, my_token)):
        assert (answer.status_code, answer.data["error"]["code"]) == (404, "resource_missing")
    assert read(api, mine, my_token).data == {"data": []}
    assert read(api, theirs, their_token).data["data"][0]["body"].startswith("Private")


@pytest.mark.parametrize(("path", "body", "param"), [
    ("/orders/{order}/messages", {}, "body"),
    ("/orders/{order}/messages", {"body": "   "}, "body"),
    ("/orders/{order}/messages", {"body": "x" * 5001}, "body"),
    ("/orders/{order}/messages", {"body": "hi", "author": "shop"}, "author"),
    ("/orders/{order}/messages", {"body": "hi", "internal": True}, "internal"),
    ("/admin/orders/{order}/messages", {"body": 5}, "body"),
    ("/admin/orders/{order}/messages", {"body": "hi", "internal": "yes"}, "internal"),
    ("/admin/orders/{order}/messages/close", {"status": "open"}, "status"),
])
def test_bad_input_is_a_400_naming_it_and_writes_nothing(catalogue, path, body, param):
    api = catalogue
    order_id, token = order(api)
    answer = api.post(path.format(order=order_id), body, headers=ADMIN | {"X-Order-Token": token})
    assert answer.status_code == 400, answer.data
    assert (answer.data["error"]["code"], answer.data["error"].get("param")) == ("invalid_request", param)
    assert read(api, order_id, token).data == {"data": []} and inbox(api)["data"] == []


@pytest.mark.parametrize("query", ["?status=pending", "?limit=101", "?cursor=bad"])
def test_bad_inbox_queries_are_400(client, query):
    assert client.get(f"/admin/messages{query}", headers=ADMIN).status_code == 400


def test_admin_message_routes_need_the_key_and_an_order(catalogue):
    api = catalogue
    order_id, _ = order(api)
    assert api.get("/admin/messages").status_code == 401
    assert api.post(f"/admin/orders/{order_id}/messages", {"body": "x"}).status_code == 401
    assert api.post(f"/admin/orders/{order_id}/messages/close", {}).status_code == 401
    assert reply(api, "ord_unknown", "x").status_code == 404
    assert api.post(f"/admin/orders/{order_id}/messages/close", {}, headers=ADMIN).status_code == 404  # no thread


def test_a_retried_post_with_the_same_idempotency_key_writes_one_message(catalogue):
    api = catalogue
    order_id, token = order(api)
    key = {"Idempotency-Key": "0f3c9c1e-8a4b-4f55-9a57-2b7c1d9e6a01"}
    first = write(api, order_id, token, headers=key)
    again = write(api, order_id, token, headers=key)
    assert (first.status_code, again.status_code, again.data) == (201, 201, first.data)
    assert len(read(api, order_id, token).data["data"]) == 1


def test_a_thread_holds_at_most_max_messages_notes_included(catalogue, monkeypatch):
    from chalicelib.models import crm

    monkeypatch.setattr(crm, "MAX_MESSAGES", 3)
    api = catalogue
    order_id, token = order(api)
    assert write(api, order_id, token).status_code == 201
    assert reply(api, order_id, "note", internal=True).status_code == 201
    assert reply(api, order_id, "answer").status_code == 201
    full = write(api, order_id, token)
    assert (full.status_code, full.data["error"]["code"]) == (409, "invalid_state")
    assert len(read(api, order_id, token).data["data"]) == 2


def test_the_signed_in_owner_writes_and_reads_without_the_order_token(catalogue, pool):
    from tests.customers_support import bearer

    api = catalogue
    ada, bob = bearer(pool.sign_up("ada@example.com")["id"]), bearer(pool.sign_up("bob@example.com")["id"])
    order_id, token = order(api)
    written = write(api, order_id, None, body="Signed in.", headers=ada)
    assert written.status_code == 201, written.data
    answer = api.get(f"/orders/{order_id}/messages", headers=ada)
    assert [m["body"] for m in answer.data["data"]] == ["Signed in."]

    # Another customer, signed in, is the same 404 as an unknown order; a bad token is a 401.
    unknown = api.get("/orders/ord_00000000000000000000000000000000/messages", headers=bob)
    for method, body in (("GET", None), ("POST", {"body": "Mine?"})):
        stolen = api.request(method, f"/orders/{order_id}/messages", body, headers=bob)
        assert (stolen.status_code, stolen.data) == (404, unknown.data), method
        forged = api.request(method, f"/orders/{order_id}/messages", body,
                             headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 401 and forged.data["error"]["code"] == "unauthenticated", method
    assert [m["body"] for m in read(api, order_id, token).data["data"]] == ["Signed in."]
