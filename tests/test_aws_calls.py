"""What each storefront request costs in AWS calls, guarded against regressions; and the counter
(bench/aws_calls.py) that measures it."""

import boto3
import pytest

from bench.aws_calls import count_calls, watch
from chalicelib.models.customers import customer_id_for
from chalicelib.payments import stripe_http
from tests.conftest import ADDRESS, ADMIN, make_cart, make_product, ready_cart
from tests.growth_support import relay
from tests.orders_support import Stream, checked_out, intent, post_event, stripe_event
from tests.test_crm import ADA, buy
from tests.test_messages import inbox, order, read, reply, write


def cart_with_two_lines(client) -> str:
    make_product(client, sku_prefix="TEE")
    cart_id = make_cart(client)["id"]
    client.post(f"/carts/{cart_id}/lines", {"sku": "TEE-S", "quantity": 1})
    client.post(f"/carts/{cart_id}/lines", {"sku": "TEE-M", "quantity": 1})
    return cart_id


READ = {("dynamodb", "GetItem"): 1, ("dynamodb", "BatchGetItem"): 1}
CHANGE = READ | {("dynamodb", "PutItem"): 1}


def test_reading_a_cart_with_two_lines_costs_one_get_item_and_one_batch_get_item(client):
    cart_id = cart_with_two_lines(client)

    with count_calls() as calls:
        answer = client.get(f"/carts/{cart_id}")

    assert answer.status_code == 200
    assert calls.by_operation() == READ


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "create-cart-key-0123456789"}], ids=["no key", "key"])
def test_creating_a_cart_costs_one_put_item_and_so_does_its_replay(client, headers):
    with count_calls() as calls:
        first = client.post("/carts", {}, headers=headers)
    with count_calls() as again:
        client.post("/carts", {}, headers=headers)

    assert first.status_code == 201
    assert calls.by_operation() == again.by_operation() == {("dynamodb", "PutItem"): 1}


