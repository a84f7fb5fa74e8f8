"""`python -m devstack` as a child process on free ports: what the tests, the browser test and the
benchmark's load run start and stop.

    with LocalStack(outbox) as stack:       # waits for the `ready` line
        requests.get(f"{stack.api}/products")
"""

import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from devstack.processes import free_port
from devstack.stack import ROOT

PORTS = ("API_PORT", "MOTO_PORT", "STRIPE_PORT", "STOREFRONT_PORT", "ADMIN_PORT")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # If the parent is killed (a time limit), the stack gets SIGTERM and stops its own children.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalStack:
    """The local stack on free ports. `.api`, `.stripe`, `.storefront`, `.admin`, `.ports`, `.admin_key`;
    `.log` is everything it printed (also written to `log_path` when given)."""

    def __init__(self, outbox: str | Path, admin_key: str = "local-stack-admin-key", log_path: Path | None = None,
                 env: dict[str, str] | None = None, ready_timeout: float = 90.0):
        self.ports = {name: free_port() for name in PORTS}
        self.api = f"http://127.0.0.1:{self.ports['API_PORT']}"
        self.stripe = f"http://127.0.0.1:{self.ports['STRIPE_PORT']}"
        self.storefront = f"http://127.0.0.1:{self.ports['STOREFRONT_PORT']}"
        self.admin = f"http://127.0.0.1:{self.ports['ADMIN_PORT']}"
        self.outbox = Path(outbox)
        self.admin_key = admin_key
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.env = {**os.environ, **{name: str(port) for name, port in self.ports.items()},
                    "LOCAL_ADMIN_KEY": admin_key, "OUTBOX_DIR": str(outbox), "PYTHONUNBUFFERED": "1",
                    # No demo history unless asked: every item slows moto's queries and transactions.
                    "DEMO_ORDERS": "0", **(env or {})}
        # Settings the stack derives itself; a value left in the caller's environment would win.
        for name in ("AWS_ENDPOINT_URL", "TABLE_NAME", "STAGE", "CORS_ALLOW_ORIGIN", "STOREFRONT_URL", "ADMIN_ORIGIN"):
            if name not in (env or {}):
                self.env.pop(name, None)
        self.output: list[str] = []
        self.process: subprocess.Popen | None = None
        self._lines: queue.Queue = queue.Queue()

    @property
    def log(self) -> str:
        return "".join(self.output)

    def start(self) -> "LocalStack":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack"], cwd=ROOT, env=self.env, text=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        log = self.log_path.open("w") if self.log_path else None
        for line in self.process.stdout:
            self.output.append(line)
            if log:
                log.write(line)
                log.flush()
            self._lines.put(line)
        if log:
            log.close()
        self._lines.put(None)

    def wait_until_ready(self) -> float:
        """Seconds until the stack printed `ready`; RuntimeError with its output if it did not."""
        started = time.monotonic()
        while (left := self.ready_timeout - (time.monotonic() - started)) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise RuntimeError(f"devstack exited with {self.process.wait()} before ready:\n{self.log}")
            if line.strip() == "ready":
                return time.monotonic() - started
        raise RuntimeError(f"devstack not ready within {self.ready_timeout:.0f} s:\n{self.log}")

    def stop(self, sig: int = signal.SIGINT) -> int | None:
        """Stop it as Ctrl-C does (SIGKILL after 20 s); its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> "LocalStack":
        self.start()
        try:
            self.wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
