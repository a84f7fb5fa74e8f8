"""B2B approval: a buyer's checkout above their spending limit becomes a purchase request (202); an approver of
the company approves it (checked out then, stock reserved then) or rejects it with a message; emails both
ways; nobody outside the company sees or decides it; two approvers approving at once place one order."""

from chalicelib.errors import CommerceError
from chalicelib.services import emails
from tests.b2b_support import account_cart, add_buyer, make_company
from tests.conftest import ADMIN, make_product
from tests.customers_support import bearer
from tests.growth_support import relay
from tests.orders_support import Stream, queue_messages

LIMIT = {"EUR": 10000}


def setup(api, pool, on_hand=50):
    make_product(api, sku_prefix="DESK", sizes=("OAK",), price=6000, on_hand=on_hand)
    company = make_company(api)
    buyer = add_buyer(api, pool, company["id"], "bob@acme.example", spending_limit=LIMIT)
    approver = add_buyer(api, pool, company["id"], "ada@acme.example", role="approver")
    return company, buyer, approver


def test_within_the_limit_a_buyer_checks_out_and_above_it_a_request_is_made(shop, pool):
    _, bob, _ = setup(shop, pool)
    small = account_cart(shop, bob, {"DESK-OAK": 1})  # 6000 + tax, below 10000
    assert small["total"] <= LIMIT["EUR"]
    assert shop.post(f"/carts/{small['id']}/checkout", {}, headers=bob).status_code == 201
    big = account_cart(shop, bob, {"DESK-OAK": 2})
    answer = shop.post(f"/carts/{big['id']}/checkout", {}, headers=bob)
    assert answer.status_code == 202, answer.data
    request = answer.data["purchase_request"]
    assert request["status"] == "pending" and request["total"] == big["total"] and request["spending_limit"] == 10000
    assert request["approvers"] == ["ada@acme.example"] and request["lines"][0]["quantity"] == 2
    # Nothing was reserved or placed; a repeat answers the same request; the cart stays open.
    assert shop.get("/products").data["data"][0]["variants"][0]["available"] == 49
    again = shop.post(f"/carts/{big['id']}/checkout", {}, headers=bob)
    assert again.status_code == 202 and again.data["purchase_request"]["id"] == request["id"]
    assert shop.get(f"/carts/{big['id']}").data["status"] == "open"
    # Without the token the cart is still the buyer's: the limit still applies.
    assert shop.post(f"/carts/{big['id']}/checkout", {}).status_code == 202


def test_an_approver_approves_then_the_cart_is_checked_out_and_both_sides_are_emailed(shop, pool, aws):
    stream = Stream()
    _, bob, ada = setup(shop, pool)
    cart = account_cart(shop, bob, {"DESK-OAK": 2})
    request = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=bob).data["purchase_request"]
    listed = shop.get("/company/purchase-requests", headers=ada)
    assert [r["id"] for r in listed.data["data"]] == [request["id"]]
    # A buyer cannot decide.
    assert shop.post(f"/company/purchase-requests/{request['id']}/approve", {}, headers=bob).status_code == 403
    approved = shop.post(f"/company/purchase-requests/{request['id']}/approve", {"message": "OK, go."}, headers=ada)
    assert approved.status_code == 200, approved.data
    assert approved.data["status"] == "approved" and approved.data["decided_by"] == "ada@acme.example"
    order_id = approved.data["order_id"]
    assert order_id and shop.get(f"/carts/{cart['id']}").data["order_id"] == order_id
    assert shop.get("/products").data["data"][0]["variants"][0]["available"] == 48  # reserved at approval
    assert [o["id"] for o in shop.get("/company/orders", headers=ada).data["data"]] == [order_id]
    # A repeat answers the same; a rejection now is a 409.
    assert shop.post(f"/company/purchase-requests/{request['id']}/approve", {}, headers=ada).data == approved.data
    assert shop.post(f"/company/purchase-requests/{request['id']}/reject", {}, headers=ada).status_code == 409

    relay(shop, stream)
    sent = [m for m in queue_messages(aws["EmailQueueUrl"]) if m["type"].startswith("PurchaseRequest")]
    assert sorted(m["type"] for m in sent) == ["PurchaseRequestApproved", "PurchaseRequested"]
    to_approver = emails.render(next(m for m in sent if m["type"] == "PurchaseRequested"))
    assert to_approver.to == "ada@acme.example" and "bob@acme.example" in to_approver.text
    to_buyer = emails.render(next(m for m in sent if m["type"] == "PurchaseRequestApproved"))
    assert to_buyer.to == "bob@acme.example" and order_id in to_buyer.text and "OK, go." in to_buyer.text


def test_a_rejection_carries_its_message_to_the_buyer_and_places_nothing(shop, pool, aws):
    stream = Stream()
    _, bob, ada = setup(shop, pool)
    cart = account_cart(shop, bob, {"DESK-OAK": 2})
    request = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=bob).data["purchase_request"]
    rejected = shop.post(f"/company/purchase-requests/{request['id']}/reject", {"message": "Too dear."}, headers=ada)
    assert rejected.status_code == 200 and rejected.data["status"] == "rejected"
    assert shop.post(f"/company/purchase-requests/{request['id']}/approve", {}, headers=ada).status_code == 409
    assert shop.get("/company/orders", headers=ada).data["data"] == []
    relay(shop, stream)
    sent = [m for m in queue_messages(aws["EmailQueueUrl"]) if m["type"] == "PurchaseRequestRejected"]
    email = emails.render(sent[0])
    assert len(sent) == 1 and email.to == "bob@acme.example" and "Too dear." in email.text


