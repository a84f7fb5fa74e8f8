"""Money stays whole under races: 50 checkouts at once spending one gift card, against a moto server
(serialised like DynamoDB's conditional writes are atomic), through the service layer from 50 threads."""

import time

from chalicelib.errors import CommerceError
from chalicelib.repository import dynamo
from tests.conftest import ADMIN, make_product, ready_cart
from tests.reliability.test_races import race, racing  # noqa: F401 (the fixture)

CHECKOUTS, INITIAL = 50, 20000


def test_fifty_checkouts_spending_one_card_never_take_more_than_its_balance(racing, monkeypatch):  # noqa: F811
    from chalicelib import config
    from chalicelib.services import checkout

    monkeypatch.setenv("GIFT_CARD_LOOKUPS_PER_MINUTE", "1000")  # the test applies the card from one address
    monkeypatch.setenv("DYNAMODB_READ_TIMEOUT_SECONDS", "60")  # one moto server, 50 clients, 2 cores
    config.reset()
    dynamo.client.cache_clear()

    make_product(racing, sku_prefix="GC", sizes=("ONE",), price=3000, on_hand=CHECKOUTS)
    card = racing.post("/admin/gift-cards", {"currency": "EUR", "amount": INITIAL}, headers=ADMIN).data
    carts = []
    for i in range(CHECKOUTS):
        cart = ready_cart(racing, {"GC-ONE": 1}, email=f"buyer{i}@example.com")
        answer = racing.post(f"/carts/{cart['id']}/gift-cards", {"code": card["code"]},
                             headers={"Content-Type": "application/json"})
        assert answer.status_code == 200, answer.data
        carts.append(cart["id"])

    started = time.perf_counter()
    outcomes = race(checkout.complete, carts)
    elapsed = time.perf_counter() - started
    placed = [o for _, o in outcomes if not isinstance(o, CommerceError)]
    failed = [o for _, o in outcomes if isinstance(o, CommerceError)]
    spent = [p.amount for result in placed for p in result.order.payments if p.method == "gift_card"]
    answer = racing.get(f"/admin/gift-cards/{card['id']}", headers=ADMIN)
    assert answer.status_code == 200, answer.data
    after = answer.data
    print(f"\n{len(placed)} placed, {len(failed)} failed ({sorted({e.code for e in failed})}), "
          f"{len(spent)} spent {sum(spent)} of {INITIAL}, balance {after['balance']}, {elapsed:.1f} s")
    assert after["balance"] >= 0
    assert sum(spent) == INITIAL - after["balance"] <= INITIAL
    assert sum(e["amount"] for e in after["ledger"]) == after["balance"]
    assert len([e for e in after["ledger"] if e["kind"] == "spend"]) == len(spent)
    for result in placed:
        assert sum(p.amount for p in result.order.payments) == result.order.total
    assert after["balance"] < placed[0].order.total  # the card was spent down: the race was real
