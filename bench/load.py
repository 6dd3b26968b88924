"""Mixed read/write load through the real forms, against gunicorn (4 workers) on loopback.

    .venv/bin/python bench/load.py [--seconds 300] [--clients 50] [--database sqlite]
        [--database postgresql://user@127.0.0.1:5432/empty_db] [--redis redis://…]
        [--max-requests N] [--workers 4] [--json]

50 clients (browsers) share 25 customers, two per customer, so that their profile edits
really collide. Each client signs in through the real forms (password, then the security
card's two half-codes), then loops over the dashboard, billing pages, notices, the profile
and profile edits (re-authenticating when the window has closed), signs out and in again
now and then, and now and then posts an edit with a version it knows is old. Each client
sends from its own loopback address (127.0.0.N): the server sees 50 different REMOTE_ADDRs,
as it would see 50 customers, so the per-IP sign-in limits are met as in real use.

Afterwards it checks, and exits 1 if any fails:
  * no 5xx answer, no request without an answer (reset, timeout), no "database is locked"
    in any answer or in the server's log, no traceback in the log;
  * every edit posted with a stale version was answered 409;
  * the database holds exactly the accepted edits: per customer, the accepted edits were
    made from versions 1..n (each version accepted once), the row is at version n + 1 with
    the values of the last accepted edit, and there are n ``profile_updated`` events.

It runs for at most ``--seconds`` and at most ``--max-requests`` requests, only against a
server it starts itself on 127.0.0.1. ``--database sqlite`` (the default) uses a new file
in a temporary folder; a PostgreSQL URL must name an EMPTY database (no customers): the
tool creates the tables if they are missing and refuses a database that holds customers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "Load-Portal-2026!"

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CHALLENGE_RE = re.compile(r'id="card-challenge" data-first-index="(\d+)" data-last-index="(\d+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
INVOICE_RE = re.compile(r'href="/billing/invoices/(\d+)"')
NOTICE_RE = re.compile(r'href="/notices/(\d+)"')
COOKIE_RE = re.compile(r"(?:__Host-)?portal_session=([^;]*)")
LOCKED = "database is locked"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the database: schema and seed data, through the portal's own services -----------------


@dataclass
class Seeded:
    login_id: str
    customer_id: int
    card_codes: list[str]


def _portal_app(env: dict):
    os.environ.update(env)
    from portal import create_app
    from portal.config import DevelopmentConfig

    return create_app(DevelopmentConfig())


def seed(env: dict, customers: int) -> list[Seeded]:
    """Create the tables if missing, then customers (card), an invoice each and notices."""
    from sqlalchemy import func, select

    app = _portal_app(env)
    from portal.auth.registration import register_customer
    from portal.billing.invoices import add_invoice
    from portal.customers.models import Customer
    from portal.customers.services import NewCustomer
    from portal.extensions import db
    from portal.policy.notices import post_notice

    seeded = []
    with app.app_context():
        db.create_all()
        if db.session.scalar(select(func.count()).select_from(Customer)):
            raise SystemExit("the database holds customers: give bench/load.py an empty one")
        for index in range(customers):
            login_id = f"load_{index:03d}"
            result = register_customer(
                NewCustomer(
                    login_id=login_id,
                    name="부하시험",
                    email=f"{login_id}@example.kr",
                    phone="010-1234-5678",
                    member_type="general",
                    customer_type="individual",
                    birth_date="1990-01-01",
                    postal_code="04524",
                    address="서울특별시 중구 세종대로 110",
                    username=f"부하{index}",
                    password=PASSWORD,
                    second_factor="card",
                    activated=True,
                )
            )
            add_invoice(result.customer, amount=16500, due=date.today() + timedelta(days=20))
            seeded.append(Seeded(login_id, result.customer.id, result.card_codes))
        for number in range(3):
            post_notice(title=f"부하 시험 공지 {number + 1}", body_md="점검 안내입니다.")
        db.session.commit()
        for engine in db.engines.values():
            engine.dispose()
    return seeded


def database_facts(env: dict) -> dict[int, dict]:
    """Per customer id: version, address, username and profile_updated events, as stored."""
    from sqlalchemy import func, select

    app = _portal_app(env)
    from portal.audit.models import SecurityEvent
    from portal.customers.models import Customer
    from portal.extensions import db

    with app.app_context():
        events = dict(
            db.session.execute(
                select(SecurityEvent.customer_id, func.count())
                .where(SecurityEvent.kind == "profile_updated")
                .group_by(SecurityEvent.customer_id)
            ).all()
        )
        facts = {
            row.id: {
                "version": row.version,
                "address": row.address,
                "username": row.username,
                "events": events.get(row.id, 0),
            }
            for row in db.session.scalars(select(Customer))
        }
        integrity = None
        if db.engine.dialect.name == "sqlite":
            integrity = db.session.execute(db.text("PRAGMA integrity_check")).scalar()
        for engine in db.engines.values():
            engine.dispose()
    return {"customers": facts, "integrity": integrity}


# --- the server ------------------------------------------------------------------------


class Server:
    """gunicorn (gthread) serving ``wsgi:app`` with the development config on 127.0.0.1."""

    def __init__(self, env: dict, log: Path, workers: int = 4, threads: int = 8) -> None:
        self.port = free_port()
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                BIN / "gunicorn",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                "gthread",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--graceful-timeout",
                "60",
                "--no-control-socket",  # one path per user: see bench/common.serve
                "wsgi:app",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SystemExit("gunicorn exited:\n" + log.read_text(errors="replace"))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("gunicorn did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.2)
        time.sleep(1.0)  # every worker imports the app; let them all get there

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


# --- the clients -----------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    location: str
    body: str


@dataclass
class Stats:
    """Shared by every client; one lock, held only to append."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # 5xx, no answer, "database is locked"
    accepted: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)
    stale_sent: int = 0
    stale_not_409: list[str] = field(default_factory=list)
    conflicts: int = 0
    sign_ins: int = 0
    requests: int = 0
    budget: int = 0  # requests left; the run stops at 0

    def take(self) -> bool:
        with self.lock:
            if self.budget <= 0:
                return False
            self.budget -= 1
            return True

    def record(self, method: str, path: str, status: int | None, seconds: float, body: str):
        with self.lock:
            self.requests += 1
            self.statuses[status if status is not None else "no answer"] += 1
            self.latencies.append(seconds)
            if status is None:
                self.failures.append(f"{method} {path}: no answer ({body})")
            elif status >= 500:
                self.failures.append(f"{method} {path}: {status} after {seconds:.1f} s")
            if LOCKED in body:
                self.failures.append(f"{method} {path}: {status} says {LOCKED!r}")


