"""A hot SKU's stock split over shard items (models/stock.py): the pure rules, then the admin
setting, checkout, release and the change of the shard count against moto and localstripe. The race
of many buyers over a moto server is in tests/reliability/test_races.py."""

import random

import pytest

from chalicelib.models import ShardLevel
from chalicelib.models.stock import BelowReserved, plan_reservation, rebalance, spread
from tests.conftest import ADMIN, make_cart, make_product, product_body, ready_cart
from tests.orders_support import checked_out
from tests.reliability.support import assert_stock_adds_up, table_items


def levels(*available: int, reserved=()) -> list[ShardLevel]:
    reserved = list(reserved) + [0] * (len(available) - len(reserved))
    return [ShardLevel(shard=i, on_hand=a + r, reserved=r, available=a)
            for i, (a, r) in enumerate(zip(available, reserved, strict=True))]


# --- pure rules ----------------------------------------------------------------------------------


def test_a_reservation_goes_to_one_shard_with_enough_chosen_at_random():
    rng = random.Random(1)
    chosen = {plan_reservation(levels(5, 1, 5, 3), 2, rng)[0] for _ in range(200)}
    assert chosen == {(0, 2), (2, 2), (3, 2)}  # never the shard with 1


def test_when_no_shard_has_enough_the_fullest_shards_together_serve_it_and_none_when_the_sum_is_short():
    assert plan_reservation(levels(2, 3, 1, 0), 5) == [(1, 3), (0, 2)]
    assert plan_reservation(levels(2, 3, 1, 0), 6) == [(1, 3), (0, 2), (2, 1)]
    assert plan_reservation(levels(2, 3, 1, 0), 7) is None


def test_giving_back_follows_the_shards_reserved_from():
    assert spread([(3, 2), (1, 1)], 3) == [(3, 2), (1, 1)]
    assert spread([(3, 2), (1, 1)], 1) == [(3, 1)]


@pytest.mark.parametrize("seed", range(40))
def test_a_rebalance_neither_makes_nor_loses_a_unit(seed):
    rng = random.Random(seed)
    size = rng.randint(1, 6)
    before = levels(*[rng.randint(0, 9) for _ in range(size)], reserved=[rng.randint(0, 4) for _ in range(size)])
    count = rng.randint(1, 8)
    on_hand = rng.choice([None, sum(level.on_hand for level in before) + rng.randint(-3, 5)])
    try:
        changes = rebalance(before, count, on_hand)
    except BelowReserved:
        assert on_hand < sum(level.reserved for level in before)
        return
    after = [c.after for c in changes if c.keep]
    assert [level.shard for level in after] == list(range(count))
    assert sum(level.reserved for level in after) == sum(level.reserved for level in before)
    expected = sum(level.on_hand for level in before) if on_hand is None else on_hand
    assert sum(level.on_hand for level in after) == expected
    assert all(level.available >= 0 and level.on_hand == level.reserved + level.available for level in after)
    assert max(level.available for level in after) - min(level.available for level in after) <= 1


def test_a_shard_that_goes_hands_its_reservations_to_shard_zero():
    changes = rebalance(levels(4, 4, 4, 4, reserved=(1, 2, 0, 3)), 2)
    assert [(c.shard, c.keep, c.after.reserved, c.after.available) for c in changes] == [
        (0, True, 4, 8), (1, True, 2, 8), (2, False, 0, 0), (3, False, 0, 0)]


# --- against moto --------------------------------------------------------------------------------


def shards_of(sku: str) -> list[dict]:
    return sorted((i for i in table_items() if i["PK"] == f"SKU#{sku}"), key=lambda i: i["SK"])