def test_every_cart_change_costs_one_read_one_catalogue_read_and_one_write(client):
    cart_id = cart_with_two_lines(client)
    changes = [
        ("POST", f"/carts/{cart_id}/lines", {"sku": "TEE-M", "quantity": 1}),
        ("PATCH", f"/carts/{cart_id}/lines/TEE-M", {"quantity": 3}),
        ("DELETE", f"/carts/{cart_id}/lines/TEE-S", None),
        ("PATCH", f"/carts/{cart_id}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                        "shipping_method": "standard"}),
    ]

    for method, path, body in changes:
        with count_calls() as calls:
            answer = client.request(method, path, body)
        assert answer.status_code == 200, (method, path, answer.data)
        assert calls.by_operation() == CHANGE, (method, path)


def test_reading_products_costs_one_lookup_and_one_batch_get_item(client):
    product = make_product(client, sku_prefix="TEE")
    make_product(client, sku_prefix="MUG", title="Mug")

    with count_calls() as one:
        client.get(f"/products/{product['id']}")
    with count_calls() as page:
        client.get("/products")

    assert one.by_operation() == READ
    assert page.by_operation() == {("dynamodb", "Query"): 1, ("dynamodb", "BatchGetItem"): 1}


def test_the_counter_counts_clients_of_any_service_created_anywhere(aws):
    with count_calls() as calls:
        boto3.client("sqs").list_queues()
        boto3.session.Session().client("dynamodb").describe_table(TableName=aws["TableName"])

    assert calls.by_operation() == {("sqs", "ListQueues"): 1, ("dynamodb", "DescribeTable"): 1}
    assert calls.total() == 2


def test_the_counter_counts_only_inside_its_block_and_blocks_nest(aws):
    dynamodb = boto3.client("dynamodb")
    dynamodb.list_tables()

    with count_calls() as outer:
        dynamodb.list_tables()
        with count_calls() as inner:
            dynamodb.list_tables()
    dynamodb.list_tables()

    assert outer.by_operation() == {("dynamodb", "ListTables"): 2}
    assert inner.by_operation() == {("dynamodb", "ListTables"): 1}


def test_watching_a_client_that_is_already_counted_does_not_count_twice(aws):
    dynamodb = boto3.client("dynamodb")
    watch(dynamodb)

    with count_calls() as calls:
        dynamodb.list_tables()

    assert calls.total() == 1


# Customers (CRM) and customer service (issue 14) ------------------------------------------------------


def crm_products(api) -> None:
    make_product(api, sku_prefix="TEE", price=2500, on_hand=100)


def test_aws_calls_of_the_customer_routes(shop):
    crm_products(shop)
    stream = Stream()
    buy(shop, {"TEE-M": 1})
    relay(shop, stream)
    cid = customer_id_for(ADA)
    expected = {
        # + one BatchGetItem (lists) or Query (one customer) of the store credit balances
        "/admin/customers": {("dynamodb", "Query"): 1, ("dynamodb", "BatchGetItem"): 1},
        "/admin/customers?sort=last_order": {("dynamodb", "Query"): 1, ("dynamodb", "BatchGetItem"): 1},
        f"/admin/customers?email={ADA}": {("dynamodb", "GetItem"): 1, ("dynamodb", "Query"): 1},
        "/admin/customers?segment=new": {("dynamodb", "Query"): 1, ("dynamodb", "BatchGetItem"): 2},
        f"/admin/customers/{cid}": {("dynamodb", "GetItem"): 1, ("dynamodb", "Query"): 2,
                                     ("dynamodb", "BatchGetItem"): 1},
        "/admin/segments": {("dynamodb", "Query"): 1},
        "/admin/segments/new/customers.csv": {("dynamodb", "Query"): 1, ("dynamodb", "BatchGetItem"): 1},
    }
    for path, calls in expected.items():
        with count_calls() as counted:
            assert shop.raw.http.get(path, headers=ADMIN).status_code == 200
        assert counted.by_operation() == calls, path
    with count_calls() as counted:
        assert shop.patch(f"/admin/customers/{cid}", {"note": "hi"}, headers=ADMIN).status_code == 200
    # An admin write carries its audit record: the write is a transaction with it, after one read of the
    # items it changes (chalicelib/audit.py), the BatchGetItem beyond the detail's own.
    assert counted.by_operation() == {("dynamodb", "TransactWriteItems"): 1, ("dynamodb", "GetItem"): 1,
                                      ("dynamodb", "Query"): 2, ("dynamodb", "BatchGetItem"): 2}


def test_aws_calls_of_the_message_routes(shop):
    api = shop
    make_product(api, on_hand=50)
    order_id, token = order(api)
    with count_calls() as calls:
        write(api, order_id, token)
    assert calls.by_operation() == {("dynamodb", "GetItem"): 2, ("dynamodb", "TransactWriteItems"): 1}
    with count_calls() as calls:
        read(api, order_id, token)
    assert calls.by_operation() == {("dynamodb", "GetItem"): 1, ("dynamodb", "Query"): 1}
    with count_calls() as calls:
        reply(api, order_id, "On its way.")
    audited = {("dynamodb", "BatchGetItem"): 1}  # an admin write reads what it changes for its audit record
    assert calls.by_operation() == {("dynamodb", "GetItem"): 2, ("dynamodb", "TransactWriteItems"): 1} | audited
    with count_calls() as calls:
        inbox(api)
    assert calls.by_operation() == {("dynamodb", "Query"): 1}
    with count_calls() as calls:
        api.post(f"/admin/orders/{order_id}/messages/close", {}, headers=ADMIN)
    assert calls.by_operation() == {("dynamodb", "GetItem"): 2, ("dynamodb", "TransactWriteItems"): 1} | audited
@pytest.fixture
def provider_calls(monkeypatch) -> list[str]:
    """The HTTP requests the app sends to the payment provider (each send, retries included)."""
    sent: list[str] = []
    real = stripe_http.Client._send

    def send(self, method, target, body, headers):
        sent.append(f"{method} {target.split('?')[0]}")
        return real(self, method, target, body, headers)

    monkeypatch.setattr(stripe_http.Client, "_send", send)
    return sent


CHECKOUT = {("dynamodb", "GetItem"): 1, ("dynamodb", "BatchGetItem"): 1, ("dynamodb", "TransactWriteItems"): 1}


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "checkout-key-0123456789"}], ids=["no key", "key"])
def test_checkout_writes_the_order_once_with_its_payment_three_dynamodb_calls_and_one_provider_call(
        shop, provider_calls, headers):
    make_product(shop, sku_prefix="TEE")
    cart = ready_cart(shop, {"TEE-M": 1, "TEE-S": 1})
    provider_calls.clear()

    with count_calls() as calls:
        answer = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=headers)
    with count_calls() as again:
        repeat = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=headers)

    assert answer.status_code == 201 and answer.data["payment"]["client_secret"]
    assert calls.by_operation() == CHECKOUT
    assert provider_calls == ["POST /v1/payment_intents"]
    assert repeat.data["order"] == answer.data["order"]
    assert again.by_operation() == {("dynamodb", "GetItem"): 2}  # the cart, then its order


