"""The shop's order operations: list, read, ship, cancel, refund."""

import threading

from tests.conftest import ADMIN, make_product
from tests.orders_support import checked_out, post_event
from tests.test_checkout import stock
from tests.test_expiry_and_relay import refunds_of
from tests.test_webhooks import paid_event


def paid_order(api, lines: dict[str, int], localstripe: str | None = None) -> dict:
    """A checked-out order, paid at localstripe with a test card and confirmed by its webhook."""
    result = checked_out(api, lines, payment_method="pm_card_visa") if localstripe else checked_out(api, lines)
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    assert post_event(api, paid_event(result, payment_id=payment_id)).status_code == 200
    return result


def test_orders_are_listed_newest_first_by_status_with_a_cursor(shop):
    make_product(shop, on_hand=50)
    results = [checked_out(shop, {"TEE-M": 1}) for _ in range(5)]
    post_event(shop, paid_event(results[1]))
    everything, cursor = [], None
    while True:
        page = shop.get("/admin/orders?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=ADMIN).data
        everything += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(o["id"] for o in everything) == sorted(r["order"]["id"] for r in results)
    created = [o["created_at"] for o in everything]
    assert created == sorted(created, reverse=True)
    paid = shop.get("/admin/orders?status=paid", headers=ADMIN).data["data"]
    assert [o["id"] for o in paid] == [results[1]["order"]["id"]]
    assert shop.get("/admin/orders?status=bogus", headers=ADMIN).status_code == 400
    assert shop.get("/admin/orders").status_code == 401


def test_an_admin_reads_any_order(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    assert shop.get(f"/admin/orders/{result['order']['id']}", headers=ADMIN).data["id"] == result["order"]["id"]
    assert shop.get("/admin/orders/ord_nope", headers=ADMIN).status_code == 404


def test_partial_then_full_shipment_moves_stock_and_fulfilment_status(shop):
    make_product(shop, on_hand=5)
    result = paid_order(shop, {"TEE-M": 3, "TEE-S": 1})
    order_id = result["order"]["id"]
    first = shop.post(f"/admin/orders/{order_id}/shipments",
                      {"carrier": "dhl", "tracking_number": "JD0001", "lines": [{"sku": "TEE-M", "quantity": 2}]},
                      headers=ADMIN)
    assert first.status_code == 201 and first.data["fulfilment_status"] == "partially_shipped"
    assert stock("TEE-M") == {"on_hand": 3, "reserved": 1, "available": 2}
    too_many = shop.post(f"/admin/orders/{order_id}/shipments",
                         {"carrier": "dhl", "tracking_number": "JD0002", "lines": [{"sku": "TEE-M", "quantity": 2}]},
                         headers=ADMIN)
    assert too_many.status_code == 409 and too_many.data["error"]["code"] == "over_shipment"
    rest = shop.post(f"/admin/orders/{order_id}/shipments", {"carrier": "ups", "tracking_number": "1Z9"},
                     headers=ADMIN)
    assert rest.data["fulfilment_status"] == "shipped"
    assert [s["lines"] for s in rest.data["shipments"]] == [[{"sku": "TEE-M", "quantity": 2}],
                                                            [{"sku": "TEE-M", "quantity": 1},
                                                             {"sku": "TEE-S", "quantity": 1}]]
    assert stock("TEE-M") == {"on_hand": 2, "reserved": 0, "available": 2}
    assert shop.post(f"/admin/orders/{order_id}/shipments", {"carrier": "ups", "tracking_number": "1Z9"},
                     headers=ADMIN).status_code == 409


def test_an_unpaid_order_cannot_ship(shop):
    make_product(shop)
    result = checked_out(shop, {"TEE-M": 1})
    answer = shop.post(f"/admin/orders/{result['order']['id']}/shipments", {"carrier": "dhl", "tracking_number": "1"},
                       headers=ADMIN)
    assert answer.status_code == 409


def test_cancelling_an_unpaid_order_releases_its_stock(shop):
    make_product(shop, on_hand=3)
    result = checked_out(shop, {"TEE-M": 2})
    answer = shop.post(f"/admin/orders/{result['order']['id']}/cancel", {"reason": "customer asked"}, headers=ADMIN)
    assert answer.status_code == 200 and answer.data["status"] == "cancelled"
    assert stock("TEE-M") == {"on_hand": 3, "reserved": 0, "available": 3}
    again = shop.post(f"/admin/orders/{result['order']['id']}/cancel", {}, headers=ADMIN)
    assert again.status_code == 409
    assert stock("TEE-M")["available"] == 3


def test_cancelling_an_unpaid_order_cancels_its_payment_so_it_cannot_be_paid(shop, localstripe):
    import requests

    make_product(shop, on_hand=3)
    result = checked_out(shop, {"TEE-M": 1})
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    assert shop.post(f"/admin/orders/{result['order']['id']}/cancel", {}, headers=ADMIN).status_code == 200
    at_stripe = requests.get(f"{localstripe}/v1/payment_intents/{payment_id}", auth=("sk_test_commerce", ""),
                             timeout=5).json()
    assert at_stripe["status"] == "canceled"


def test_cancelling_an_order_paid_at_the_provider_before_its_webhook_refunds_the_payment(shop, localstripe):
    make_product(shop, on_hand=3)
    result = checked_out(shop, {"TEE-M": 1}, payment_method="pm_card_visa")  # paid; its webhook never came
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    answer = shop.post(f"/admin/orders/{result['order']['id']}/cancel", {}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    assert (answer.data["status"], answer.data["amount_paid"]) == ("cancelled", result["order"]["total"])
    assert answer.data["amount_refunded"] == result["order"]["total"]
    assert refunds_of(localstripe, payment_id) == [result["order"]["total"]]
    assert stock("TEE-M") == {"on_hand": 3, "reserved": 0, "available": 3}


def test_cancelling_a_paid_order_refunds_it_in_full(shop, localstripe):
    make_product(shop, on_hand=3)
    result = paid_order(shop, {"TEE-M": 2}, localstripe)
    answer = shop.post(f"/admin/orders/{result['order']['id']}/cancel", {}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    order = answer.data
    assert (order["status"], order["payment_status"], order["amount_refunded"]) == (
        "cancelled", "refunded", order["total"])
    assert stock("TEE-M") == {"on_hand": 3, "reserved": 0, "available": 3}
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    assert refunds_of(localstripe, payment_id) == [order["total"]]


def test_refunds_never_exceed_what_was_paid(shop, localstripe):
    make_product(shop, on_hand=3)
    result = paid_order(shop, {"TEE-M": 1}, localstripe)
    order_id, total = result["order"]["id"], result["order"]["total"]
    part = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": 500}, headers=ADMIN)
    assert part.status_code == 201 and part.data["payment_status"] == "partially_refunded"
    over = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": total}, headers=ADMIN)
    assert over.status_code == 409 and over.data["error"]["code"] == "refund_exceeds_payment"
    rest = shop.post(f"/admin/orders/{order_id}/refunds", {"amount": total - 500}, headers=ADMIN)
    assert (rest.data["payment_status"], rest.data["amount_refunded"]) == ("refunded", total)
    for bad in ({"amount": 0}, {"amount": -1}, {"amount": "5"}, {}):
        assert shop.post(f"/admin/orders/{order_id}/refunds", bad, headers=ADMIN).status_code == 400


def test_concurrent_refunds_together_never_exceed_the_payment(moto_server, localstripe):
    from chalice.test import Client

    from app import app
    from chalicelib.errors import Conflict
    from chalicelib.services import orders as refunds
    from tests.conftest import Api
    from tests.orders_support import use_localstripe

    use_localstripe(localstripe)
    with Client(app, stage_name="test") as raw:
        api = Api(raw)
        make_product(api, on_hand=3)
        result = paid_order(api, {"TEE-M": 1}, localstripe)
    order_id, total = result["order"]["id"], result["order"]["total"]
    share = total // 3 + 1  # three of these would exceed the total; only two fit
    outcomes = []

    def attempt():
        try:
            refunds.refund(order_id, share, None)
            outcomes.append("refunded")
        except Conflict as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("refunded") == 2, outcomes
    from chalicelib.repository import orders

    order = orders.get(order_id)
    assert order.amount_refunded == 2 * share <= total
    assert sum(r.amount for r in order.refunds if r.status == "succeeded") == 2 * share
