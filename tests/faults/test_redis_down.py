"""Redis (the shared rate-limit storage) goes down under a live gunicorn with 2 workers.

What REFERENCE.md promises: /healthz stays 200 and says "degraded"; the limits fall back to
each worker's memory (limited still, N workers letting up to N times the limit through);
sign-in keeps working, and the account lockout, counted in the database, holds exactly.
When Redis answers again, /healthz says "ok". The Redis here is the test's own, on a free
port; the shared one is never touched.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.audit.models import SecurityEvent
from portal.customers.models import Customer
from tests.concurrency.conftest import Browser
from tests.faults._live import Gunicorn
from tests.livehost import free_port

REDIS_SERVER = shutil.which("redis-server")
DEGRADED = "degraded: rate-limit storage unavailable (limits per worker)"
WORKERS = 2


class OwnRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _sign_in(browser: Browser, customer) -> int:
    reply = browser.step_one(customer.login_id, customer.password)
    if reply.status != 302:
        return reply.status
    token, first, last = browser.challenge()
    code_first, code_last = customer.card_answer(first, last)
    reply = browser.request(
        "POST",
        "/login/verify",
        {"csrf_token": token, "code_first": code_first, "code_last": code_last},
    )
    assert reply.location == "/account", (reply.status, reply.body[:300])
    return reply.status


def _wrong_password(browser: Browser, login_id: str):
    token, _ = browser.token("/login")
    return browser.request(
        "POST", "/login", {"csrf_token": token, "login_id": login_id, "password": "Wrong-1234!"}
    )


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
def test_redis_down_degrades_the_limits_and_keeps_sign_in_safe(
    config, customer, make_customer, db, tmp_path
):
    redis = OwnRedis(free_port())
    server = Gunicorn(
        config,
        tmp_path,
        workers=WORKERS,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis.port}/0",
    )
    try:
        assert server.get("/healthz") == (200, "ok")
        # Redis up: the per-IP limit is shared by the workers, exactly 10 a minute.
        one = Browser(server.port, "127.0.0.201")
        statuses = [_wrong_password(one, "nobody_here").status for _ in range(11)]
        assert statuses == [200] * 10 + [429], statuses

        redis.stop()
        assert server.get("/healthz") == (200, DEGRADED)
        # Sign-in still works, without a single 5xx...
        assert _sign_in(Browser(server.port, "127.0.0.202"), customer) == 302
        # ...the limits still limit (in each worker's memory: at most WORKERS × 10 pass)...
        two = Browser(server.port, "127.0.0.203")
        statuses = [_wrong_password(two, "nobody_here").status for _ in range(WORKERS * 10 + 5)]
        assert 500 not in statuses and 0 not in statuses, statuses
        assert 429 in statuses and statuses.count(200) <= WORKERS * 10, statuses
        # ...and the lockout, counted in the database, holds exactly: five wrong passwords
        # from five addresses (no per-IP limit in the way) lock the account.
        victim = make_customer(login_id="victim_01")
        replies = [
            _wrong_password(Browser(server.port, f"127.0.0.{210 + n}"), victim.login_id)
            for n in range(6)
        ]
        assert [r.status for r in replies] == [200] * 6
        assert "계정이 잠겼습니다" in replies[4].body and "계정이 잠겼습니다" in replies[5].body
        db.session.expire_all()
        row = db.session.get(Customer, victim.id)
        assert row.locked_until is not None and row.locked_until > datetime.now(UTC)
        locked = db.session.scalar(
            select(func.count()).where(
                SecurityEvent.kind == "account_locked", SecurityEvent.customer_id == victim.id
            )
        )
        assert locked == 1
        # The right password is refused while locked.
        assert (
            Browser(server.port, "127.0.0.220").step_one(victim.login_id, victim.password).status
            == 200
        )

        # Redis back (same port): the health check says so again.
        redis = OwnRedis(redis.port)
        deadline = time.monotonic() + 20
        while server.get("/healthz") != (200, "ok"):
            assert time.monotonic() < deadline, server.get("/healthz")
            time.sleep(0.5)
    finally:
        server.stop()
        redis.stop()
    assert "Unhandled error" not in server.log()
