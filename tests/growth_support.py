"""Helpers for the growth features' tests (reports, recommendations, low stock, abandoned carts):
orders bought and paid through the API, the stream fed to the relay, and a movable clock."""

from datetime import datetime

import pytest

from chalicelib import clock
from tests.conftest import make_cart
from tests.orders_support import charge_refunded, post_event, stripe_event
from tests.test_webhooks import paid_event

# No tax in the US (config DEFAULT_TAX_RATES) and free standard shipping from 50 EUR / 75 USD:
# an order's total is its subtotal, which keeps the expected figures easy to compute by hand.
US_ADDRESS = {"name": "Grace Hopper", "line1": "1 Navy Street", "city": "Arlington", "postal_code": "22201",
              "country": "US"}


def cart_with(api, lines: dict[str, int], currency: str = "EUR", email: str | None = "ada@example.com") -> dict:
    cart = make_cart(api, currency=currency)
    for sku, quantity in lines.items():
        answer = api.post(f"/carts/{cart['id']}/lines", {"sku": sku, "quantity": quantity})
        assert answer.status_code == 200, answer.data
    if email:
        answer = api.patch(f"/carts/{cart['id']}", {"email": email})
        assert answer.status_code == 200, answer.data
    return api.get(f"/carts/{cart['id']}").data


def check_out(api, cart_id: str) -> dict:
    answer = api.patch(f"/carts/{cart_id}", {"shipping_address": US_ADDRESS, "shipping_method": "standard"})
    assert answer.status_code == 200, answer.data
    answer = api.post(f"/carts/{cart_id}/checkout", {})
    assert answer.status_code == 201, answer.data
    return answer.data


def buy(api, lines: dict[str, int], currency: str = "EUR", paid: bool = True) -> dict:
    """A checked-out order (the Checkout answer), paid through a signed Stripe webhook by default."""
    result = check_out(api, cart_with(api, lines, currency)["id"])
    if paid:
        pay(api, result)
    return result


def pay(api, result: dict) -> None:
    answer = post_event(api, paid_event(result))
    assert answer.status_code == 200, answer.data


def refund(api, result: dict, refunded: int) -> None:
    """Stripe tells that `refunded` (in total) has been refunded on the order's charge."""
    answer = post_event(api, stripe_event("charge.refunded", charge_refunded(result["order"], refunded)))
    assert answer.status_code == 200, answer.data


def relay(api, stream) -> list[dict]:
    """Feed what the stream holds since the last read to the relay; returns the records."""
    records = stream.read()
    api.raw.lambda_.invoke("on_table_change", {"Records": records})
    return records


def scheduled(api, function: str):
    tick = api.raw.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=[])
    return api.raw.lambda_.invoke(function, tick).payload


@pytest.fixture(name="at")
def at_fixture(monkeypatch):
    """Set the app's clock: at(moment) until called again; at(None) gives back the real clock."""
    real = clock.now

    def move(moment: datetime | None):
        monkeypatch.setattr(clock, "now", real if moment is None else (lambda: moment))
        return moment
    return move
