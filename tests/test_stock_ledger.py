"""Stock adjustments with a reason: the change and its ledger entry (who, why, before, after) in one
transaction; below 0 or below what orders reserved is refused and changes nothing."""

import hashlib

from tests.conftest import ADMIN, ADMIN_KEY, make_product

ACTOR = "admin_key:" + hashlib.sha256(ADMIN_KEY.encode()).hexdigest()[:8]


def adjust(api, sku: str, **body):
    return api.post(f"/admin/inventory/{sku}/adjustments", body, headers=ADMIN)


def test_adjustments_are_kept_in_the_ledger_newest_first(client):
    make_product(client, sku_prefix="TEE", price=2500, on_hand=10)
    received = adjust(client, "TEE-S", delta=5, reason="delivery from the mill")
    assert received.status_code == 201, received.data
    assert received.data["actor"] == ACTOR
    assert (received.data["before"]["on_hand"], received.data["after"]["on_hand"]) == (10, 15)
    counted = adjust(client, "TEE-S", on_hand=12, reason="stock count", low_stock_threshold=4)
    assert counted.status_code == 201, counted.data
    assert counted.data["after"] == {"on_hand": 12, "reserved": 0, "available": 12, "low_stock_threshold": 4}
    level = client.get("/admin/inventory?skus=TEE-S", headers=ADMIN).data["data"][0]
    assert (level["on_hand"], level["low_stock_threshold"]) == (12, 4)

    ledger = client.get("/admin/inventory/TEE-S/ledger", headers=ADMIN)
    assert ledger.status_code == 200, ledger.data
    assert [(e["reason"], e["before"]["on_hand"], e["after"]["on_hand"]) for e in ledger.data["data"]] == [
        ("stock count", 15, 12), ("delivery from the mill", 10, 15)]
    page = client.get("/admin/inventory/TEE-S/ledger?limit=1", headers=ADMIN).data
    assert len(page["data"]) == 1 and page["next_cursor"]
    assert client.get("/admin/inventory/TEE-M/ledger", headers=ADMIN).data == {"data": [], "next_cursor": None}


def test_a_refused_adjustment_changes_nothing_and_names_the_parameter(client):
    make_product(client, sku_prefix="TEE", price=2500, on_hand=3)
    below = adjust(client, "TEE-S", delta=-4, reason="broken")
    assert (below.status_code, below.data["error"]["param"]) == (400, "delta")
    for body, param in [({"reason": "x"}, None), ({"on_hand": 1, "delta": 1, "reason": "x"}, None),
                        ({"on_hand": 1}, "reason"), ({"on_hand": 1, "reason": ""}, "reason")]:
        answer = adjust(client, "TEE-S", **body)
        assert answer.status_code == 400, (body, answer.data)
        if param:
            assert answer.data["error"]["param"] == param
    assert adjust(client, "NOPE", on_hand=1, reason="x").status_code == 404
    assert client.post("/admin/inventory/TEE-S/adjustments", {"on_hand": 1, "reason": "x"}).status_code == 401
    assert client.get("/admin/inventory/TEE-S/ledger", headers=ADMIN).data["data"] == []
    level = client.get("/admin/inventory?skus=TEE-S", headers=ADMIN).data["data"][0]
    assert level["on_hand"] == 3


def test_a_sharded_sku_is_counted_through_the_inventory_route_not_adjusted_on_one_shard(client):
    make_product(client, sku_prefix="TEE", price=2500, on_hand=12)
    assert client.put("/admin/inventory/TEE-S", {"on_hand": 12, "shards": 4}, headers=ADMIN).status_code == 200

    refused = adjust(client, "TEE-S", delta=5, reason="delivery")

    assert (refused.status_code, refused.data["error"]["param"]) == (409, "sku")
    level = client.get("/admin/inventory?skus=TEE-S", headers=ADMIN).data["data"][0]
    assert (level["on_hand"], level["available"]) == (12, 12)
    assert client.get("/admin/inventory/TEE-S/ledger", headers=ADMIN).data["data"] == []
