"""Fixtures of the browser end-to-end test (`make e2e`): the local stack (`python -m devstack`) on free
ports with its own outbox, and Debian's Chromium driven by Playwright, headless, a fresh profile per test.

Playwright's own browser builds are never downloaded (`playwright install` is not used): the browser is
`$CHROMIUM`, default /usr/bin/chromium (`apt-get install chromium`; `make e2e` installs it when missing).
"""

import contextlib
import os
import sys
from pathlib import Path

import pytest

from devstack.launcher import LocalStack
from devstack.stack import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# As root in a container: no sandbox; and nothing that talks to Google's servers.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
READY_TIMEOUT = 60.0


class Stack(LocalStack):
    """`python -m devstack` on free ports: `.storefront`, `.api`, `.outbox`; `.stop()` is Ctrl-C."""

    def __init__(self, outbox: Path):
        # No demo history (LocalStack's default): the tests make their own orders.
        # A support user may refund at most €10 per refund (e2e/test_admin.py shows the API refusing more).
        super().__init__(outbox, admin_key="e2e-admin-key", ready_timeout=READY_TIMEOUT,
                         env={"SUPPORT_REFUND_LIMIT": "1000"})
        self.start()


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
