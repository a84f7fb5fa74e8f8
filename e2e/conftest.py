"""Fixtures of the browser end-to-end test (`make e2e`): the local stack (`python -m devstack`) on free
ports with its own outbox, and Debian's Chromium driven by Playwright, headless, a fresh profile per test.

Playwright's own browser builds are never downloaded (`playwright install` is not used): the browser is
`$CHROMIUM`, default /usr/bin/chromium (`apt-get install chromium`; `make e2e` installs it when missing).
"""

import contextlib
import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devstack.processes import free_port
from devstack.stack import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# As root in a container: no sandbox; and nothing that talks to Google's servers.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
READY_TIMEOUT = 60.0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # If pytest is killed (make e2e's time limit), the stack gets SIGTERM and stops its own children.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Stack:
    """`python -m devstack` on free ports: `.storefront`, `.api`, `.outbox`; `.stop()` is Ctrl-C."""

    def __init__(self, outbox: Path):
        self.ports = {name: free_port() for name in ("API_PORT", "MOTO_PORT", "STRIPE_PORT", "STOREFRONT_PORT")}
        self.api = f"http://127.0.0.1:{self.ports['API_PORT']}"
        self.storefront = f"http://127.0.0.1:{self.ports['STOREFRONT_PORT']}"
        self.outbox = outbox
        env = {**os.environ, **{name: str(port) for name, port in self.ports.items()},
               "OUTBOX_DIR": str(outbox), "PYTHONUNBUFFERED": "1", "LOCAL_ADMIN_KEY": "e2e-admin-key"}
        for name in ("CORS_ALLOW_ORIGIN", "STOREFRONT_URL"):
            env.pop(name, None)  # devstack derives both from STOREFRONT_PORT
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack"], cwd=ROOT, env=env, text=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        self.output: list[str] = []
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    @property
    def log(self) -> str:
        return "".join(self.output)

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise RuntimeError(f"devstack exited with {self.process.wait()} before ready:\n{self.log}")
            if line.strip() == "ready":
                return
        raise RuntimeError(f"devstack not ready within {READY_TIMEOUT:.0f} s:\n{self.log}")

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("outbox"))
    try:
        running.wait_until_ready()
        yield running
    finally:
        code = running.stop()
        if code not in (0, None):
            print(f"devstack stopped with exit code {code}:\n{running.log}", file=sys.stderr)


@pytest.fixture(scope="session")
def playwright():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium (make e2e does)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)
    with sync_playwright() as running:
        yield running


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report


class Browser:
    """One page in a fresh Chromium profile; JavaScript errors and failed requests are recorded."""

    def __init__(self, context):
        self.context = context
        self.page = context.pages[0] if context.pages else context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))


@pytest.fixture
def browser(request, playwright, tmp_path):
    viewport = getattr(request, "param", None) or {"width": 1280, "height": 800}
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        viewport=viewport, locale="en-US", timezone_id="Europe/Berlin")
    opened = Browser(context)
    try:
        yield opened
        assert not opened.errors, f"JavaScript errors in the page: {opened.errors}"
    finally:
        if getattr(request.node, "failed_call", False):
            ARTIFACTS.mkdir(exist_ok=True)
            with contextlib.suppress(Exception):
                opened.page.screenshot(path=str(ARTIFACTS / f"failure-{request.node.name}.png"), full_page=True)
            print("browser console:\n  " + "\n  ".join(opened.console), file=sys.stderr)
        context.close()