def test_checkout_with_one_gift_card_costs_one_more_batch_get_item_and_no_provider_call_when_covered(
        shop, provider_calls):
    make_product(shop, sku_prefix="TEE")
    partly = shop.post("/admin/gift-cards", {"currency": "EUR", "amount": 1000}, headers=ADMIN).data
    whole = shop.post("/admin/gift-cards", {"currency": "EUR", "amount": 100000}, headers=ADMIN).data
    for card, provider in ((partly, ["POST /v1/payment_intents"]), (whole, [])):
        cart = ready_cart(shop, {"TEE-M": 1, "TEE-S": 1})
        with count_calls() as applied:
            assert shop.post(f"/carts/{cart['id']}/gift-cards", {"code": card["code"]}).status_code == 200
        # the lookup counter, the card, the cart (get, put) and, to answer, the cart read with the card
        assert applied.by_operation() == {("dynamodb", "UpdateItem"): 1, ("dynamodb", "GetItem"): 3,
                                          ("dynamodb", "PutItem"): 1, ("dynamodb", "BatchGetItem"): 2}
        with count_calls() as read:
            assert shop.get(f"/carts/{cart['id']}").status_code == 200
        assert read.by_operation() == {("dynamodb", "GetItem"): 1, ("dynamodb", "BatchGetItem"): 2}
        provider_calls.clear()
        with count_calls() as calls:
            answer = shop.post(f"/carts/{cart['id']}/checkout", {})
        assert answer.status_code == 201, answer.data
        # the cart, its SKUs and discount, the card; one transaction with the card's debit and ledger entry
        assert calls.by_operation() == CHECKOUT | {("dynamodb", "BatchGetItem"): 2}
        assert provider_calls == provider


