"""Start a real gunicorn on a database and settings of the test's choosing (the restore
drill's restored copy, the two hosts of tests/multihost), and wait until it answers.

tests/concurrency/conftest.py's ``live_server`` serves the test database itself; this is the
same, for any URL and any environment, HTTP or HTTPS.
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


def _answers(port: int, context: ssl.SSLContext | None) -> bool:
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    try:
        conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str],
    log: Path,
    *,
    target: str = "tests.concurrency.server:app",
    workers: int = 2,
    threads: int = 4,
    tls: tuple[Path, Path] | None = None,
) -> Iterator[int]:
    """Serve ``target`` with ``env`` added to this process's environment; yields the port.

    ``tls``: (certificate, key) to serve HTTPS. The log is printed when a traceback is in it.
    """
    if not GUNICORN.exists():
        pytest.fail("gunicorn is not installed in the environment")
    port = free_port()
    args = [
        str(GUNICORN),
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--bind", f"127.0.0.1:{port}", "--timeout", "120",
    ]  # fmt: skip
    context = None
    if tls is not None:
        args += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
        context = ssl.create_default_context(cafile=str(tls[0]))
        context.check_hostname = False
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*args, target], cwd=ROOT, env={**os.environ, **env}, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while not _answers(port, context):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start: " + log.read_text()[-3000:])
                time.sleep(0.2)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    text = log.read_text(errors="replace")
    if "Traceback" in text:
        print(text)
