"""The black-box harness: the portal in production configuration behind a real gunicorn over
HTTPS (a throwaway self-signed certificate), and a small browser that talks to it.

Everything here goes through the wire: real TLS, real cookies (``__Host-`` names, ``Secure``),
real forms with their CSRF tokens and a same-origin ``Referer`` (Flask-WTF's strict check over
HTTPS). Each :class:`Browser` speaks from its own loopback address (any ``127.x.y.z`` is
loopback on Linux), so per-address limits behave as they would for separate people and one
test's sign-ins never spend another's allowance.
"""

from __future__ import annotations

import datetime as dt
import http.client
import itertools
import json
import os
import random
import re
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyotp
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.livehost import GUNICORN, free_port

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CHALLENGE_RE = re.compile(r'id="card-challenge" data-first-index="(\d+)" data-last-index="(\d+)"')
SESSION_COOKIE = "__Host-portal_session"
STAFF_COOKIE = "__Host-portal_staff"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 valid for an hour, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# A different /8-loopback source address per browser; randomised per run so that rate-limit
# counters a previous run left in a shared Redis never meet this run's addresses.
_addresses = itertools.count(random.randrange(1, 200) * 60_000)


def _next_address() -> str:
    n = next(_addresses) % (250 * 250 * 250)
    return f"127.{1 + n // 62_500 % 250}.{1 + n // 250 % 250}.{1 + n % 250}"


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str
    raw: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def set_cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []

    def csrf(self) -> str:
        match = CSRF_RE.search(self.body)
        assert match, f"no csrf_token in a {self.status} page"
        return match[1]