def test_a_gift_card_line_adds_no_call_to_the_checkout(shop, provider_calls):
    """Its SKU is read with the others and has no piece in the transaction (tests/test_gift_card_lines.py
    checks the transaction's items)."""
    make_product(shop, sku_prefix="TEE")
    answer = shop.post("/admin/products", {"title": "Gift card", "variants": [
        {"sku": "GIFT-25", "price": 2500, "currency": "EUR", "gift_card": True}]}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    cart = ready_cart(shop, {"TEE-M": 1})
    assert shop.post(f"/carts/{cart['id']}/lines", {"sku": "GIFT-25", "quantity": 2, "gift_card": {
        "recipient_email": "grace@example.com"}}).status_code == 200
    provider_calls.clear()
    with count_calls() as calls:
        answer = shop.post(f"/carts/{cart['id']}/checkout", {})
    assert answer.status_code == 201, answer.data
    assert calls.by_operation() == CHECKOUT
    assert provider_calls == ["POST /v1/payment_intents"]


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "add-line-key-0123456789"}], ids=["no key", "key"])
def test_adding_a_line_costs_three_calls_with_or_without_a_key(client, headers):
    cart_id = cart_with_two_lines(client)

    with count_calls() as calls:
        answer = client.post(f"/carts/{cart_id}/lines", {"sku": "TEE-M", "quantity": 1}, headers=headers)

    assert answer.status_code == 200
    assert calls.by_operation() == CHANGE
    with count_calls() as replay:
        client.post(f"/carts/{cart_id}/lines", {"sku": "TEE-M", "quantity": 1}, headers=headers)
    assert replay.by_operation() == ({("dynamodb", "GetItem"): 1} if headers else CHANGE)


def test_a_webhook_costs_one_read_and_one_transaction(shop):
    make_product(shop, sku_prefix="TEE")
    order = checked_out(shop, {"TEE-M": 1})["order"]

    with count_calls() as calls:
        answer = post_event(shop, stripe_event("payment_intent.succeeded", intent(order)))

    assert answer.status_code == 200
    assert calls.by_operation() == {("dynamodb", "GetItem"): 1, ("dynamodb", "TransactWriteItems"): 1}


def test_what_each_customer_route_costs(client, pool):
    """Issue 14's figures: AWS calls per customer route, with the pool's key set cached (verifying an ID
    token costs no AWS call; an access token costs one GetUser per container and user every 5 minutes)."""
    from tests.customers_support import bearer

    make_product(client, sku_prefix="TEE")
    tokens = pool.sign_up("ada@example.com")
    me = bearer(tokens["id"])
    client.patch("/me", {"name": "Ada"}, headers=me)
    address = client.post("/me/addresses", ADDRESS, headers=me).data
    account_cart = make_cart(client)["id"]
    client.post(f"/carts/{account_cart}/lines", {"sku": "TEE-S", "quantity": 1})
    client.post("/me/carts", {"cart_id": account_cart}, headers=me)
    guest_cart = make_cart(client)["id"]
    client.post(f"/carts/{guest_cart}/lines", {"sku": "TEE-M", "quantity": 1})
    get, query, update = ("dynamodb", "GetItem"), ("dynamodb", "Query"), ("dynamodb", "UpdateItem")
    expected = [
        ("GET", "/me", None, me, {get: 1}),
        ("PATCH", "/me", {"phone": "+4930123"}, me, {update: 1}),
        ("PATCH", "/me", {"marketing_consent": True}, me, {get: 1, update: 1}),
        ("GET", "/me/addresses", None, me, {get: 1, query: 1}),
        ("POST", "/me/addresses", {**ADDRESS, "line1": "2 Side St"}, me, {query: 1, ("dynamodb", "PutItem"): 1}),
        ("PATCH", f"/me/addresses/{address['id']}", {"city": "Bonn"}, me,
         {get: 2, ("dynamodb", "PutItem"): 1}),
        ("GET", "/me/orders", None, me, {query: 1}),
        ("POST", "/me/carts", {"cart_id": guest_cart}, me,
         {get: 3, ("dynamodb", "BatchGetItem"): 1, ("dynamodb", "TransactWriteItems"): 1}),
        ("GET", "/me", None, bearer(tokens["access"]), {get: 1, ("cognito-idp", "GetUser"): 1}),
        ("GET", "/me", None, bearer(tokens["access"]), {get: 1}),  # the user's email is cached
    ]
    for method, path, body, headers, calls_expected in expected:
        with count_calls() as calls:
            answer = client.request(method, path, body, headers=headers)
        assert answer.status_code in (200, 201), (method, path, answer.data)
        assert calls.by_operation() == calls_expected, (method, path, calls.by_operation())


