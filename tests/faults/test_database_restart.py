"""PostgreSQL restarted under load (issue #16, faults): clean 503s while it is away, and the
portal recovers by itself, without restarting gunicorn.

A throwaway PostgreSQL instance (initdb into a temporary directory, its own port and socket
directory) serves gunicorn with the production configuration over HTTPS; threads load
public and signed-in pages; the instance is stopped (``pg_ctl stop -m fast``: every
connection is terminated, as in a restart) and started again. The machine's own PostgreSQL
is never touched. Skipped when the PostgreSQL server binaries are missing, unless
``REQUIRE_POSTGRES=1`` (CI), which makes that a failure.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import pwd
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet

from tests.conftest import CHALLENGE_RE, CSRF_RE, REQUIRE_POSTGRES, ROOT
from tests.livehost import Gunicorn, free_port
from tests.security.live import self_signed as _self_signed

FLASK = Path(sys.executable).parent / "flask"
COOKIE_RE = re.compile(r"__Host-portal_session=([^;]+)")
TITLE_KO = "서비스를 잠시 이용할 수 없습니다"
PAGES = ["/account", "/", "/notices", "/healthz", "/account/security"]


def _server_binaries() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    for directory in reversed(candidates):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


class Instance:
    """A PostgreSQL cluster of our own: initdb, pg_ctl start and stop."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        # initdb refuses to run as root: the cluster then belongs to the postgres user.
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, timeout: int = 60) -> subprocess.CompletedProcess:
        command = [str(self.binaries / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{args[0]}: {done.stdout}{done.stderr}"
        return done

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "start")  # fmt: skip

    def stop(self) -> None:
        # fast: every session is terminated at once, as by a restart or a failover.
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        # Whatever state the test left it in: stopping a stopped server just fails quietly.
        stop = [str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w"]
        runner = ["runuser", "-u", self.user, "--"] if self.user else []
        if self.data.exists():
            subprocess.run([*runner, *stop, "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def instance():
    binaries = _server_binaries()
    if binaries is None:
        if REQUIRE_POSTGRES:
            pytest.fail("REQUIRE_POSTGRES=1 but the PostgreSQL server binaries are missing")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.fail("running as root needs runuser to start PostgreSQL as its own user")
    pg = Instance(binaries)
    try:
        pg.init()
        pg.start()
        import psycopg

        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE portal")
        yield pg
    finally:
        pg.remove()


@dataclass
class Reply:
    status: int
    headers: dict
    body: str


class Browser:
    """One browser over HTTPS; the session cookie is kept by hand (it is __Host-, Secure)."""

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        self.port, self.context = port, context
        self.cookie: str | None = None

    def request(self, method: str, path: str, form: dict | None = None) -> Reply:
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=30)
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookie:
            headers["Cookie"] = f"__Host-portal_session={self.cookie}"
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"https://127.0.0.1:{self.port}{path}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            reply = Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read().decode("utf-8", "replace"),
            )
            cookies = response.headers.get_all("Set-Cookie") or []
        finally:
            conn.close()
        for cookie in cookies:
            match = COOKIE_RE.search(cookie)
            if match:
                self.cookie = match[1]
        return reply

    def token(self, path: str) -> str:
        reply = self.request("GET", path)
        assert reply.status == 200, (path, reply.status)
        return CSRF_RE.search(reply.body)[1]


@pytest.fixture
def portal(instance, tmp_path):
    """gunicorn (3 workers, production configuration, HTTPS) on the throwaway instance."""
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": "f" * 48,
        "PORTAL_DATA_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": instance.url("portal"),
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "BCRYPT_ROUNDS": "4",
        "PORTAL_TRUSTED_HOSTS": "127.0.0.1",
        "FLASK_APP": "wsgi",
    }
    # Rate limits are not what this test is about: memory:// with the operator's flag keeps
    # its sign-ins out of the counters the Redis tests share (TEST_REDIS_URL).
    env.update(RATELIMIT_STORAGE_URI="memory://", PORTAL_SINGLE_PROCESS="1")
    subprocess.run([FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    created = subprocess.run(
        [FLASK, "customers", "create", "--login-id", "fault_user", "--name", "장애시험",
         "--email", "fault@example.kr", "--phone", "010-3456-7890", "--postal-code", "04524",
         "--address", "서울 중구", "--password", "Fault-Portal-2026!", "--activated", "--json"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    codes = json.loads(created.stdout)["security_card"]["codes"]
    cert, key = _self_signed(tmp_path)
    server = Gunicorn(
        env,
        tmp_path / "gunicorn.log",
        target="wsgi:app",
        workers=3,
        worker_class="sync",
        timeout=60,
        tls=(cert, key),
    )
    try:
        yield server.proc, server.port, server.context, codes
    finally:
        server.stop()


def _workers(master: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def _sign_in(browser: Browser, codes: list[str]) -> None:
    token = browser.token("/login")
    reply = browser.request(
        "POST",
        "/login",
        {"csrf_token": token, "login_id": "fault_user", "password": "Fault-Portal-2026!"},
    )
    assert reply.status == 302, reply.body[:300]
    html = browser.request("GET", "/login/verify").body
    first, last = (int(n) for n in CHALLENGE_RE.search(html).groups())
    reply = browser.request(
        "POST",
        "/login/verify",
        {
            "csrf_token": CSRF_RE.search(html)[1],
            "code_first": codes[first - 1][:2],
            "code_last": codes[last - 1][2:],
        },
    )
    assert reply.status == 302 and reply.headers["location"] == "/account", reply.status


def _assert_clean_503(reply: Reply, path: str) -> None:
    if path == "/healthz":  # the load balancer's probe: its own plain-text answer
        assert reply.body == "database unavailable"
        return
    # 5 s from the error page; a rate-limited form's limiter may put its own window there.
    assert reply.headers.get("retry-after", "").isdigit(), (path, reply.headers)
    assert TITLE_KO in reply.body, (path, reply.body[:500])
    assert re.search(r'class="reference-id">[0-9a-f]{16}<', reply.body), path
    assert "content-security-policy" in reply.headers


def test_database_restart_under_load_fails_cleanly_and_recovers(instance, portal):
    proc, port, context, codes = portal
    browser = Browser(port, context)
    _sign_in(browser, codes)
    assert browser.request("GET", "/account").status == 200
    workers_before = _workers(proc.pid)
    assert len(workers_before) == 3

    phase = ["before"]
    replies: list[tuple[str, str, Reply]] = []
    failures: list[BaseException] = []
    stop = threading.Event()
    gate = threading.Event()  # cleared: the threads pause between requests
    gate.set()

    def drive(offset: int) -> None:
        # Each thread its own connection per request, with the signed-in cookie.
        mine = Browser(port, context)
        mine.cookie = browser.cookie
        n = offset
        while not stop.is_set():
            if not gate.wait(timeout=30):
                return
            path = PAGES[n % len(PAGES)]
            n += 1
            began = phase[0]
            try:
                reply = mine.request("GET", path)
                # A request that spans a change of phase belongs to neither.
                replies.append((began if phase[0] == began else "between", path, reply))
            except BaseException as exc:
                failures.append(exc)
                return

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        anonymous = Browser(port, context)
        token = anonymous.token("/login")  # a form opened before the outage, sent during it
        phase[0] = "stopping"
        instance.stop()
        phase[0] = "outage"
        time.sleep(2.5)
        posted = anonymous.request(
            "POST",
            "/login",
            {"csrf_token": token, "login_id": "fault_user", "password": "Wrong-Password-1"},
        )
        phase[0] = "starting"
        instance.start()
        phase[0] = "after"
        time.sleep(2.5)
        # A restart between two requests: every worker's pooled connections are dead, and
        # no ping finds them; the first statement does, and the read is served again.
        gate.clear()
        time.sleep(0.5)
        phase[0] = "quick restart"
        instance.stop()
        instance.start()
        phase[0] = "after quick restart"
        gate.set()
        time.sleep(2)
    finally:
        gate.set()
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not failures, failures

    statuses = Counter((p, path, r.status) for p, path, r in replies)
    by_phase = {
        name: [r for p, _, r in replies if p == name]
        for name in ("before", "after", "after quick restart")
    }
    # Never a 500, never a stack trace, whatever the moment.
    for _, path, reply in replies:
        assert reply.status in (200, 503), (path, reply.status, reply.body[:300], statuses)
        assert "Traceback" not in reply.body and "psycopg" not in reply.body, path
        if reply.status == 503:
            _assert_clean_503(reply, path)
    before = [(path, r.status, r.body[-300:]) for p, path, r in replies if p == "before"]
    assert before and all(status == 200 for _, status, _ in before), [
        b for b in before if b[1] != 200
    ]
    # While the database was away, pages that need it answered 503 with the clean page.
    outage = [(path, r) for p, path, r in replies if p == "outage"]
    assert outage, statuses
    assert any(r.status == 503 for path, r in outage if path == "/account"), statuses
    assert all(r.status == 503 for path, r in outage if path == "/healthz"), statuses
    assert posted.status == 503
    _assert_clean_503(posted, "/login")
    # Back without restarting anything: every request after the restart succeeded, the
    # signed-in session included, on the same gunicorn workers.
    assert len(by_phase["after"]) >= 5, statuses
    assert all(r.status == 200 for r in by_phase["after"]), statuses
    assert len(by_phase["after quick restart"]) >= 5, statuses
    assert all(r.status == 200 for r in by_phase["after quick restart"]), statuses
    assert proc.poll() is None and _workers(proc.pid) == workers_before
    assert "장애시험" in browser.request("GET", "/account").body
