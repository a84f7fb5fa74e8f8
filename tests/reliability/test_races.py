"""Races, against a moto *server* (serialised like DynamoDB's conditional writes are atomic) with
requests from many threads through the service layer (chalice.test.Client is not thread-safe).

Also raced elsewhere, and not repeated here: a discount code limited to N uses
(tests/test_discounts.py::test_concurrent_redemptions_of_a_limited_code_never_exceed_its_limit) and
refunds of one order (tests/test_admin_orders.py::test_concurrent_refunds_together_never_exceed_the_payment).
"""

import os
import threading
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.errors import CommerceError
from tests.conftest import Api, make_product, ready_cart
from tests.reliability.support import assert_stock_adds_up, payment_intents

BUYERS, UNITS = 20, 5


@pytest.fixture
def racing(localstripe):
    """The app's client (for setting up, from this thread only) against a fresh serialised moto
    server (tests/conftest.py's, whose backends live in this process: reset them first)."""
    import requests
    from chalice.test import Client

    from app import app
    from tests.conftest import SerializedMotoServer, build_world, free_port, reset_clients
    from tests.orders_support import use_localstripe

    server = SerializedMotoServer(free_port()).start()
    requests.post(f"{server.url}/moto-api/reset", timeout=10).raise_for_status()
    os.environ["AWS_ENDPOINT_URL"] = server.url
    try:
        build_world()
        use_localstripe(localstripe)
        with Client(app, stage_name="test") as raw:
            yield Api(raw)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        reset_clients()
        server.stop()


def race(work, arguments: list) -> list:
    """Run work(argument) in one thread each, released together; returns (argument, outcome) pairs
    where outcome is the result or the CommerceError raised."""
    start = threading.Barrier(len(arguments))
    outcomes = []
    lock = threading.Lock()

    def run(argument):
        start.wait()
        try:
            outcome = work(argument)
        except CommerceError as error:
            outcome = error
        with lock:
            outcomes.append((argument, outcome))

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == len(arguments), "a racer did not finish"
    return outcomes


def test_twenty_buyers_for_the_last_five_units_make_five_orders_and_fifteen_409s(racing):
    from chalicelib.services import checkout

    make_product(racing, sku_prefix="LAST", sizes=("ONE",), on_hand=UNITS)
    carts = [ready_cart(racing, {"LAST-ONE": 1}, email=f"buyer{i}@example.com")["id"] for i in range(BUYERS)]
    outcomes = race(checkout.complete, carts)
    won = [o for _, o in outcomes if not isinstance(o, CommerceError)]
    lost = [o for _, o in outcomes if isinstance(o, CommerceError)]
    assert len(won) == UNITS and len({o.order.id for o in won}) == UNITS
    assert [(e.status_code, e.code) for e in lost] == [(409, "out_of_stock")] * (BUYERS - UNITS), [str(e) for e in lost]
    assert all(e.to_dict()["error"]["available"] == 0 for e in lost)
    assert assert_stock_adds_up()["LAST-ONE"] == {"on_hand": UNITS, "reserved": UNITS, "available": 0}
    # A loser's cart is left open, to be changed and tried again.
    losers = [cart for cart, o in outcomes if isinstance(o, CommerceError)]
    assert {racing.get(f"/carts/{cart}").data["status"] for cart in losers} == {"open"}


def test_buyers_of_different_quantities_never_get_more_than_the_stock(racing):
    from chalicelib.services import checkout

    make_product(racing, sku_prefix="FEW", sizes=("ONE",), on_hand=7)
    wanted = {ready_cart(racing, {"FEW-ONE": quantity})["id"]: quantity for quantity in (1, 2, 3, 3, 2, 1, 3, 2)}
    outcomes = race(checkout.complete, list(wanted))
    sold = sum(wanted[cart] for cart, o in outcomes if not isinstance(o, CommerceError))
    assert sold <= 7
    stock = assert_stock_adds_up()["FEW-ONE"]
    assert stock["reserved"] == sold and stock["available"] == 7 - sold
    for cart, outcome in outcomes:
        if isinstance(outcome, CommerceError):
            # Refused only when what was left at the end could not serve it.
            assert outcome.code == "out_of_stock" and wanted[cart] > stock["available"], (wanted[cart], stock)