def test_what_a_company_buyers_cart_and_checkout_cost(shop, pool, provider_calls):
    """A buyer's account cart reads the membership in the cart's BatchGetItem, then the company and its price
    list in one more; checkout the same plus its transaction; `/company/orders` one GetItem (membership), one
    for the company and one Query (GSI4)."""
    from tests.b2b_support import account_cart, add_buyer, make_company

    make_product(shop, sku_prefix="BOLT", sizes=("M8", "M10"), price=1500, on_hand=500)
    company = make_company(shop)
    shop.post("/admin/price-lists", {"name": "Acme", "currency": "EUR", "companies": [company["id"]],
                                     "prices": [{"sku": "BOLT-M8", "tiers": [{"min_quantity": 1, "price": 1200}]}]},
              headers=ADMIN)
    ada = add_buyer(shop, pool, company["id"], "ada@acme.example")
    cart = account_cart(shop, ada, {"BOLT-M8": 10, "BOLT-M10": 1})
    batch = ("dynamodb", "BatchGetItem")
    with count_calls() as read:
        shop.get(f"/carts/{cart['id']}")
    assert read.by_operation() == {("dynamodb", "GetItem"): 1, batch: 2}
    with count_calls() as placed:
        answer = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=ada)
    assert answer.status_code == 201, answer.data
    assert placed.by_operation() == {("dynamodb", "GetItem"): 1, batch: 2, ("dynamodb", "TransactWriteItems"): 1}
    with count_calls() as listed:
        shop.get("/company/orders", headers=ada)
    assert listed.by_operation() == {("dynamodb", "GetItem"): 2, ("dynamodb", "Query"): 1}


def test_aws_calls_of_the_return_routes(shop):
    from tests.test_returns import admin, ask, line, shipped_order

    api = shop
    make_product(api, on_hand=50)
    result = shipped_order(api, {"TEE-M": 2})
    token = {"X-Order-Token": result["order_token"]}
    with count_calls() as first:
        ret = ask(api, result, [line()]).data
    with count_calls() as second:
        ask(api, result, [line()])
    with count_calls() as listed:
        api.get(f"/orders/{result['order']['id']}/returns", headers=token)
    with count_calls() as approved:
        admin(api, ret["id"], "approve")
    with count_calls() as received:
        admin(api, ret["id"], "receive", {"lines": [{"sku": "TEE-M", "quantity": 1, "restock": True}]})
    with count_calls() as queue:
        api.get("/admin/returns?status=received", headers=ADMIN)
    # The order twice (the caller's proof, then the use case's read); the order's first return also creates
    # its map of returned units.
    assert first.by_operation() == {("dynamodb", "GetItem"): 2, ("dynamodb", "UpdateItem"): 1,
                                    ("dynamodb", "TransactWriteItems"): 1}
    assert second.by_operation() == {("dynamodb", "GetItem"): 2, ("dynamodb", "TransactWriteItems"): 1}
    assert listed.by_operation() == queue.by_operation() | {("dynamodb", "GetItem"): 1}
    # An admin write reads the items it changes for its audit record (one BatchGetItem per transaction).
    assert approved.by_operation() == {("dynamodb", "GetItem"): 1, ("dynamodb", "UpdateItem"): 1,
                                       ("dynamodb", "TransactWriteItems"): 1,
                                       ("dynamodb", "BatchGetItem"): 1}  # the number counter: not audited
    assert received.by_operation() == {("dynamodb", "GetItem"): 1, ("dynamodb", "BatchGetItem"): 2,
                                       ("dynamodb", "TransactWriteItems"): 1}
    assert queue.by_operation() == {("dynamodb", "Query"): 1}


