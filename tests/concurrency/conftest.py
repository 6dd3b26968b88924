"""A real gunicorn (4 workers × 8 threads) on the test database, and a way to fire requests
at it all at once."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from portal.config import format_hash_peppers
from tests.conftest import CHALLENGE_RE, CSRF_RE, ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"
COOKIE_RE = re.compile(r"portal_session=([^;]+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Reply:
    status: int
    location: str
    body: str
    cookie: str | None


class Browser:
    """One browser: its session cookie, talking to the live server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie: str | None = None

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookie:
            headers["Cookie"] = f"portal_session={self.cookie}"
        headers.update(extra or {})
        return headers

    def send(self, conn, method: str, path: str, data: dict | None = None) -> Reply:
        body = urlencode(data) if data is not None else None
        extra = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, path, body=body, headers=self._headers(extra))
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        match = COOKIE_RE.search(response.getheader("Set-Cookie") or "")
        return Reply(
            response.status, response.getheader("Location") or "", text, match and match[1]
        )

    def request(self, method: str, path: str, data: dict | None = None) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            reply = self.send(conn, method, path, data)
        finally:
            conn.close()
        if reply.cookie:
            self.cookie = reply.cookie
        return reply

    def token(self, path: str) -> tuple[str, str]:
        """GET ``path``; return its CSRF token and HTML."""
        reply = self.request("GET", path)
        assert reply.status == 200, (path, reply.status, reply.location)
        match = CSRF_RE.search(reply.body)
        assert match, f"no csrf_token on {path}"
        return match[1], reply.body

    def step_one(self, login_id: str, password: str) -> Reply:
        token, _ = self.token("/login")
        return self.request(
            "POST", "/login", {"csrf_token": token, "login_id": login_id, "password": password}
        )

    def challenge(self) -> tuple[str, int, int]:
        token, html = self.token("/login/verify")
        match = CHALLENGE_RE.search(html)
        assert match, "no card challenge"
        return token, int(match[1]), int(match[2])

    def all_at_once(self, method: str, path: str, forms: list[dict]) -> list[Reply]:
        """Send one request per form, in parallel, with this browser's cookie; the
        connections are open before a barrier releases every request together."""
        barrier = threading.Barrier(len(forms))
        replies: list[Reply | BaseException | None] = [None] * len(forms)

        def fire(index: int, form: dict) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                conn.connect()
                barrier.wait(timeout=30)
                replies[index] = self.send(conn, method, path, form)
            except BaseException as exc:  # reported below, with the others
                replies[index] = exc
            finally:
                conn.close()

        threads = [threading.Thread(target=fire, args=item) for item in enumerate(forms)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        errors = [r for r in replies if not isinstance(r, Reply)]
        assert not errors, errors
        return replies  # type: ignore[return-value]


@pytest.fixture
def live_server(app, config, tmp_path):
    """gunicorn serving the test database with the test's own secrets."""
    if not GUNICORN.exists():
        pytest.fail("gunicorn is not installed in the environment")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": config.SQLALCHEMY_DATABASE_URI,
        "SECRET_KEY": config.SECRET_KEY,
        "PORTAL_DATA_KEYS": ",".join(config.PORTAL_DATA_KEYS),
        "PORTAL_HASH_PEPPERS": format_hash_peppers(config.PORTAL_HASH_PEPPERS),
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "BCRYPT_ROUNDS": str(config.BCRYPT_ROUNDS),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            GUNICORN,
            "--workers",
            "4",
            "--threads",
            "8",
            "--worker-class",
            "gthread",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "tests.concurrency.server:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail((tmp_path / "gunicorn.log").read_text())
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            finally:
                conn.close()
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text())
            time.sleep(0.2)
        # Every worker up (each imports the app): warm them so the burst meets them ready.
        time.sleep(1.0)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        errors = (tmp_path / "gunicorn.log").read_text(errors="replace")
        if "Traceback" in errors:
            print(errors)


@pytest.fixture
def browser(live_server) -> Browser:
    return Browser(live_server)