def set_inventory(api, sku: str, **body) -> dict:
    answer = api.put(f"/admin/inventory/{sku}", body, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    return answer.data


def test_the_admin_splits_a_skus_stock_over_shards_and_reads_sum_them(shop):
    product = make_product(shop, on_hand=10)
    level = set_inventory(shop, "TEE-M", on_hand=10, shards=4)
    assert level == {"sku": "TEE-M", "on_hand": 10, "reserved": 0, "available": 10, "low_stock_threshold": None,
                     "shards": 4}
    items = shards_of("TEE-M")
    assert [i["SK"] for i in items] == ["SHARD#01", "SHARD#02", "SHARD#03", "SKU"]
    assert sorted(i["available"] for i in items) == [2, 2, 3, 3]
    assert all(i["price"] == 1999 and i["active"] for i in items)
    variants = {v["sku"]: v["available"] for v in shop.get(f"/products/{product['id']}").data["variants"]}
    assert variants == {"TEE-S": 10, "TEE-M": 10}
    # A restock spreads over the shards; the shard count is kept when not given.
    assert set_inventory(shop, "TEE-M", on_hand=21)["shards"] == 4
    assert sorted(i["available"] for i in shards_of("TEE-M")) == [5, 5, 5, 6]


def test_a_sharded_checkout_reserves_on_one_shard_and_a_cancel_gives_it_back(shop):
    make_product(shop, on_hand=20)
    set_inventory(shop, "TEE-M", on_hand=20, shards=4)
    result = checked_out(shop, {"TEE-M": 3})
    touched = [i for i in shards_of("TEE-M") if i["reserved"]]
    assert len(touched) == 1 and touched[0]["reserved"] == 3
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 20, "reserved": 3, "available": 17}
    answer = shop.post(f"/admin/orders/{result['order']['id']}/cancel", {}, headers=ADMIN)
    assert answer.status_code == 200
    assert [i["reserved"] for i in shards_of("TEE-M")] == [0, 0, 0, 0]
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 20, "reserved": 0, "available": 20}


def test_a_line_no_single_shard_can_serve_takes_from_several_and_only_the_sum_refuses(shop):
    make_product(shop, on_hand=8)
    set_inventory(shop, "TEE-M", on_hand=8, shards=4)  # 2 on each shard
    checked_out(shop, {"TEE-M": 5})
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 8, "reserved": 5, "available": 3}
    cart = make_cart(shop)
    refused = shop.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 4})
    assert (refused.status_code, refused.data["error"]["code"], refused.data["error"]["available"]) == (
        409, "out_of_stock", 3)
    cart = ready_cart(shop, {"TEE-M": 3})  # 3 left, at most 2 on any shard
    assert shop.post(f"/carts/{cart['id']}/checkout").status_code == 201
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 8, "reserved": 8, "available": 0}
    assert all(i["available"] == 0 for i in shards_of("TEE-M"))


def test_changing_the_shard_count_with_orders_outstanding_conserves_every_unit(shop):
    make_product(shop, on_hand=30)
    set_inventory(shop, "TEE-M", on_hand=30, shards=8)
    orders = [checked_out(shop, {"TEE-M": q})["order"]["id"] for q in (1, 2, 3, 4)]
    for count in (3, 1, 5, 2):
        level = set_inventory(shop, "TEE-M", on_hand=30, shards=count)
        assert (level["on_hand"], level["reserved"], level["available"], level["shards"]) == (30, 10, 20, count)
        assert len(shards_of("TEE-M")) == count
        assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 30, "reserved": 10, "available": 20}
    # Orders whose shard is gone give back all the same.
    for order_id in orders:
        assert shop.post(f"/admin/orders/{order_id}/cancel", {}, headers=ADMIN).status_code == 200
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 30, "reserved": 0, "available": 30}
    level = set_inventory(shop, "TEE-M", on_hand=30, shards=1)
    assert (level["shards"], level["available"], len(shards_of("TEE-M"))) == (1, 30, 1)


def test_on_hand_below_what_is_reserved_is_refused_and_changes_nothing(shop):
    make_product(shop, on_hand=10)
    set_inventory(shop, "TEE-M", on_hand=10, shards=4)
    checked_out(shop, {"TEE-M": 6})
    before = shards_of("TEE-M")
    answer = shop.put("/admin/inventory/TEE-M", {"on_hand": 5, "shards": 2}, headers=ADMIN)
    assert answer.status_code == 409 and answer.data["error"]["param"] == "on_hand"
    assert shards_of("TEE-M") == before
    for bad in (0, 17, "4"):
        answer = shop.put("/admin/inventory/TEE-M", {"on_hand": 10, "shards": bad}, headers=ADMIN)
        assert answer.status_code == 400 and answer.data["error"]["param"] == "shards"