class Stop(Exception):
    """The run's time or request budget is spent."""


class Client:
    """One browser: its own source address, its session cookie, one customer."""

    def __init__(self, number: int, port: int, customer: Seeded, stats: Stats, deadline: float):
        self.number = number
        self.port = port
        # 127.0.0.1 is the server's; clients use 127.0.0.2 upwards (all loopback on Linux).
        self.source = f"127.0.{(number + 2) // 256}.{(number + 2) % 256}"
        self.customer = customer
        self.stats = stats
        self.deadline = deadline
        self.cookie: str | None = None
        self.rng = random.Random(number)
        self.seen_version = 0
        self.edits = 0

    # transport
    def request(self, method: str, path: str, data: dict | None = None) -> Reply:
        if time.monotonic() > self.deadline or not self.stats.take():
            raise Stop
        body = urlencode(data) if data is not None else None
        headers = {"Host": f"127.0.0.1:{self.port}", "Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = f"portal_session={self.cookie}"
        started = time.perf_counter()
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.source, 0)
        )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.stats.record(method, path, None, time.perf_counter() - started, repr(exc))
            raise Stop from exc
        finally:
            conn.close()
        self.stats.record(method, path, response.status, time.perf_counter() - started, text)
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                match = COOKIE_RE.match(value)
                if match:
                    self.cookie = match[1] or None
        return Reply(response.status, response.getheader("Location") or "", text)

    def csrf(self, path: str) -> tuple[str, Reply]:
        reply = self.request("GET", path)
        match = CSRF_RE.search(reply.body)
        return (match[1] if match else ""), reply

    # sign-in through the real forms
    def sign_in(self) -> bool:
        self.cookie = None
        token, _ = self.csrf("/login")
        reply = self.request(
            "POST",
            "/login",
            {"csrf_token": token, "login_id": self.customer.login_id, "password": PASSWORD},
        )
        if reply.status != 302 or not reply.location.endswith("/login/verify"):
            return False
        token, page = self.csrf("/login/verify")
        match = CHALLENGE_RE.search(page.body)
        if not match:
            return False
        first, last = int(match[1]), int(match[2])
        codes = self.customer.card_codes
        reply = self.request(
            "POST",
            "/login/verify",
            {
                "csrf_token": token,
                "code_first": codes[first - 1][:2],
                "code_last": codes[last - 1][2:],
                "challenge_first": first,
                "challenge_last": last,
            },
        )
        ok = reply.status == 302 and reply.location.endswith("/account")
        if ok:
            with self.stats.lock:
                self.stats.sign_ins += 1
        return ok

    def sign_out(self) -> None:
        token, _ = self.csrf("/account")
        self.request("POST", "/logout", {"csrf_token": token})
        self.cookie = None

    def reauth(self) -> None:
        token, _ = self.csrf("/reauth?next=/account/profile/edit")
        self.request(
            "POST",
            "/reauth",
            {"csrf_token": token, "password": PASSWORD, "next": "/account/profile/edit"},
        )

    # profile edits
    def edit_form(self) -> tuple[str, int] | None:
        for _ in range(2):
            reply = self.request("GET", "/account/profile/edit")
            if reply.status == 302 and "/reauth" in reply.location:
                self.reauth()
                continue
            if reply.status == 302 and "/login" in reply.location:
                return None
            token = CSRF_RE.search(reply.body)
            version = VERSION_RE.search(reply.body)
            if reply.status == 200 and token and version:
                self.seen_version = max(self.seen_version, int(version[1]))
                return token[1], int(version[1])
        return None

    def edit(self, *, stale: bool) -> None:
        form = self.edit_form()
        if form is None:
            return
        token, version = form
        if stale:
            if self.seen_version < 2:
                return
            # Versions only grow: one below a version this client has seen is stale for sure.
            version = self.seen_version - 1
        self.edits += 1
        address = f"서울특별시 중구 세종대로 {self.number}-{self.edits}"
        username = f"부하{self.number}-{self.edits}"
        reply = self.request(
            "POST",
            "/account/profile/edit",
            {
                "csrf_token": token,
                "version": version,
                "email": f"{self.customer.login_id}@example.kr",
                "phone": "010-1234-5678",
                "postal_code": "04524",
                "address": address,
                "address_detail": "",
                "username": username,
            },
        )
        with self.stats.lock:
            if stale:
                self.stats.stale_sent += 1
                if reply.status != 409:
                    self.stats.stale_not_409.append(
                        f"client {self.number}: version {version} → {reply.status}"
                    )
            if reply.status == 302 and reply.location.endswith("/account/profile"):
                self.stats.accepted.setdefault(self.customer.customer_id, []).append(
                    (version, address, username)
                )
                self.seen_version = max(self.seen_version, version + 1)
            elif reply.status == 409:
                self.stats.conflicts += 1

    def run(self) -> None:
        try:
            while not self.sign_in():
                time.sleep(1)  # e.g. the other browser of this customer drew the pair
            while True:
                roll = self.rng.random()
                if roll < 0.20:
                    self.request("GET", "/account")
                elif roll < 0.30:
                    self.request("GET", "/account/profile")
                elif roll < 0.45:
                    reply = self.request("GET", "/billing")
                    ids = INVOICE_RE.findall(reply.body)
                    if ids and self.rng.random() < 0.5:
                        self.request("GET", f"/billing/invoices/{self.rng.choice(ids)}")
                elif roll < 0.60:
                    reply = self.request("GET", "/notices")
                    ids = NOTICE_RE.findall(reply.body)
                    if ids:
                        self.request("GET", f"/notices/{self.rng.choice(ids)}")
                elif roll < 0.65:
                    self.request("GET", "/")
                elif roll < 0.90:
                    self.edit(stale=False)
                elif roll < 0.97:
                    self.edit(stale=True)
                else:
                    self.sign_out()
                    while not self.sign_in():
                        time.sleep(1)
                # A person reads the page before the next click; 50 of them, not 50 robots.
                time.sleep(self.rng.uniform(0.05, 0.3))
        except Stop:
            return