@dataclass
class Browser:
    """A browser with a cookie jar and its own source address, on one live server."""

    server: LiveServer
    address: str = field(default_factory=_next_address)
    cookies: dict[str, str] = field(default_factory=dict)

    def connection(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            "127.0.0.1",
            self.server.port,
            context=self.server.tls,
            timeout=30,
            source_address=(self.address, 0),
        )

    def _remember(self, reply: Reply) -> None:
        for line in reply.set_cookies:
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                gone = morsel["max-age"] == "0" or (
                    morsel["expires"] and "1970" in morsel["expires"]
                )
                if gone or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        cookies: bool = True,
    ) -> Reply:
        """Send one request exactly as given (no redirect is followed)."""
        sent = {"Host": self.server.host}
        if cookies and self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            reply = Reply(response.status, response.headers, raw.decode("utf-8", "replace"), raw)
        finally:
            conn.close()
        self._remember(reply)
        return reply

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(
        self,
        path: str,
        data: dict | list[tuple[str, str]],
        *,
        referer: str | None = "same-origin",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """POST a urlencoded form; with a same-origin ``Referer`` unless told otherwise."""
        sent = {"Content-Type": "application/x-www-form-urlencoded"}
        if referer == "same-origin":
            sent["Referer"] = self.server.base + path
        elif referer is not None:
            sent["Referer"] = referer
        sent.update(headers or {})
        return self.request("POST", path, body=urlencode(data), headers=sent)

    def submit(self, path: str, data: dict, *, page: str | None = None) -> Reply:
        """Fill in the form on ``page`` (default: ``path``) and send it with its CSRF token."""
        form = self.get(page or path)
        assert form.status == 200, (page or path, form.status, form.location)
        return self.post(path, {"csrf_token": form.csrf(), **data})

    # -- customers -------------------------------------------------------------------------

    def password_step(self, account: dict, password: str | None = None) -> Reply:
        return self.submit(
            "/login",
            {"login_id": account["login_id"], "password": password or account["password"]},
        )

    def card_step(self, account: dict, *, wrong: bool = False) -> Reply:
        page = self.get("/login/verify")
        assert page.status == 200, (page.status, page.location)
        first, last = map(int, CHALLENGE_RE.search(page.body).groups())
        codes = account["card_codes"]
        answer_first, answer_last = codes[first - 1][:2], codes[last - 1][2:]
        if wrong:
            answer_last = f"{(int(answer_last) + 1) % 100:02d}"
        return self.post(
            "/login/verify",
            {"csrf_token": page.csrf(), "code_first": answer_first, "code_last": answer_last},
        )

    def otp_step(self, account: dict, code: str | None = None) -> Reply:
        code = code or pyotp.TOTP(account["otp_secret"]).now()
        return self.submit("/login/verify", {"otp": code})

    def sign_in(self, account: dict) -> Reply:
        """Password, then the account's second factor; asserts it reaches ``/account``."""
        first = self.password_step(account)
        assert first.status == 302 and first.location == "/login/verify", (
            first.status,
            first.location,
        )
        second = self.card_step(account) if account.get("card_codes") else self.otp_step(account)
        assert second.status == 302 and urlsplit(second.location).path == "/account", (
            second.status,
            second.location,
        )
        return second

    # -- staff -----------------------------------------------------------------------------

    def staff_sign_in(self, staff: dict) -> Reply:
        first = self.submit(
            "/admin/login", {"login_id": staff["login_id"], "password": staff["password"]}
        )
        assert first.status == 302, (first.status, first.location)
        second = self.submit("/admin/login/verify", {"otp": pyotp.TOTP(staff["otp_secret"]).now()})
        assert second.status == 302, (second.status, second.location)
        return second


class LiveServer:
    """gunicorn over HTTPS with ``PORTAL_ENV=production`` on its own SQLite database."""

    def __init__(self, directory: Path, *, redis_url: str | None, workers: int = 2) -> None:
        self.directory = directory
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.base = f"https://{self.host}"
        cert, key = self_signed(directory)
        self.tls = ssl.create_default_context(cafile=str(cert))
        self.tls.check_hostname = False
        self.env = {
            **os.environ,
            "PORTAL_ENV": "production",
            "SECRET_KEY": Fernet.generate_key().decode() + "x" * 8,
            "PORTAL_DATA_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": f"sqlite:///{directory / 'portal.sqlite3'}",
            "PORTAL_INSTANCE_PATH": str(directory / "instance"),
            "BCRYPT_ROUNDS": "4",
            "PORTAL_TRUSTED_HOSTS": "127.0.0.1",
            "FLASK_APP": "wsgi",
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("PORTAL_SINGLE_PROCESS", None)
        if redis_url:
            # As production runs: several workers sharing their rate-limit counters in Redis.
            self.env["RATELIMIT_STORAGE_URI"] = redis_url
        else:
            self.env.update(RATELIMIT_STORAGE_URI="memory://", PORTAL_SINGLE_PROCESS="1")
            workers = 1  # memory:// limits are only honest in one process
        self.workers = workers
        self.cert, self.key = cert, key
        self.process: subprocess.Popen | None = None
        self.log = directory / "gunicorn.log"

    def seed(self, count: int) -> dict:
        """Make ``count`` card and OTP customers and one staff member per role (JSON)."""
        seeded = subprocess.run(
            [sys.executable, "-m", "tests.security.seed", str(count)],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(seeded.stdout)

    def start(self, accounts: int = 20) -> dict:
        subprocess.run(
            [FLASK, "db", "upgrade"], cwd=ROOT, env=self.env, check=True, capture_output=True
        )
        seeded = self.seed(accounts)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    GUNICORN,
                    "--no-control-socket",  # see tests/livehost.Gunicorn
                    "--certfile",
                    str(self.cert),
                    "--keyfile",
                    str(self.key),
                    "-w",
                    str(self.workers),
                    "-b",
                    self.host,
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 40
        while True:
            try:
                if Browser(self, address="127.0.0.1").get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("gunicorn did not start: " + self.log_text()[-2000:])
            time.sleep(0.2)
        return seeded

    def log_text(self) -> str:
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """Run a ``flask`` command against the server's own database and keys."""
        return subprocess.run(
            [FLASK, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
