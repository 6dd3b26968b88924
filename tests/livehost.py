"""Start a real gunicorn on a database and settings of the test's choosing, and wait until
it answers: the race tests' server on the test database (tests/concurrency), the fault
tests' (tests/faults), the restore drill's restored copy, the two hosts of tests/multihost.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """A started gunicorn: ``port``, ``proc`` (the master), ``log_path``; ``get``, ``log``,
    ``stop``. Every test that serves the portal for real starts it through here.

    ``env`` is added to this process's environment. ``tls``: (certificate, key) to serve
    HTTPS. ``warm``: seconds to wait after the first answer, so every worker has imported
    the app before a burst meets it.
    """

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        *,
        target: str = "tests.concurrency.server:app",
        workers: int = 2,
        worker_class: str = "gthread",
        threads: int = 4,
        timeout: int = 120,
        tls: tuple[Path, Path] | None = None,
        warm: float = 0.0,
    ) -> None:
        if not GUNICORN.exists():
            pytest.fail("gunicorn is not installed in the environment")
        self.port = free_port()
        self.log_path = log
        args = [
            str(GUNICORN), "--workers", str(workers), "--worker-class", worker_class,
            "--bind", f"127.0.0.1:{self.port}", "--timeout", str(timeout),
            # gunicorn 27 opens a control socket at one path per user (~/.gunicorn): servers
            # started side by side (two hosts, fault tests) would take it from each other.
            "--no-control-socket",
        ]  # fmt: skip
        if worker_class == "gthread":
            args += ["--threads", str(threads)]
        self.context = None
        if tls is not None:
            args += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
            self.context = ssl.create_default_context(cafile=str(tls[0]))
            self.context.check_hostname = False
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [*args, target], cwd=ROOT, env={**os.environ, **env}, stdout=self._out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while self.get("/healthz")[0] != 200:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("gunicorn did not start: " + self.log()[-3000:])
            time.sleep(0.2)
        time.sleep(warm)

    def get(self, path: str) -> tuple[int, str]:
        """(status, body) of a GET, or (0, "") when nothing answers."""
        if self.context is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        else:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.port, timeout=30, context=self.context
            )
        try:
            conn.request("GET", path, headers={"Host": "127.0.0.1"})
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        except OSError:
            return 0, ""
        finally:
            conn.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 30 s); print the log if it holds a traceback."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if not self._out.closed:
            self._out.close()
            text = self.log()
            if "Traceback" in text:
                print(text)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log: Path, **options) -> Iterator[int]:
    """:class:`Gunicorn` for the length of a ``with``; yields the port."""
    server = Gunicorn(env, log, **options)
    try:
        yield server.port
    finally:
        server.stop()