def test_replacing_a_product_spreads_its_on_hand_and_copies_the_price_to_the_shards(shop):
    product = make_product(shop, on_hand=10)
    set_inventory(shop, "TEE-M", on_hand=10, shards=3)
    checked_out(shop, {"TEE-M": 2})
    body = product_body(on_hand=16, price=2500)
    answer = shop.put(f"/admin/products/{product['id']}", body, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    assert {v["sku"]: v["available"] for v in answer.data["variants"]} == {"TEE-S": 16, "TEE-M": 14}
    assert [i["price"] for i in shards_of("TEE-M")] == [2500] * 3
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 16, "reserved": 2, "available": 14}
    body["variants"] = body["variants"][:1]  # TEE-M retired: none of its shards sells any more
    assert shop.put(f"/admin/products/{product['id']}", body, headers=ADMIN).status_code == 200
    assert [i["active"] for i in shards_of("TEE-M")] == [False] * 3
    cart = make_cart(shop)
    assert shop.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 1}).data["error"]["code"] == \
        "unknown_sku"


def test_reading_a_sharded_sku_costs_one_more_batch_get_item_and_checkout_no_more_writes(shop):
    from bench.aws_calls import count_calls

    product = make_product(shop, on_hand=10)
    cart = ready_cart(shop, {"TEE-M": 1})
    with count_calls() as before:
        shop.get(f"/products/{product['id']}")
    set_inventory(shop, "TEE-M", on_hand=10, shards=4)
    with count_calls() as after:
        shop.get(f"/products/{product['id']}")
    assert after.by_operation() == before.by_operation() | {("dynamodb", "BatchGetItem"): 2}
    with count_calls() as checkout:
        assert shop.post(f"/carts/{cart['id']}/checkout").status_code == 201
    assert checkout.by_operation()[("dynamodb", "TransactWriteItems")] == 1
    assert checkout.by_operation()[("dynamodb", "BatchGetItem")] == 2


def test_a_sharded_skus_low_stock_alert_watches_its_share_on_the_sku_item():
    from chalicelib.events import stock_events
    from chalicelib.models import SkuRecord

    base = {"sku": "HOT", "product_id": "prod_1", "product_title": "Hot", "title": "", "price": 1, "currency": "EUR",
            "active": True, "low_stock_threshold": 8, "shards": 4}
    old, new = SkuRecord(**base, available=3, on_hand=3), SkuRecord(**base, available=2, on_hand=3)
    assert [e.type for e in stock_events(old, new, "r1")] == ["StockLow"]  # 2 of a quarter's threshold, 8 / 4
    assert stock_events(new, new.model_copy(update={"available": 1}), "r2") == []


def test_a_late_payment_re_reserves_where_the_stock_is_now(shop, monkeypatch):
    from datetime import timedelta
    from types import SimpleNamespace

    from chalicelib import clock, payments
    from chalicelib.models import stock
    from chalicelib.repository import orders
    from chalicelib.services import orders as order_service

    make_product(shop, on_hand=8)
    set_inventory(shop, "TEE-M", on_hand=8, shards=4)
    monkeypatch.setattr(stock, "random", SimpleNamespace(choice=lambda shards: shards[-1]))  # the last shard
    order = checked_out(shop, {"TEE-M": 2})["order"]
    assert orders.get(order["id"]).stock_shards == {"TEE-M": [(3, 2)]}
    assert order_service.expire_unpaid(now=clock.now() + timedelta(minutes=31)) == 1
    set_inventory(shop, "TEE-M", on_hand=8, shards=1)  # shard 3 is gone
    event = payments.PaymentEvent(id="evt_late", kind="payment_succeeded", provider="stripe",
                                  provider_type="payment_intent.succeeded", payment_id="pi_late",
                                  order_id=order["id"], amount=order["total"], currency=order["currency"])
    assert order_service.apply_payment_event(event) == "applied"
    stored = orders.get(order["id"])
    assert (stored.status, stored.amount_refunded, stored.stock_shards) == ("paid", 0, {"TEE-M": [(0, 2)]})
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 8, "reserved": 2, "available": 6}