def test_concurrent_checkouts_of_one_cart_make_one_order_and_one_payment(racing, localstripe):
    from chalicelib.services import checkout

    make_product(racing, on_hand=10)
    cart = ready_cart(racing, {"TEE-M": 2})["id"]
    outcomes = race(lambda _: checkout.complete(cart), list(range(10)))
    assert not [o for _, o in outcomes if isinstance(o, CommerceError)], outcomes
    assert len({o.order.id for _, o in outcomes}) == 1
    assert sum(o.created for _, o in outcomes) == 1
    assert len({o.payment["client_secret"] for _, o in outcomes}) == 1
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 10, "reserved": 2, "available": 8}
    assert len(payment_intents(localstripe, outcomes[0][1].order.id)) == 1


def test_the_same_webhook_delivered_concurrently_is_applied_once(racing):
    from chalicelib import payments
    from chalicelib.repository import orders
    from chalicelib.services import orders as order_service
    from tests.orders_support import checked_out

    make_product(racing, on_hand=10)
    order = checked_out(racing, {"TEE-M": 1})["order"]
    event = payments.PaymentEvent(id="evt_concurrent", kind="payment_succeeded", provider="stripe",
                                  provider_type="payment_intent.succeeded", payment_id="pi_x", order_id=order["id"],
                                  amount=order["total"], currency=order["currency"])
    outcomes = race(lambda _: order_service.apply_payment_event(event), list(range(6)))
    assert sorted(o for _, o in outcomes).count("applied") == 1, outcomes
    stored = orders.get(order["id"])
    assert (stored.status, stored.amount_paid) == ("paid", order["total"])
    assert stored.version == 1  # checkout wrote 0 (with its payment), the event once: 1
    assert_stock_adds_up()


def test_payments_racing_the_expiry_schedule_end_paid_with_their_stock(racing):
    """Five orders past their payment deadline: the schedule expires them while their payments
    arrive. Either way round each ends paid with its units reserved (a late payment re-reserves),
    and no unit is released or reserved twice."""
    from chalicelib import payments
    from chalicelib.repository import orders
    from chalicelib.services import orders as order_service
    from tests.orders_support import checked_out

    make_product(racing, on_hand=10)
    placed = [checked_out(racing, {"TEE-M": 1})["order"] for _ in range(5)]
    later = clock.now() + timedelta(minutes=31)

    def act(job):
        kind, order = job
        if kind == "expire":
            return order_service.expire_unpaid(now=later)
        return order_service.apply_payment_event(payments.PaymentEvent(
            id=f"evt_{order['id']}", kind="payment_succeeded", provider="stripe",
            provider_type="payment_intent.succeeded", payment_id="pi_x", order_id=order["id"],
            amount=order["total"], currency=order["currency"]))

    race(act, [("expire", None), ("expire", None)] + [("pay", order) for order in placed])
    for order in placed:
        stored = orders.get(order["id"])
        assert (stored.status, stored.payment_status, stored.stock_released) == ("paid", "paid", False), stored
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 10, "reserved": 5, "available": 5}


def test_concurrent_cancellations_of_a_paid_order_refund_it_once(racing, localstripe):
    from chalicelib.repository import orders
    from chalicelib.services import orders as refunds
    from tests.test_admin_orders import paid_order
    from tests.test_expiry_and_relay import refunds_of

    make_product(racing, on_hand=3)
    result = paid_order(racing, {"TEE-M": 2}, localstripe)
    order_id = result["order"]["id"]
    outcomes = race(lambda _: refunds.cancel(order_id, "customer asked"), list(range(4)))
    cancelled = [o for _, o in outcomes if not isinstance(o, CommerceError)]
    assert len(cancelled) == 1, outcomes
    assert {o.code for _, o in outcomes if isinstance(o, CommerceError)} <= {"invalid_state", "refund_exceeds_payment",
                                                                             "order_changed"}
    stored = orders.get(order_id)
    assert (stored.status, stored.amount_refunded) == ("cancelled", stored.amount_paid)
    payment_id = result["payment"]["client_secret"].split("_secret_")[0]
    assert refunds_of(localstripe, payment_id) == [stored.amount_paid]
    assert assert_stock_adds_up()["TEE-M"] == {"on_hand": 3, "reserved": 0, "available": 3}
