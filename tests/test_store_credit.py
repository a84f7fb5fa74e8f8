"""Store credit: a balance per customer and currency with a ledger (the ledger sums to the balance),
given and taken back by the shop (never below zero), idempotent by its source, shown on AdminCustomer."""

import pytest

from chalicelib.errors import InvalidRequest, StoreCreditInsufficient
from chalicelib.models.customers import customer_id_for
from chalicelib.services import store_credit
from tests.conftest import ADMIN, make_product
from tests.growth_support import buy, relay
from tests.orders_support import Stream

ADA = customer_id_for("ada@example.com")


def test_grants_are_idempotent_by_source_and_the_ledger_sums_to_the_balance(client):
    assert store_credit.grant(ADA, "EUR", 1500, "goodwill", "src-1") == 1500
    assert store_credit.grant(ADA, "EUR", 1500, "goodwill", "src-1") == 1500  # the same source: nothing changes
    assert store_credit.grant(ADA, "EUR", -500, "taken back", "src-2") == 1000
    assert store_credit.grant(ADA, "USD", 700, "return", "ret_1") == 700
    assert store_credit.balance(ADA) == {"EUR": 1000, "USD": 700}
    ledger = store_credit.ledger(ADA)
    for currency, balance in store_credit.balance(ADA).items():
        assert sum(e.amount for e in ledger if e.currency == currency) == balance
    assert [e.source_id for e in ledger if e.currency == "EUR"] == ["src-1", "src-2"]


def test_credit_never_goes_below_zero(client):
    store_credit.grant(ADA, "EUR", 300, "goodwill", "src-1")
    with pytest.raises(StoreCreditInsufficient):
        store_credit.grant(ADA, "EUR", -301, "too much", "src-2")
    with pytest.raises(StoreCreditInsufficient):
        store_credit.grant(customer_id_for("nobody@example.com"), "EUR", -1, "none", "src-3")
    assert store_credit.balance(ADA) == {"EUR": 300}
    assert [e.source_id for e in store_credit.ledger(ADA)] == ["src-1"]
    with pytest.raises(InvalidRequest):
        store_credit.grant(ADA, "EUR", 0, "nothing", "src-4")
    with pytest.raises(InvalidRequest):
        store_credit.grant(ADA, "XXX", 10, "nothing", "src-5")


def test_the_shop_gives_and_takes_back_credit_and_sees_it_on_the_customer(shop):
    stream = Stream()
    make_product(shop, sku_prefix="TEE", price=2500, on_hand=10)
    buy(shop, {"TEE-M": 1})
    relay(shop, stream)  # the customer's figures come from the stream
    body = {"currency": "EUR", "amount": 2000, "reason": "sorry"}
    answer = shop.post(f"/admin/customers/{ADA}/credit", body, headers=ADMIN | {"Idempotency-Key": "k1"})
    assert answer.status_code == 200, answer.data
    assert answer.data["store_credit"] == {"EUR": 2000}
    again = shop.post(f"/admin/customers/{ADA}/credit", body, headers=ADMIN | {"Idempotency-Key": "k1"})
    assert again.status_code == 200 and again.data["store_credit"] == {"EUR": 2000}
    answer = shop.post(f"/admin/customers/{ADA}/credit", {"currency": "EUR", "amount": -2500, "reason": "oops"},
                       headers=ADMIN)
    assert answer.status_code == 409 and answer.data["error"]["code"] == "store_credit_insufficient"
    answer = shop.post(f"/admin/customers/{ADA}/credit", {"currency": "EUR", "amount": -500, "reason": "oops"},
                       headers=ADMIN)
    assert answer.data["store_credit"] == {"EUR": 1500}
    assert shop.get(f"/admin/customers/{ADA}", headers=ADMIN).data["store_credit"] == {"EUR": 1500}
    listed = shop.get("/admin/customers", headers=ADMIN).data["data"]
    assert [c["store_credit"] for c in listed] == [{"EUR": 1500}]


def test_the_credit_route_refuses_bad_input_and_unknown_customers(client):
    answer = client.post(f"/admin/customers/{ADA}/credit", {"currency": "EUR", "amount": 10, "reason": "x"},
                         headers=ADMIN)
    assert answer.status_code == 404
    answer = client.post(f"/admin/customers/{ADA}/credit", {"currency": "EUR", "amount": 1.5, "reason": "x"},
                         headers=ADMIN)
    assert answer.status_code == 400 and answer.data["error"]["param"] == "amount"
    answer = client.post(f"/admin/customers/{ADA}/credit", {"currency": "EUR", "amount": 10}, headers=ADMIN)
    assert answer.status_code == 400 and answer.data["error"]["param"] == "reason"
    answer = client.post(f"/admin/customers/{ADA}/credit", {"currency": "EUR", "amount": 10, "reason": "x"})
    assert answer.status_code == 401
