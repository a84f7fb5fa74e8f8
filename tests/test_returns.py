"""Returns (RMA): a customer asks to return shipped lines within the window, the shop approves (numbered,
emailed, a return request to fulfilment) or rejects, receives (restocked exactly once, in the stock
ledger, or written off) and refunds once; concurrent requests never return a unit twice and concurrent
refunds never pay twice (moto server)."""

import json
import threading
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.services import emails
from tests.conftest import ADMIN, make_product
from tests.growth_support import at_fixture  # noqa: F401
from tests.orders_support import Stream, queue_messages
from tests.test_admin_orders import paid_order
from tests.test_checkout import stock


def shipped_order(api, lines: dict[str, int], localstripe: str | None = None) -> dict:
    """A paid order (at localstripe when given, so refunds really happen there), shipped in full."""
    result = paid_order(api, lines, localstripe)
    answer = api.post(f"/admin/orders/{result['order']['id']}/shipments", {"carrier": "dhl", "tracking_number": "JD1"},
                      headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return result


def ask(api, result: dict, lines: list[dict], token: str | None = None, **body):
    return api.post(f"/orders/{result['order']['id']}/returns", {"lines": lines, **body},
                    headers={"X-Order-Token": token or result["order_token"]})


def line(sku: str = "TEE-M", quantity: int = 1, reason: str = "size_or_fit") -> dict:
    return {"sku": sku, "quantity": quantity, "reason": reason}


def admin(api, return_id: str, step: str, body: dict | None = None):
    return api.post(f"/admin/returns/{return_id}/{step}", body or {}, headers=ADMIN)


@pytest.fixture
def catalogue(shop):
    make_product(shop, on_hand=10, price=2000)
    return shop


def test_a_return_from_request_to_refund(catalogue, localstripe):
    api = catalogue
    result = shipped_order(api, {"TEE-M": 2, "TEE-S": 1}, localstripe)
    order_id = result["order"]["id"]

    asked = ask(api, result, [line(quantity=2, reason="damaged"), line("TEE-S", 1, "no_longer_needed")],
                comment="One arrived torn.")
    assert asked.status_code == 201, asked.data
    ret = asked.data
    assert ret["id"].startswith("ret_") and ret["status"] == "requested" and ret["number"] is None
    assert ret["lines"][0] == {"sku": "TEE-M", "quantity": 2, "reason": "damaged", "received": None, "restock": None}
    assert ret["comment"] == "One arrived torn." and ret["refund"] is None
    order = api.get(f"/orders/{order_id}", headers={"X-Order-Token": result["order_token"]}).data
    assert order["return_status"] == "requested"
    listed = api.get(f"/orders/{order_id}/returns", headers={"X-Order-Token": result["order_token"]})
    assert listed.status_code == 200 and [r["id"] for r in listed.data["data"]] == [ret["id"]]
    assert api.get(f"/orders/{order_id}/returns", headers={"X-Order-Token": "wrong"}).status_code == 404
    queue = api.get("/admin/returns?status=requested", headers=ADMIN).data
    assert [r["id"] for r in queue["data"]] == [ret["id"]]

    approved = admin(api, ret["id"], "approve", {"message": "Send it to our warehouse."})
    assert approved.status_code == 200, approved.data
    assert approved.data["status"] == "approved" and approved.data["number"] == f"R-{clock.now().year}-000001"
    assert admin(api, ret["id"], "approve", {"message": "Send it to our warehouse."}).data == approved.data
    assert admin(api, ret["id"], "reject").status_code == 409
    assert api.get("/admin/returns", headers=ADMIN).data["data"] == []

    before = stock("TEE-M")
    received = admin(api, ret["id"], "receive", {"lines": [{"sku": "TEE-M", "quantity": 2, "restock": False},
                                                            {"sku": "TEE-S", "quantity": 1, "restock": True}]})
    assert received.status_code == 200, received.data
    assert [(x["received"], x["restock"]) for x in received.data["lines"]] == [(2, False), (1, True)]
    assert stock("TEE-M") == before  # written off
    assert stock("TEE-S") == {"on_hand": 10, "reserved": 0, "available": 10}  # 9 after shipping, 1 back
    again = admin(api, ret["id"], "receive", {"lines": [{"sku": "TEE-S", "quantity": 1, "restock": True}]})
    assert again.status_code == 409 and stock("TEE-S")["available"] == 10  # restocked exactly once
    ledger = api.get("/admin/inventory/TEE-S/ledger", headers=ADMIN).data["data"]
    assert ledger[0]["reason"].startswith(f"return {approved.data['number']}")
    assert (ledger[0]["before"]["on_hand"], ledger[0]["after"]["on_hand"]) == (9, 10)

    refunded = admin(api, ret["id"], "refund", {"method": "original"})
    assert refunded.status_code == 200, refunded.data
    goods = result["order"]["total"] - result["order"]["shipping_total"]
    assert refunded.data["status"] == "refunded"
    assert refunded.data["refund"] == {"method": "original", "amount": goods, "order_id": None}
    order = api.get(f"/admin/orders/{order_id}", headers=ADMIN).data
    assert order["amount_refunded"] == goods and order["return_status"] == "refunded"
    assert admin(api, ret["id"], "refund", {"method": "original"}).status_code == 409
    assert api.get(f"/admin/orders/{order_id}", headers=ADMIN).data["amount_refunded"] == goods
    # Everything has been returned: nothing more can be.
    assert ask(api, result, [line()]).data["error"]["code"] == "return_exceeds_shipment"


def test_what_cannot_be_returned_is_a_4xx_that_changes_nothing(catalogue, at):
    api = catalogue
    unshipped = paid_order(api, {"TEE-M": 1})
    closed = ask(api, unshipped, [line()])
    assert closed.status_code == 409 and closed.data["error"]["code"] == "return_window_closed"
    result = shipped_order(api, {"TEE-M": 2})
    cases = [([line(reason="changed_mind")], 400, "lines.0.reason"),
             ([line("TEE-S")], 400, "lines.0.sku"),
             ([line(), line()], 400, "lines.1.sku"),
             ([line(quantity=3)], 409, "lines.0.quantity"),
             ([line(quantity=0)], 400, "lines.0.quantity"),
             ([], 400, "lines")]
    for lines, status, param in cases:
        answer = ask(api, result, lines)
        assert (answer.status_code, answer.data["error"].get("param")) == (status, param), (lines, answer.data)
    assert ask(api, result, [line()], token="nope").status_code == 404
    order_id = result["order"]["id"]
    assert api.get(f"/admin/orders/{order_id}", headers=ADMIN).data["return_status"] is None
    assert api.get(f"/orders/{order_id}/returns", headers={"X-Order-Token": result["order_token"]}).data["data"] == []
    assert api.get("/admin/returns?status=lost", headers=ADMIN).status_code == 400
    at(clock.now() + timedelta(days=31))  # RETURN_WINDOW_DAYS, 30 by default
    assert ask(api, result, [line()]).data["error"]["code"] == "return_window_closed"


def test_a_rejected_return_gives_its_units_back_and_returns_list_oldest_first(catalogue):
    api = catalogue
    result = shipped_order(api, {"TEE-M": 2})
    first = ask(api, result, [line(quantity=2)]).data
    assert ask(api, result, [line()]).status_code == 409
    rejected = admin(api, first["id"], "reject", {"message": "Worn items cannot be returned."})
    assert rejected.data["status"] == "rejected" and rejected.data["message"] == "Worn items cannot be returned."
    assert admin(api, first["id"], "receive", {"lines": [{"sku": "TEE-M", "quantity": 1, "restock": True}]}
                 ).status_code == 409
    assert admin(api, first["id"], "refund", {"method": "original"}).status_code == 409
    second = ask(api, result, [line()]).data
    third = ask(api, result, [line()]).data
    listed = api.get("/admin/returns?status=requested&limit=1", headers=ADMIN).data
    assert [r["id"] for r in listed["data"]] == [second["id"]]
    rest = api.get(f"/admin/returns?status=requested&cursor={listed['next_cursor']}", headers=ADMIN).data
    assert [r["id"] for r in rest["data"]] == [third["id"]]
    assert [r["id"] for r in api.get("/admin/returns?status=rejected", headers=ADMIN).data["data"]] == [first["id"]]
    assert admin(api, "ret_nope", "approve").status_code == 404


def test_each_step_is_emailed_and_an_approval_asks_fulfilment_for_the_return(catalogue, aws):
    api = catalogue
    result = shipped_order(api, {"TEE-M": 1})
    stream = Stream()
    stream.read()
    queue_messages(aws["EmailQueueUrl"]), queue_messages(aws["FulfilmentQueueUrl"])
    ret = ask(api, result, [line()]).data
    admin(api, ret["id"], "approve", {"message": "Use the enclosed label."})
    admin(api, ret["id"], "receive", {"lines": [{"sku": "TEE-M", "quantity": 1, "restock": True}]})
    api.raw.lambda_.invoke("on_table_change", {"Records": stream.read()})
    sent = [m for m in queue_messages(aws["EmailQueueUrl"]) if m["type"].startswith("Return")]
    assert [m["type"] for m in sent] == ["ReturnRequested", "ReturnApproved", "ReturnReceived"]
    approval = emails.render(sent[1])
    number = sent[1]["data"]["return"]["number"]
    assert approval.to == "ada@example.com" and number in approval.subject and number in approval.text
    assert "Use the enclosed label." in approval.text and "order.html?id=" in approval.text
    handed = [m for m in queue_messages(aws["FulfilmentQueueUrl"]) if m["type"].startswith("Return")]
    assert [m["type"] for m in handed] == ["ReturnApproved"] and "order_token" not in handed[0]["data"]


def test_the_signed_in_owner_asks_for_a_return_without_the_order_token(catalogue, pool):
    from tests.customers_support import bearer

    api = catalogue
    ada, bob = bearer(pool.sign_up("ada@example.com")["id"]), bearer(pool.sign_up("bob@example.com")["id"])
    result = shipped_order(api, {"TEE-M": 1})
    path = f"/orders/{result['order']['id']}/returns"
    stolen = api.post(path, {"lines": [line()]}, headers=bob)
    assert stolen.status_code == 404 and api.get(path, headers=bob).status_code == 404
    assert api.post(path, {"lines": [line()]}, headers={"Authorization": "Bearer nope"}).status_code == 401
    asked = api.post(path, {"lines": [line()]}, headers=ada)
    assert asked.status_code == 201, asked.data
    assert [r["id"] for r in api.get(path, headers=ada).data["data"]] == [asked.data["id"]]


def test_a_sharded_skus_restock_goes_to_its_first_shard_and_the_sum_grows_once(catalogue):
    from tests.test_sharded_stock import set_inventory

    api = catalogue
    set_inventory(api, "TEE-M", on_hand=10, shards=3)
    result = shipped_order(api, {"TEE-M": 2})
    level = lambda: api.get("/admin/inventory?skus=TEE-M", headers=ADMIN).data["data"][0]  # noqa: E731
    assert (level()["on_hand"], level()["available"]) == (8, 8)
    ret = ask(api, result, [line(quantity=2)]).data
    admin(api, ret["id"], "approve")
    received = admin(api, ret["id"], "receive", {"lines": [{"sku": "TEE-M", "quantity": 2, "restock": True}]})
    assert received.status_code == 200, received.data
    assert (level()["on_hand"], level()["available"], level()["shards"]) == (10, 10, 3)


def race(threads: int, work) -> list[str]:
    outcomes, barrier = [], threading.Barrier(threads)

    def run():
        barrier.wait()
        try:
            work()
            outcomes.append("ok")
        except Exception as error:
            outcomes.append(getattr(error, "code", repr(error)))

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcomes


def served(localstripe):
    from chalice.test import Client

    from app import app
    from tests.conftest import Api
    from tests.orders_support import use_localstripe

    use_localstripe(localstripe)
    return Client(app, stage_name="test"), Api


def test_concurrent_return_requests_never_return_a_unit_twice(moto_server, localstripe):
    from chalicelib.repository import orders
    from chalicelib.services import returns

    client, Api = served(localstripe)
    with client as raw:
        api = Api(raw)
        make_product(api, on_hand=10)
        result = shipped_order(api, {"TEE-M": 3})
    order_id = result["order"]["id"]
    outcomes = race(8, lambda: returns.request(order_id, [("TEE-M", 1, "other")], None))
    assert outcomes.count("ok") == 3 and outcomes.count("return_exceeds_shipment") == 5, outcomes
    assert orders.get(order_id).returned == {"TEE-M": 3}
    assert sum(r.lines[0].quantity for r in returns.for_order(order_id)) == 3


def test_concurrent_refunds_of_one_return_pay_once(moto_server, localstripe):
    from chalicelib.repository import orders
    from chalicelib.services import returns

    client, Api = served(localstripe)
    with client as raw:
        api = Api(raw)
        make_product(api, on_hand=10)
        result = shipped_order(api, {"TEE-M": 2}, localstripe)
        ret = ask(api, result, [line(quantity=2)]).data
        assert admin(api, ret["id"], "approve").status_code == 200
    outcomes = race(6, lambda: returns.refund(ret["id"], "original"))
    assert outcomes.count("ok") == 1 and outcomes.count("invalid_state") == 5, outcomes
    order = orders.get(result["order"]["id"])
    goods = 2 * 1999 + 760  # the shirts and their 19 % (the shipping and its tax are not refunded)
    assert order.amount_refunded == goods and [r.amount for r in order.refunds] == [goods]
    assert returns.get(ret["id"]).refund.amount == goods


@pytest.mark.parametrize("status,refund,says", [
    ("rejected", None, "cannot accept your return"),
    ("refunded", {"method": "original", "amount": 2975}, "€29.75 refunded to your original payment method"),
    ("refunded", {"method": "store_credit", "amount": 3272}, "€32.72 added to your store credit"),
    ("refunded", {"method": "exchange", "amount": 2975, "order_id": "ord_x"}, "exchanged for a new order, ord_x"),
])
def test_every_step_of_a_return_renders_its_email(status, refund, says):
    from chalicelib import events
    from chalicelib.models.returns import ReturnRecord, ReturnRefund

    now = clock.now()
    before = ReturnRecord(id="ret_1", number="R-2026-000007", order_id="ord_1", order_token="tok",
                          email="ada@example.com", currency="EUR", status="approved", created_at=now, updated_at=now,
                          lines=[{"sku": "TEE-M", "quantity": 1, "reason": "size_or_fit"}])
    after = before.model_copy(update={"status": status, "message": "Worn <b>items</b>.",
                                      "refund": ReturnRefund(**refund) if refund else None})
    [event] = events.return_events(before, after)
    email = emails.render(json.loads(event.body("email")))
    assert email.to == "ada@example.com" and says in email.text and "1 x TEE-M (size or fit)" in email.text
    assert "Worn &lt;b&gt;items&lt;/b&gt;." in email.html and "order.html?id=ord_1&token=tok" in email.text
    assert events.return_events(after, after) == []
