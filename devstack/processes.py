"""Child servers of the local stack (moto, localstripe): started on loopback, waited for, stopped.

Children run in their own process group, so a Ctrl-C in the terminal reaches only the parent, which
then stops them in order. On Linux they also get SIGTERM if the parent dies without cleaning up
(killed with SIGKILL, say), so no orphan keeps a port busy.
"""

import contextlib
import socket
import subprocess
import sys
import time

from devstack.stack import ROOT

HOST = "127.0.0.1"


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port (a socket in TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port the OS considers free right now (tests use it to avoid clashing with `make run`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class Child:
    """A Python module run as a server on a loopback port: `Child("devstack.motoserver", 5000)`."""

    def __init__(self, module: str, port: int, name: str | None = None):
        self.module, self.port, self.name = module, port, name or module
        self.url = f"http://{HOST}:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Child":
        # stdout carries only the children's start-up banners; stderr (their errors) is inherited.
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "--host", HOST, "--port", str(self.port)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, process_group=0,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        return self

    def wait_until_listening(self, timeout: float = 30.0) -> None:
        """Block until the port accepts connections. Raises RuntimeError if the child exits first or
        the timeout passes."""
        deadline = time.monotonic() + timeout
        while True:
            if self.exit_code is not None:
                raise RuntimeError(f"{self.name} exited with code {self.exit_code} before listening on {self.url}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), timeout=0.5):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not listen on {self.url} within {timeout:.0f} s")
            time.sleep(0.05)

    @property
    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds. Idempotent."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
