"""Schemathesis against the OpenAPI document and the running local API (`python -m devstack` on free ports).

Every operation gets the coverage phase (boundary and invalid values, wrong content types, unexpected
methods), the fuzzing phase (`max-examples` per operation) and the stateful phase (sequences along the
document's links), with these checks (tests/schemathesis.toml): no 5xx, every status, content type,
header and body as documented, and admin operations refused without the admin key, which the others send. The hooks
(tests/schemathesis_hooks.py) help generated requests reach real carts and orders.

Reproduce by hand against `make run` (admin key printed at start):

    COMMERCE_API_URL=http://127.0.0.1:8000 COMMERCE_STRIPE_URL=http://127.0.0.1:8420 LOCAL_ADMIN_KEY=<key> \\
        PYTHONPATH=. .venv/bin/schemathesis --config-file tests/schemathesis.toml run openapi.json \\
        --url http://127.0.0.1:8000
"""

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack.launcher import LocalStack

pytest.importorskip("schemathesis")

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tests" / "schemathesis.toml"
RUN_TIMEOUT = 600  # seconds; a run takes about 2.5 minutes on 2 cores (32 operations; more under load)


class Stack(LocalStack):
    """`python -m devstack` on free ports, until the fixture ends; its output in `log_path`."""

    def __init__(self, tmp: Path):
        super().__init__(tmp / "outbox", admin_key=secrets.token_urlsafe(16), log_path=tmp / "devstack.log")
        self.start()

    def stop(self, sig: int = signal.SIGTERM) -> int | None:  # SIGTERM: devstack stops its children and exits
        return super().stop(sig)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("schemathesis"))
    try:
        running.wait_until_ready()
        yield running
    finally:
        running.stop()


def test_schemathesis_finds_nothing_against_the_local_stack(stack):
    env = {**os.environ, "LOCAL_ADMIN_KEY": stack.admin_key, "COMMERCE_API_URL": stack.api,
           "COMMERCE_STRIPE_URL": stack.stripe, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
               str(ROOT / "openapi.json"), "--url", stack.api, "--output-truncate", "false", "--no-color"]
    started = time.monotonic()
    try:
        answer = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"schemathesis did not finish within {RUN_TIMEOUT} s:\n{timeout.stdout}\nlog: {stack.log_path}")
    output = answer.stdout + answer.stderr
    summary = _summary(output)
    print(f"schemathesis: {summary} in {time.monotonic() - started:.0f} s")
    assert answer.returncode == 0, f"{summary}\n{output}\nAPI log: {stack.log_path}"
    assert summary["operations"] >= 20 and summary["generated"] > 0, output


def _summary(output: str) -> dict:
    """Operations tested, test cases generated and failures found, from the CLI's summary."""
    tested = re.search(r"Tested:\s+(\d+)", output)
    cases = re.search(r"(\d+) generated(?:, (\d+) found (\d+) unique failures?)?", output)
    return {"operations": int(tested.group(1)) if tested else 0,
            "generated": int(cases.group(1)) if cases else 0,
            "failures": int(cases.group(3)) if cases and cases.group(3) else 0}