# --- the run ---------------------------------------------------------------------------


def _hangups(at: list[float], started: float):
    """``during``: SIGHUP the gunicorn master (a graceful reload: new workers, the old ones
    finish what they hold) at each of ``at`` seconds into the run."""

    def send(server: Server) -> None:
        for moment in at:
            time.sleep(max(0.0, started + moment - time.monotonic()))
            if server.proc.poll() is None:
                server.proc.send_signal(signal.SIGHUP)

    return send


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def check_database(stats: Stats, facts: dict) -> list[str]:
    """The rows hold exactly the accepted edits (see the module docstring)."""
    problems = []
    for customer_id, row in facts["customers"].items():
        accepted = sorted(stats.accepted.get(customer_id, []))
        versions = [item[0] for item in accepted]
        if versions != list(range(1, len(versions) + 1)):
            problems.append(f"customer {customer_id}: accepted from versions {versions}")
        if row["version"] != len(accepted) + 1:
            problems.append(
                f"customer {customer_id}: version {row['version']}, {len(accepted)} accepted"
            )
        if row["events"] != len(accepted):
            problems.append(
                f"customer {customer_id}: {row['events']} profile_updated, {len(accepted)} accepted"
            )
        if accepted:
            _, address, username = accepted[-1]
            if (row["address"], row["username"]) != (address, username):
                problems.append(
                    f"customer {customer_id}: holds {row['address']!r}/{row['username']!r},"
                    f" the last accepted edit was {address!r}/{username!r}"
                )
    if facts["integrity"] not in (None, "ok"):
        problems.append(f"integrity_check: {facts['integrity']}")
    return problems


