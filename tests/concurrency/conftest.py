"""A real gunicorn (4 workers × 8 threads) on the test database, and a way to fire requests
at it all at once, each from its own client address.

On Linux every 127.x.y.z is loopback: a burst binds each connection's source address to a
different 127.0.0.N (N = 2, 3, …; the test's own set-up requests come from 127.0.0.1), so the
server sees as many REMOTE_ADDRs as requests — as it would see a botnet, or many customers.
The per-IP limits (10 sign-in POSTs a minute) then never stop a burst, and only the
per-account counters decide: a per-account bug cannot hide behind the per-IP limit.
"""

from __future__ import annotations

import http.client
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from portal.config import format_hash_peppers
from tests.conftest import CHALLENGE_RE, CSRF_RE
from tests.livehost import gunicorn

COOKIE_RE = re.compile(r"^\s*([^=;\s]+)=([^;]*)")
BOUNDARY = "race-test-boundary-7f3a"


@dataclass
class Reply:
    status: int
    location: str
    body: str
    cookies: dict[str, str]

    @property
    def cookie(self) -> str | None:
        return self.cookies.get("portal_session")


def client_address(index: int) -> str:
    """The loopback address of the ``index``-th request of a burst (127.0.0.2 upwards)."""
    return f"127.0.{(index + 2) // 256}.{(index + 2) % 256}"


def _encode(data: dict | None) -> tuple[bytes | None, dict]:
    """A form as a request body: url-encoded, or multipart when a value is a file
    (a ``(filename, bytes)`` tuple)."""
    if data is None:
        return None, {}
    if not any(isinstance(value, tuple) for value in data.values()):
        return urlencode(data).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    parts = []
    for name, value in data.items():
        if isinstance(value, tuple):
            filename, content = value
            head = (
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            )
            parts.append(f"--{BOUNDARY}\r\n{head}".encode() + content + b"\r\n")
        else:
            head = f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
            parts.append(f"--{BOUNDARY}\r\n{head}{value}\r\n".encode())
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


class Browser:
    """One browser: its cookies (customer session, staff session), talking to the live
    server from 127.0.0.1 unless a burst spreads its requests over many addresses."""

    def __init__(self, port: int, address: str = "127.0.0.1") -> None:
        self.port = port
        self.address = address
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str | None:
        return self.cookies.get("portal_session")

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def send(self, conn, method: str, path: str, data: dict | None = None) -> Reply:
        body, extra = _encode(data)
        conn.request(method, path, body=body, headers=self._headers(extra))
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        cookies = {}
        for header, value in response.getheaders():
            match = header.lower() == "set-cookie" and COOKIE_RE.match(value)
            if match:
                cookies[match[1]] = match[2]
        return Reply(response.status, response.getheader("Location") or "", text, cookies)

    def request(self, method: str, path: str, data: dict | None = None) -> Reply:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.address, 0)
        )
        try:
            reply = self.send(conn, method, path, data)
        finally:
            conn.close()
        for name, value in reply.cookies.items():
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return reply

    def copy(self) -> Browser:
        """Another browser holding this one's cookies (a stolen or replayed session)."""
        twin = Browser(self.port, self.address)
        twin.cookies = dict(self.cookies)
        return twin

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

    def all_at_once(
        self, method: str, path: str, forms: list[dict], *, browsers: list[Browser] | None = None
    ) -> list[Reply]:
        """Send one request per form, in parallel, each from its own client address
        (:func:`client_address`), with this browser's cookies (or those of ``browsers[i]``);
        the connections are open before a barrier releases every request together."""
        barrier = threading.Barrier(len(forms))
        replies: list[Reply | BaseException | None] = [None] * len(forms)
        senders = browsers or [self] * len(forms)

        def fire(index: int, form: dict) -> None:
            conn = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=120, source_address=(client_address(index), 0)
            )
            try:
                conn.connect()
                barrier.wait(timeout=30)
                replies[index] = senders[index].send(conn, method, path, form)
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


def server_env(config, tmp_path: Path) -> dict[str, str]:
    """The environment of a gunicorn serving the test database with the test's secrets."""
    return {
        "DATABASE_URL": config.SQLALCHEMY_DATABASE_URI,
        "SECRET_KEY": config.SECRET_KEY,
        "PORTAL_DATA_KEYS": ",".join(config.PORTAL_DATA_KEYS),
        "PORTAL_HASH_PEPPERS": format_hash_peppers(config.PORTAL_HASH_PEPPERS),
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "BCRYPT_ROUNDS": str(config.BCRYPT_ROUNDS),
    }


@pytest.fixture
def live_server(app, config, tmp_path):
    """gunicorn (4 workers × 8 threads) serving the test database with the test's secrets;
    every worker up and warm before the test's burst."""
    with gunicorn(
        server_env(config, tmp_path), tmp_path / "gunicorn.log", workers=4, threads=8, warm=1.0
    ) as port:
        yield port


@pytest.fixture
def browser(live_server) -> Browser:
    return Browser(live_server)
