"""A bounded load run on loopback against the local stack (`python -m devstack` on free ports):
virtual users browse, fill carts and compete for a product with limited stock (bench/load.py).
Nothing may answer 5xx or drop a connection, every refusal is a 409 out_of_stock, and the limited
product is never oversold: its stock adds up with the orders that hold it.

Smaller than `make bench`'s run (RELIABILITY_LOAD_USERS, RELIABILITY_LOAD_REQUESTS: 20 users, 600
requests by default, within 90 s); the latency percentiles are printed (pytest -s shows them).
"""

import os

from bench import load


def test_a_bounded_load_run_on_the_local_stack_never_oversells_or_answers_5xx(tmp_path):
    users = int(os.environ.get("RELIABILITY_LOAD_USERS", "20"))
    requests_total = int(os.environ.get("RELIABILITY_LOAD_REQUESTS", "600"))
    with load.LocalStack(str(tmp_path / "outbox")) as stack:
        result = load.run(stack.api, stack.admin_key, users, requests_total, limited_stock=10, time_limit=60)
    print("\n" + result.table())
    summary = result.summary()
    assert result.problems == [], result.problems
    assert summary["server_errors"] == 0
    assert summary["requests"] >= min(requests_total, 200), "the run did too little to mean anything"
    assert summary["orders_of_limited_product"] <= 10
    # Demand outran supply (about a quarter of the journeys buy): the last unit went, and no more.
    if summary["orders_of_limited_product"] == 10:
        assert summary["final_available"] == 0
