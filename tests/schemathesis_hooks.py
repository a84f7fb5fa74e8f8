"""Schemathesis hooks (tests/schemathesis.toml): let generated requests reach past the 400s and 404s.

Left alone, generated data rarely gets anywhere: random SKUs are never for sale, random shipping methods
never offered, random cart and order ids never exist, and a generated Idempotency-Key repeats across
examples (a 422 for every later request that reuses it). So:

- bodies: as further possibilities Hypothesis can choose, a SKU of the seeded demo catalogue
  (devstack/seed.py) in a small quantity, and a checkout-ready cart update;
- `before_call`: a fresh Idempotency-Key for every POST (replays are tests/test_idempotency.py's job);
  and for two thirds of the generated ids (chosen by a hash of the id, so a failure replays the same
  way) a real one: a cart ready to check out for the checkout, and an order placed (and for refunds and
  shipments paid) through the API for the order operations, with its X-Order-Token on the order page.
  A few of each, made on first use and then reused (the hash picks which), so later requests meet
  checked-out carts, shipped, refunded and cancelled orders too, and moto is spared the work: its
  TransactWriteItems deep-copies the table once per item and a cancelled one leaks a copy to every
  stream iterator the event pump ever took (several GB in a few minutes when every case placed an order).

The API and localstripe are found through COMMERCE_API_URL and COMMERCE_STRIPE_URL (the local stack).
"""

import os
import time
import uuid
import zlib

import requests
import schemathesis
from hypothesis import strategies as st

from devstack.seed import CATALOGUE

SKUS = sorted(variant["sku"] for product in CATALOGUE for variant in product["variants"])
PLENTY = ("TOTE-NATURAL", "MUG-WHITE", "MUG-BLACK", "TEE-M", "TEE-S")  # most stock: checkouts reserve it
READY = {"email": "ada@example.com", "shipping_method": "standard",
         "shipping_address": {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin",
                              "postal_code": "10115", "country": "DE"}}
ORDER_OPERATIONS = {
    ("GET", "/orders/{order_id}"): False, ("GET", "/admin/orders/{order_id}"): False,
    ("GET", "/orders/{order_id}/payment"): False,
    ("POST", "/admin/orders/{order_id}/cancel"): False,
    ("POST", "/admin/orders/{order_id}/refunds"): True, ("POST", "/admin/orders/{order_id}/shipments"): True,
}  # operation -> wants a paid order
POOL_SIZE = 3
_made = {"carts": 0}
_pools: dict[str, list] = {"carts": [], "unpaid": [], "paid": []}


def _operation(context) -> tuple[str, str]:
    operation = context.operation
    return (operation.method.upper(), operation.path) if operation is not None else ("", "")


@schemathesis.hook
def flatmap_body(context, body):
    if not isinstance(body, dict):
        return st.just(body)
    operation = _operation(context)
    if operation == ("POST", "/carts/{cart_id}/lines"):
        return st.one_of(st.just(body), st.builds(lambda sku, quantity: {**body, "sku": sku, "quantity": quantity},
                                                  st.sampled_from(SKUS), st.integers(1, 3)))
    if operation == ("PATCH", "/carts/{cart_id}/lines/{sku}"):
        return st.one_of(st.just(body), st.integers(0, 3).map(lambda quantity: {**body, "quantity": quantity}))
    if operation == ("PATCH", "/carts/{cart_id}"):
        return st.one_of(st.just(body), st.just({**body, **READY}))
    return st.just(body)


@schemathesis.hook
def before_call(context, case, **kwargs):
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 1 <= len(key) <= 255:  # keys of invalid length stay, for the 400
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    operation = _operation(context)
    params = case.path_parameters or {}
    if operation == ("POST", "/carts/{cart_id}/checkout") and _real(params.get("cart_id")):
        cart_id = _pooled("carts", params["cart_id"], _ready_cart)
        if cart_id:
            params["cart_id"] = cart_id
    elif operation in ORDER_OPERATIONS and _real(params.get("order_id")):
        paid = ORDER_OPERATIONS[operation]
        placed = _pooled("paid" if paid else "unpaid", params["order_id"], lambda: _order(paid))
        if placed:
            params["order_id"] = placed["order"]["id"]
            if "X-Order-Token" in (case.headers or {}):
                case.headers["X-Order-Token"] = placed["order_token"]


def _hash(generated) -> int:
    return zlib.crc32(str(generated).encode())


def _real(generated) -> bool:
    return generated is not None and _hash(generated) % 3 != 0


def _pooled(kind: str, generated, make):
    pool = _pools[kind]
    slot = _hash(generated) % POOL_SIZE
    if slot >= len(pool):
        made = make()
        if made is None:
            return None
        pool.append(made)
        slot = len(pool) - 1
    return pool[slot]


def _api(method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, os.environ["COMMERCE_API_URL"] + path, timeout=30, **kwargs)


def _ready_cart() -> str | None:
    """A cart with one line of a well-stocked SKU, an email, an address and a shipping method."""
    _made["carts"] += 1
    cart = _api("POST", "/carts", json={})
    if cart.status_code != 201:
        return None
    cart_id = cart.json()["id"]
    _api("POST", f"/carts/{cart_id}/lines", json={"sku": PLENTY[_made["carts"] % len(PLENTY)], "quantity": 1})
    _api("PATCH", f"/carts/{cart_id}", json=READY)
    return cart_id


def _order(paid: bool) -> dict | None:
    """A checkout answer; paid with a test card when asked (the webhook from localstripe marks it paid)."""
    cart_id = _ready_cart()
    body = {"payment_method": _payment_method()} if paid else {}
    answer = _api("POST", f"/carts/{cart_id}/checkout", json=body) if cart_id else None
    if answer is None or answer.status_code != 201:
        return None
    placed = answer.json()
    if paid:
        for _ in range(50):  # until the webhook landed
            order = _api("GET", f"/orders/{placed['order']['id']}", headers={"X-Order-Token": placed["order_token"]})
            if order.status_code == 200 and order.json()["payment_status"] == "paid":
                break
            time.sleep(0.1)
    return placed


def _payment_method() -> str:
    card = {"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12", "card[exp_year]": "2030",
            "card[cvc]": "123"}
    answer = requests.post(os.environ["COMMERCE_STRIPE_URL"] + "/v1/payment_methods", data=card,
                           auth=("sk_test_local_devstack", ""), timeout=10)
    answer.raise_for_status()
    return answer.json()["id"]