def run(
    *,
    database: str = "sqlite",
    seconds: float = 300,
    clients: int = 50,
    max_requests: int = 1_000_000,
    workers: int = 4,
    redis: str | None = None,
    bcrypt_rounds: int = 4,
    workdir: Path | None = None,
    during=None,
    hup_after: list[float] | None = None,
) -> dict:
    """Seed, serve, load, check; return the summary (``problems`` empty when all held).

    ``during(server)`` (optional) runs in its own thread while the clients run: the fault
    tests use it to send the server a signal in the middle of the load.
    """
    from cryptography.fernet import Fernet

    if clients < 2 or clients > 250:
        raise SystemExit("--clients must be 2 to 250 (one loopback address each)")
    workdir = workdir or Path(tempfile.mkdtemp(prefix="portal-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'load.sqlite3'}" if database == "sqlite" else database
    if not url.startswith(("sqlite:", "postgres")):
        raise SystemExit("--database must be sqlite or a database URL")
    env = {
        "PORTAL_ENV": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "PORTAL_DATA_KEYS": Fernet.generate_key().decode(),
        "PORTAL_INSTANCE_PATH": str(workdir / "instance"),
        "BCRYPT_ROUNDS": str(bcrypt_rounds),
        "RATELIMIT_STORAGE_URI": redis or "memory://",
        "FLASK_APP": "wsgi",
    }
    customers = seed(env, max(1, clients // 2))
    server = Server(env, workdir / "gunicorn.log", workers=workers)
    stats = Stats(budget=max_requests)
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=Client(n, server.port, customers[n % len(customers)], stats, deadline).run
        )
        for n in range(clients)
    ]
    if hup_after:
        during = _hangups(sorted(hup_after), started)
    helper = threading.Thread(target=during, args=(server,)) if during else None
    try:
        for thread in threads:
            thread.start()
        if helper:
            helper.start()
        for thread in threads:
            thread.join()
        if helper:
            helper.join()
    finally:
        elapsed = time.monotonic() - started
        server.stop()
    log = server.log_text()
    problems = list(stats.failures)
    if LOCKED in log:
        problems.append(f"{LOCKED!r} in the server log")
    if "Traceback" in log:
        problems.append("a traceback in the server log:\n" + log[log.index("Traceback") :][:3000])
    problems += stats.stale_not_409
    facts = database_facts(env)
    problems += check_database(stats, facts)
    if hup_after:
        # gunicorn logs each one it handles: the reloads did happen, mid-run.
        handled = log.count("Handling signal: hup")
        if handled != len(hup_after):
            problems.append(f"{len(hup_after)} SIGHUP sent, gunicorn handled {handled}")
    if stats.sign_ins == 0:
        problems.append("no client signed in")
    return {
        "database": url.split(":", 1)[0].split("+", 1)[0],
        "seconds": round(elapsed, 1),
        "clients": clients,
        "requests": stats.requests,
        "per_second": round(stats.requests / elapsed, 1) if elapsed else 0,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items(), key=str)},
        "p50_ms": round(percentile(stats.latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(stats.latencies, 0.99) * 1000, 1),
        "max_ms": round(max(stats.latencies, default=0) * 1000, 1),
        "sign_ins": stats.sign_ins,
        "edits_accepted": sum(len(v) for v in stats.accepted.values()),
        "edits_conflicted": stats.conflicts,
        "stale_edits_sent": stats.stale_sent,
        "hangups": len(hup_after or []),
        "problems": problems,
        "server_log": str(server.log_path),
    }


def print_summary(summary: dict) -> None:
    print(
        f"[{summary['database']}] {summary['requests']} requests in {summary['seconds']} s"
        f" ({summary['per_second']}/s) from {summary['clients']} clients;"
        f" p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms"
    )
    print("  by status: " + ", ".join(f"{k}: {v}" for k, v in summary["statuses"].items()))
    print(
        f"  sign-ins {summary['sign_ins']}; edits accepted {summary['edits_accepted']},"
        f" conflicted (409) {summary['edits_conflicted']},"
        f" stale sent {summary['stale_edits_sent']} (each must be 409)"
    )
    if summary["problems"]:
        print(f"  FAILED ({len(summary['problems'])} problems):")
        for problem in summary["problems"][:30]:
            print("   - " + problem)
    else:
        print("  ok: no 5xx, nothing unanswered, no lock errors, the rows hold the accepted edits")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--database",
        action="append",
        help="sqlite (default), postgresql (the database portal_load on the local server,"
        " recreated) or an empty PostgreSQL database's URL; may be repeated",
    )
    parser.add_argument("--redis", help="rate-limit storage (redis://…); default memory://")
    parser.add_argument("--bcrypt-rounds", type=int, default=4)
    parser.add_argument("--workdir", type=Path, help="where the log (and SQLite file) go")
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")
    parser.add_argument(
        "--hup-after",
        type=float,
        action="append",
        help="send gunicorn a SIGHUP (graceful reload) this many seconds in; may be repeated",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.seconds > 3600:
        parser.error("--seconds must be above 0 and at most 3600")
    failed = False
    for database in args.database or ["sqlite"]:
        if database == "postgresql":
            # A database of the load's own on the local server, made empty for this run.
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from bench import common

            database = common.DEFAULT_PG.rsplit("/", 1)[0] + "/portal_load"
            common.recreate_database(database)
        summary = run(
            database=database,
            seconds=args.seconds,
            clients=args.clients,
            max_requests=args.max_requests,
            workers=args.workers,
            redis=args.redis,
            bcrypt_rounds=args.bcrypt_rounds,
            workdir=args.workdir,
            hup_after=args.hup_after,
        )
        if args.json:
            print(json.dumps(summary, ensure_ascii=False))
        else:
            print_summary(summary)
        failed = failed or bool(summary["problems"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
