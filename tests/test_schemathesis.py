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
import queue
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devstack.processes import free_port

pytest.importorskip("schemathesis")

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tests" / "schemathesis.toml"
RUN_TIMEOUT = 420  # seconds; a run takes about 2.5 minutes on 2 cores


class Stack:
    """`python -m devstack` on free ports, until the fixture ends."""

    def __init__(self, tmp: Path):
        self.ports = {name: free_port() for name in ("API_PORT", "MOTO_PORT", "STRIPE_PORT", "STOREFRONT_PORT")}
        self.api = f"http://127.0.0.1:{self.ports['API_PORT']}"
        self.stripe = f"http://127.0.0.1:{self.ports['STRIPE_PORT']}"
        self.admin_key = secrets.token_urlsafe(16)
        self.log_path = tmp / "devstack.log"
        env = {**os.environ, **{name: str(port) for name, port in self.ports.items()},
               "LOCAL_ADMIN_KEY": self.admin_key, "OUTBOX_DIR": str(tmp / "outbox"), "PYTHONUNBUFFERED": "1"}
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "devstack"], cwd=ROOT, env=env, text=True,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._log.write(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_until_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail(f"devstack exited with {self.process.wait()} before ready; see {self.log_path}")
            if line.strip() == "ready":
                return
        pytest.fail(f"devstack not ready within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: devstack stops its children and exits
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


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
