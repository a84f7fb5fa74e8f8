"""Erasing a customer takes them out of the shop's view: not only their figures (the STATS item and with
it their GSI1/GSI2 entries) but the CRM's items outside their partition (segment member, last-order-day
bucket) and their segment's count."""

import pytest

from chalicelib import clock
from chalicelib.models.customers import customer_id_for
from chalicelib.repository import dynamo
from chalicelib.services import crm
from tests.conftest import ADMIN, make_product
from tests.growth_support import relay
from tests.orders_support import Stream
from tests.test_crm import ADA, GRACE, buy, customers, segments

SEGMENT_PARTITIONS = [f"SEGMENT#{s}" for s in ("new", "repeat", "vip", "at_risk", "lapsed")]


@pytest.fixture
def products(shop):
    make_product(shop, sku_prefix="TEE", price=2500, on_hand=100)


def index_items(customer_id: str) -> list[dict]:
    """The CRM's items outside the customer's partition that name them (segment members, today's bucket)."""
    found = []
    for partition in [*SEGMENT_PARTITIONS, f"LAST_ORDER_DAY#{clock.now().date().isoformat()}"]:
        found += dynamo.query_page(None, "PK", partition, 100, None)[0]
    return [item for item in found if item.get("customer_id") == customer_id]


def assert_forgotten(api, customer_id: str, email: str) -> None:
    assert index_items(customer_id) == []
    assert segments(api) == {"new": 0, "repeat": 1, "vip": 0, "at_risk": 0, "lapsed": 0}
    assert [c["email"] for c in customers(api)["data"]] == [GRACE]
    assert [c["email"] for c in customers(api, "?sort=last_order")["data"]] == [GRACE]
    assert customers(api, f"?email={email}")["data"] == [] and customers(api, "?segment=new")["data"] == []
    assert api.get(f"/admin/customers/{customer_id}", headers=ADMIN).status_code == 404


def test_forgetting_a_customer_removes_their_index_items_and_segment_count(shop, products):
    buy(shop, {"TEE-M": 1})
    buy(shop, {"TEE-M": 1}, email=GRACE)
    buy(shop, {"TEE-S": 1}, email=GRACE)
    relay(shop, Stream())
    ada = customer_id_for(ADA)
    assert segments(shop)["new"] == 1 and segments(shop)["repeat"] == 1 and len(index_items(ada)) == 2

    assert crm.forget(ada) is True
    assert crm.forget(ada) is False  # safe to repeat: nothing counted twice
    assert_forgotten(shop, ada, ADA)


def test_deleting_an_account_erases_the_customer_from_the_shops_view(shop, products, pool):
    from tests.customers_support import bearer

    ada, stream = bearer(pool.sign_up(ADA)["id"]), Stream()
    buy(shop, {"TEE-M": 1})
    buy(shop, {"TEE-M": 1}, email=GRACE)
    buy(shop, {"TEE-S": 1}, email=GRACE)
    relay(shop, stream)
    assert len(index_items(customer_id_for(ADA))) == 2

    assert shop.delete("/me", headers=ada).status_code == 204
    relay(shop, stream)  # the anonymised orders count for nobody
    assert_forgotten(shop, customer_id_for(ADA), ADA)
    assert dynamo.query_page(None, "PK", f"CUSTOMER#{customer_id_for(ADA)}", 100, None)[0] == []
