"""A short soak run (bench/soak.py) in `make test`: shoppers doing full purchases against the local stack
(`python -m devstack` on free loopback ports) while webhooks are dropped, orders are charged twice and
DynamoDB calls time out. Nothing may answer 5xx or drop a connection, every order paid at localstripe
is paid in the API after one reconciliation period, and every duplicate charge is refunded.

`make soak` is the long one (50 users, 5 minutes; README "Soak run"). SOAK_TEST_USERS and
SOAK_TEST_SECONDS change this one (10 users, 25 s by default).
"""

import os

from bench import soak
from devstack import launcher


def test_a_short_soak_with_faults_loses_no_paid_order_and_answers_no_5xx(tmp_path):
    users = int(os.environ.get("SOAK_TEST_USERS", "10"))
    seconds = float(os.environ.get("SOAK_TEST_SECONDS", "25"))
    env = soak.stack_env(period=5, drop=0.2, dynamodb_timeouts=0.02)
    with launcher.LocalStack(tmp_path / "outbox", admin_key="soak-test-admin-key", env=env,
                             log_path=tmp_path / "stack.log") as stack:
        result = soak.run(stack, users, seconds, max_requests=5000, duplicates=0.2, period=5, settle=60)
    print("\n" + result.table())
    summary = result.summary()
    assert result.problems == [], result.problems
    assert (summary["server_errors"], summary["dropped"], summary["paid_but_unpaid"]) == (0, 0, 0)
    assert summary["paid_at_provider"] >= users, "the run bought too little to mean anything"
    assert summary["paid_in_api"] == summary["paid_at_provider"]
    assert summary["webhooks"]["dropped"] >= 1, "no webhook was dropped: reconciliation was not exercised"
    assert "timed out" in (summary["dynamodb_faults"] or ""), "no DynamoDB call timed out"
