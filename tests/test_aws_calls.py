"""What each storefront request costs in AWS calls, guarded against regressions; and the counter
(bench/aws_calls.py) that measures it."""

import boto3

from bench.aws_calls import count_calls, watch
from chalicelib.models.customers import customer_id_for
from tests.conftest import ADDRESS, ADMIN, make_cart, make_product
from tests.growth_support import relay
from tests.orders_support import Stream
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


def test_creating_a_cart_costs_one_put_item(client):
    with count_calls() as calls:
        client.post("/carts", {})

    assert calls.by_operation() == {("dynamodb", "PutItem"): 1}


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
        "/admin/customers": {("dynamodb", "Query"): 1},
        "/admin/customers?sort=last_order": {("dynamodb", "Query"): 1},
        f"/admin/customers?email={ADA}": {("dynamodb", "GetItem"): 1},
        "/admin/customers?segment=new": {("dynamodb", "Query"): 1, ("dynamodb", "BatchGetItem"): 1},
        f"/admin/customers/{cid}": {("dynamodb", "GetItem"): 1, ("dynamodb", "Query"): 1,
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
    assert counted.by_operation() == {("dynamodb", "UpdateItem"): 1, ("dynamodb", "GetItem"): 1,
                                      ("dynamodb", "Query"): 1, ("dynamodb", "BatchGetItem"): 1}


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
    assert calls.by_operation() == {("dynamodb", "GetItem"): 2, ("dynamodb", "TransactWriteItems"): 1}
    with count_calls() as calls:
        inbox(api)
    assert calls.by_operation() == {("dynamodb", "Query"): 1}
    with count_calls() as calls:
        api.post(f"/admin/orders/{order_id}/messages/close", {}, headers=ADMIN)
    assert calls.by_operation() == {("dynamodb", "GetItem"): 2, ("dynamodb", "TransactWriteItems"): 1}