def test_a_return_refund_costs_a_claim_the_order_refund_and_the_record(shop, localstripe, provider_calls):
    from tests.test_returns import admin, ask, line, shipped_order

    api = shop
    make_product(api, on_hand=50)
    result = shipped_order(api, {"TEE-M": 1}, localstripe)
    ret = ask(api, result, [line()]).data
    admin(api, ret["id"], "approve")
    provider_calls.clear()
    with count_calls() as calls:
        answer = admin(api, ret["id"], "refund", {"method": "original"})
    assert answer.status_code == 200, answer.data
    # claim: the return and the order read, the claim written; the order's refund as `POST .../refunds` does it
    # (read, pending written, the provider, read, settled); the return read and recorded. Each transaction
    # carries its audit record, after one BatchGetItem of what it changes.
    assert calls.by_operation() == {("dynamodb", "GetItem"): 5, ("dynamodb", "TransactWriteItems"): 4,
                                    ("dynamodb", "BatchGetItem"): 4}
    assert provider_calls == ["POST /v1/refunds"]


@pytest.mark.parametrize("gift_cards", [0, 2], ids=["goods", "goods and two issued gift cards"])
def test_cancelling_a_paid_order_costs_one_transaction_then_the_refund(shop, localstripe, provider_calls, gift_cards):
    from chalicelib.repository import orders as order_items
    from chalicelib.services import gift_cards as cards
    from tests.test_gift_card_cancel import paid
    from tests.test_gift_card_lines import cart_with

    body = {"title": "Gift card", "variants": [{"sku": "GIFT-25", "title": "25 EUR", "price": 2500, "currency": "EUR",
                                               "gift_card": True}]}
    assert shop.post("/admin/products", body, headers=ADMIN).status_code == 201
    make_product(shop, sku_prefix="TEE", on_hand=5)
    result = paid(shop, cart_with(shop, gift_cards, {"TEE-S": 1}))
    order_id = result["order"]["id"]
    assert cards.issue_for_order(order_items.get(order_id)) == gift_cards
    provider_calls.clear()
    with count_calls() as calls:
        answer = shop.post(f"/admin/orders/{order_id}/cancel", {}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    print(calls.describe())
    # the order read, read again to decide (and its cards: one BatchGetItem), cancelled, refunded pending and the
    # cards voided in one transaction; the provider; read, settled. Each transaction carries its audit record,
    # after one BatchGetItem of what it changes.
    assert calls.by_operation() == {("dynamodb", "GetItem"): 3, ("dynamodb", "TransactWriteItems"): 2,
                                    ("dynamodb", "BatchGetItem"): 2 + bool(gift_cards)}
    assert provider_calls == ["POST /v1/refunds"]


def test_a_staff_token_costs_one_get_item_more_than_an_api_key_revoked_or_not(client, pool):
    """chalicelib/staff.py reads the user's STAFF#<sub> item (is the token revoked?) on each admin request made
    with a staff token: one consistent GetItem; an API key and the customer routes (above) read nothing."""
    from tests.staff_support import as_staff, staff_token

    support = as_staff(staff_token(pool, "support", "sam@staff.example.com"))
    listing = {("dynamodb", "Query"): 1}
    with count_calls() as keyed:
        assert client.get("/admin/orders", headers=ADMIN).status_code == 200
    with count_calls() as signed_in:
        assert client.get("/admin/orders", headers=support).status_code == 200
    assert keyed.by_operation() == listing
    assert signed_in.by_operation() == listing | {("dynamodb", "GetItem"): 1}

    username = boto3.client("cognito-idp").admin_get_user(UserPoolId=pool.pool_id,
                                                          Username="sam@staff.example.com")["Username"]
    assert client.post(f"/admin/staff/{username}/disable", {}, headers=ADMIN).status_code == 200
    with count_calls() as revoked:
        answer = client.get("/admin/orders", headers=support)
    assert answer.status_code == 401 and answer.data["error"]["code"] == "token_revoked"
    assert revoked.by_operation() == {("dynamodb", "GetItem"): 1}