def test_an_approval_when_the_stock_is_gone_is_a_409_and_the_request_stays_pending(shop, pool):
    _, bob, ada = setup(shop, pool, on_hand=2)
    cart = account_cart(shop, bob, {"DESK-OAK": 2})
    request = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=bob).data["purchase_request"]
    shop.put("/admin/inventory/DESK-OAK", {"on_hand": 1}, headers=ADMIN)
    refused = shop.post(f"/company/purchase-requests/{request['id']}/approve", {}, headers=ada)
    assert refused.status_code == 409 and refused.data["error"]["code"] == "out_of_stock"
    assert shop.get("/company/purchase-requests", headers=ada).data["data"][0]["status"] == "pending"


def test_a_cart_changed_after_the_request_cannot_be_approved(shop, pool):
    _, bob, ada = setup(shop, pool)
    cart = account_cart(shop, bob, {"DESK-OAK": 2})
    request = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=bob).data["purchase_request"]
    shop.patch(f"/carts/{cart['id']}/lines/DESK-OAK", {"quantity": 3})
    changed = shop.post(f"/company/purchase-requests/{request['id']}/approve", {}, headers=ada)
    assert changed.status_code == 409 and changed.data["error"]["code"] == "cart_changed"


def test_nobody_outside_the_company_sees_or_decides_its_requests(shop, pool):
    _, bob, _ = setup(shop, pool)
    cart = account_cart(shop, bob, {"DESK-OAK": 2})
    request = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=bob).data["purchase_request"]
    other = make_company(shop, name="Other SARL", vat_id="FR12345678901")
    eve = add_buyer(shop, pool, other["id"], "eve@other.example", role="approver")
    outsider = bearer(pool.sign_up("mallory@example.com")["id"])
    assert shop.get("/company/purchase-requests", headers=eve).data["data"] == []
    for headers in (eve, outsider):
        for action in ("approve", "reject"):
            answer = shop.post(f"/company/purchase-requests/{request['id']}/{action}", {}, headers=headers)
            assert answer.status_code == 404, (action, answer.data)
    assert shop.get("/company/purchase-requests", headers=outsider).status_code == 404
    assert shop.get("/company/purchase-requests").status_code == 401


def test_two_approvers_approving_at_once_place_one_order(moto_server, localstripe):
    """Against the serialised moto server: eight approvals from two approvers released together."""
    from chalice.test import Client

    from app import app
    from chalicelib.errors import CartChanged
    from chalicelib.models.customers import customer_id_for
    from chalicelib.services import checkout, customers, purchase_requests
    from tests.conftest import Api
    from tests.orders_support import use_localstripe
    from tests.reliability.support import assert_stock_adds_up
    from tests.reliability.test_races import race

    use_localstripe(localstripe)
    with Client(app, stage_name="test") as raw:
        api = Api(raw)
        make_product(api, sku_prefix="DESK", sizes=("OAK",), price=6000, on_hand=10)
        company = make_company(api)
        for email, role in (("bob@acme.example", "buyer"), ("ada@acme.example", "approver"),
                            ("cy@acme.example", "approver")):
            body = {"email": email, "role": role} | ({"spending_limit": LIMIT} if role == "buyer" else {})
            assert api.post(f"/admin/companies/{company['id']}/buyers", body, headers=ADMIN).status_code == 201
        bob = customer_id_for("bob@acme.example")
        cart = api.post("/carts", {}).data
        customers.attach_cart(bob, "bob@acme.example", cart["id"])
        api.post(f"/carts/{cart['id']}/lines", {"sku": "DESK-OAK", "quantity": 3})
        api.patch(f"/carts/{cart['id']}", {"shipping_address": {"name": "Bob", "line1": "1 Main St", "city": "Berlin",
                                                                "postal_code": "10115", "country": "DE"},
                                           "shipping_method": "standard"})
        try:
            checkout.complete(cart["id"], customer_id=bob)
            raise AssertionError("expected a purchase request")
        except checkout.ApprovalNeeded as needed:
            request_id = needed.request.id
    approvers = [customer_id_for("ada@acme.example"), customer_id_for("cy@acme.example")] * 4
    outcomes = race(lambda approver: purchase_requests.approve(approver, request_id, None), approvers)
    won = [o for _, o in outcomes if not isinstance(o, CommerceError)]
    lost = [o for _, o in outcomes if isinstance(o, CommerceError)]
    assert all(isinstance(e, CartChanged) for e in lost), lost
    assert won and len({o.order_id for o in won}) == 1 and None not in {o.order_id for o in won}
    assert assert_stock_adds_up()["DESK-OAK"] == {"on_hand": 10, "reserved": 3, "available": 7}


def test_an_approver_above_their_own_limit_needs_another_approver(shop, pool):
    make_product(shop, sku_prefix="DESK", sizes=("OAK",), price=6000, on_hand=50)
    company = make_company(shop)
    ada = add_buyer(shop, pool, company["id"], "ada@acme.example", role="approver", spending_limit=LIMIT)
    cy = add_buyer(shop, pool, company["id"], "cy@acme.example", role="approver")
    cart = account_cart(shop, ada, {"DESK-OAK": 2})
    request = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=ada).data["purchase_request"]
    assert request["approvers"] == ["cy@acme.example"]  # not the one asking
    own = shop.post(f"/company/purchase-requests/{request['id']}/approve", {}, headers=ada)
    assert own.status_code == 403, own.data
    assert shop.post(f"/company/purchase-requests/{request['id']}/approve", {}, headers=cy).status_code == 200
