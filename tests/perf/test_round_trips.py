"""Round trips to PostgreSQL per request (issue #15), counted on the wire.

libpq's protocol trace (``PQtrace``, through psycopg) records every message the client
sends, including what the driver adds on its own: the pool's pre-ping, ``BEGIN`` before a
statement, the ``COMMIT`` and the pool's ``ROLLBACK``. Each simple ``Query`` and each
``Sync`` of the extended protocol is one round trip. Deterministic: no timings.

Also here: a dead pooled connection (its server process terminated, as a restart does) is
found by its first statement instead of a ping, and costs a reader nothing (served again on
a new connection) and a writer a clean 503.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass

import pytest
from psycopg import pq
from sqlalchemy import create_engine, event, select, text

from portal.customers.models import Customer
from tests.conftest import csrf_from

MESSAGE_RE = re.compile(r"^F\t\d+\t(\w+)\b(.*)$")
WRITE_RE = re.compile(
    r"^\s*\"?\"?\s*\"?(INSERT|UPDATE|DELETE)\b|\bFOR (NO KEY )?UPDATE\b|\bFOR (KEY )?SHARE\b"
)


@dataclass
class Message:
    kind: str  # Query, Parse, Bind, Sync, ...
    sql: str


class WireTrace:
    """Every message the app's connections send, from the moment it is made.

    The pool is emptied first, so that every connection the app opens afterwards is traced
    from its first byte. Must be closed (:meth:`close`) before the file: libpq keeps writing
    to the file descriptor for as long as a traced connection lives.
    """

    def __init__(self, engine) -> None:
        self.engine = engine
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close(), after the pool
        self.checkouts = 0
        engine.dispose()
        event.listen(engine, "connect", self._trace)
        event.listen(engine, "checkout", self._checkout)

    def _trace(self, dbapi_connection, _record) -> None:
        dbapi_connection.pgconn.trace(self.file.fileno())
        dbapi_connection.pgconn.set_trace_flags(
            pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE
        )

    def _checkout(self, *_args) -> None:
        self.checkouts += 1

    def mark(self) -> tuple[int, int]:
        self.file.flush()
        return self.file.seek(0, 2), self.checkouts

    def since(self, mark: tuple[int, int]) -> list[Message]:
        self.file.seek(mark[0])
        messages: list[Message] = []
        for line in self.file.read().decode("utf-8", "replace").splitlines():
            match = MESSAGE_RE.match(line)
            if match:
                messages.append(Message(match[1], match[2].strip()))
            elif messages and not line.startswith("B\t"):
                messages[-1].sql += "\n" + line  # a statement's following lines
        self.file.seek(0, 2)
        return messages

    def close(self) -> None:
        event.remove(self.engine, "connect", self._trace)
        event.remove(self.engine, "checkout", self._checkout)
        self.engine.dispose()
        self.file.close()


def round_trips(messages: list[Message]) -> int:
    return sum(m.kind in ("Query", "Sync") for m in messages)


# What the driver or the pool sends besides the app's statements: transaction commands and
# pings (psycopg's dialect pings with ";", SQLAlchemy's default is "SELECT 1").
DRIVER_COMMANDS = {"BEGIN", "COMMIT", "ROLLBACK", ";", "", "SELECT 1"}


def commands(messages: list[Message]) -> list[str]:
    """The transaction commands and pings sent, in order."""
    sent = [m.sql.strip('"').strip() for m in messages if m.kind == "Query"]
    return [sql for sql in sent if sql.upper() in DRIVER_COMMANDS]


def assert_writes_inside_transactions(messages: list[Message]) -> None:
    """Every write (and locking read) comes after a BEGIN, and every BEGIN is closed."""
    in_transaction = False
    for message in messages:
        sql = message.sql.strip('"').upper()
        if message.kind == "Query" and sql == "BEGIN":
            assert not in_transaction
            in_transaction = True
        elif message.kind == "Query" and sql in ("COMMIT", "ROLLBACK"):
            in_transaction = False
        elif message.kind in ("Query", "Parse") and WRITE_RE.search(sql.removeprefix('""')):
            assert in_transaction, f"write outside a transaction: {message.sql[:200]}"
    assert not in_transaction, "a transaction was left open"


@pytest.fixture
def postgresql(database):
    if database[0] != "postgresql":
        pytest.skip("round trips are counted on PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
def seeded(app, db):
    from portal.policy.seed.loader import ensure_seed

    ensure_seed()
    db.session.commit()


@pytest.fixture
def wire(postgresql, app, db, seeded):
    db.session.remove()
    trace = WireTrace(db.engine)
    yield trace
    db.session.remove()
    trace.close()


def _request(wire: WireTrace, client, method: str, url: str, **kwargs):
    mark = wire.mark()
    response = client.open(url, method=method, **kwargs)
    return response, wire.since(mark), wire.checkouts - mark[1]


def test_signed_in_read_sends_only_its_statements(wire, client, auth, customer):
    auth.login(customer)
    client.get("/account")  # warm-up: templates, the once-a-minute session touch
    response, messages, checkouts = _request(wire, client, "GET", "/account")
    assert response.status_code == 200
    # No pre-ping (";" or "SELECT 1"), no BEGIN, no COMMIT, no ROLLBACK: the page's two
    # statements (session with customer, the dashboard's one), one round trip each, on one
    # pooled connection. The newest notices come from memory (portal.pagecache).
    assert commands(messages) == [], commands(messages)
    assert round_trips(messages) == 2, messages
    assert checkouts == 1


@pytest.mark.parametrize("url", ["/", "/notices", "/privacy", "/login", "/healthz"])
def test_public_page_cold_and_warm_sends_no_transaction_command(wire, app, client, url):
    from portal import pagecache

    pagecache.forget(app)
    response, cold, _ = _request(wire, client, "GET", url)
    assert response.status_code == 200
    assert commands(cold) == [], commands(cold)
    response, warm, _ = _request(wire, client, "GET", url)
    assert response.status_code == 200
    assert commands(warm) == [], commands(warm)
    assert round_trips(warm) <= round_trips(cold)


def test_writes_stay_in_one_transaction_per_request(wire, client, auth, customer, db):
    # Signing in writes (attempt counters committed before the comparison, the pending
    # login, the session, security events); a profile edit writes and commits at the end.
    mark = wire.mark()
    auth.login(customer)
    html = client.get("/account/profile/edit").get_data(as_text=True)
    response = client.post(
        "/account/profile/edit",
        data={
            "csrf_token": csrf_from(html),
            "username": "새별명",
            "email": "new@example.kr",
            "phone": "010-9876-5432",
            "postal_code": "04524",
            "address": "서울 중구 세종대로 110",
            "version": re.search(r'name="version" value="(\d+)"', html)[1],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    messages = wire.since(mark)
    assert any(commands(messages)), "the writes sent no BEGIN at all"
    assert_writes_inside_transactions(messages)
    assert db.session.scalar(select(Customer.email).where(Customer.id == customer.id)) == (
        "new@example.kr"
    )


def test_locking_read_runs_inside_a_transaction(wire, app, db):
    mark = wire.mark()
    db.session.execute(select(Customer.id)).all()
    db.session.rollback()
    plain = wire.since(mark)
    mark = wire.mark()
    db.session.execute(select(Customer.id).with_for_update()).all()
    db.session.rollback()
    locking = wire.since(mark)
    assert commands(plain) == []
    # The lock would be released at once in autocommit: BEGIN first, then the statement.
    assert commands(locking)[:1] == ["BEGIN"], commands(locking)
    assert commands(locking)[-1:] == ["ROLLBACK"]


def test_failed_request_rolls_its_writes_back(wire, app, db, client, customer):
    from portal.extensions import csrf

    def write_then_fail():
        db.session.execute(
            text("UPDATE customers SET username = 'half' WHERE id = :id"), {"id": customer.id}
        )
        return "conflict", 409

    app.add_url_rule(
        "/_test/write-then-fail", view_func=csrf.exempt(write_then_fail), methods=["POST"]
    )
    response, messages, _ = _request(wire, client, "POST", "/_test/write-then-fail")
    assert response.status_code == 409
    assert commands(messages) == ["BEGIN", "ROLLBACK"], commands(messages)
    assert db.session.scalar(select(Customer.username).where(Customer.id == customer.id)) != (
        "half"
    )


# --- a dead pooled connection --------------------------------------------------------


@pytest.fixture
def kill_app_connections(postgresql, app, db, database_url):
    """What a database restart does to the pool: the server processes of the app's own
    connections end (the clients find out at their next statement). Only those: other
    sessions on the test database are left alone."""
    backends: set[int] = set()

    def remember(dbapi_connection, _record) -> None:
        backends.add(dbapi_connection.info.backend_pid)

    db.session.remove()
    db.engine.dispose()
    event.listen(db.engine, "connect", remember)

    def kill() -> int:
        killer = create_engine(database_url)
        try:
            with killer.connect() as conn:
                ended = conn.execute(
                    text("SELECT count(pg_terminate_backend(pid)) FROM unnest(:pids) AS pid"),
                    {"pids": sorted(backends)},
                ).scalar()
        finally:
            killer.dispose()
        return ended or 0

    yield kill
    event.remove(db.engine, "connect", remember)


@pytest.fixture
def attempts(app, db):
    """The disconnects the app's engine met."""
    seen: list[bool] = []

    def on_error(context) -> None:
        seen.append(context.is_disconnect)

    event.listen(db.engine, "handle_error", on_error)
    yield seen
    event.remove(db.engine, "handle_error", on_error)


def test_read_after_connection_loss_is_served_again(
    kill_app_connections, app, db, client, auth, customer, attempts
):
    auth.login(customer)
    assert client.get("/account").status_code == 200
    db.session.remove()
    assert kill_app_connections() >= 1
    response = client.get("/account")
    # The stale connection failed its first statement (no ping found it first), the pool
    # was invalidated, and the page was served again on a new connection.
    assert attempts == [True]
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "길동" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 200
    assert attempts == [True]


def test_write_after_connection_loss_answers_503_and_keeps_nothing_half_done(
    kill_app_connections, app, db, client, auth, customer, attempts
):
    auth.login(customer)
    html = client.get("/account").get_data(as_text=True)
    db.session.remove()
    assert kill_app_connections() >= 1
    response = client.post("/logout", data={"csrf_token": csrf_from(html)})
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert attempts == [True]  # a POST is not replayed
    assert response.headers["Retry-After"] == "5"
    assert "서비스를 잠시 이용할 수 없습니다" in body
    assert re.search(r'class="reference-id">[0-9a-f]{16}<', body)
    assert "Traceback" not in body and "psycopg" not in body and "SELECT" not in body
    # Nothing happened: the session is still open, and the pool works again.
    assert client.get("/account").status_code == 200


def test_commit_after_connection_loss_answers_503(kill_app_connections, app, db, client, customer):
    from portal.extensions import csrf

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production

    def write_then_lose_connection():
        db.session.execute(
            text("UPDATE customers SET username = 'lost' WHERE id = :id"), {"id": customer.id}
        )
        kill_app_connections()
        return "ok"  # the request's COMMIT meets the dead connection

    app.add_url_rule(
        "/_test/lose", view_func=csrf.exempt(write_then_lose_connection), methods=["POST"]
    )
    response = client.post("/_test/lose")
    assert response.status_code == 503
    assert "서비스를 잠시 이용할 수 없습니다" in response.get_data(as_text=True)
    db.session.remove()
    assert db.session.scalar(select(Customer.username).where(Customer.id == customer.id)) != (
        "lost"
    )


# --- a database that cannot be reached (runs without PostgreSQL) ---------------------


@pytest.fixture
def unreachable_app(monkeypatch, tmp_path):
    from portal import create_app
    from portal.config import TestingConfig
    from portal.extensions import db

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    cfg = TestingConfig()
    # Nothing listens on port 1: every connection is refused at once, as while the
    # database restarts.
    cfg.SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://portal@127.0.0.1:1/portal"
    cfg.SQLALCHEMY_ENGINE_OPTIONS = cfg.engine_options(cfg.SQLALCHEMY_DATABASE_URI)
    cfg.RATELIMIT_STORAGE_URI = "memory://"
    application = create_app(cfg)
    yield application
    with application.app_context():
        db.engine.dispose()


def _dispatches(application) -> list[str]:
    """Counts the times Flask dispatches a request (the retry is a second dispatch)."""
    from flask import request, request_started

    seen: list[str] = []

    def started(_sender, **_extra) -> None:
        seen.append(request.path)

    request_started.connect(started, application, weak=False)
    return seen


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("url", ["/", "/notices", "/account", "/account/security"])
def test_unreachable_database_answers_clean_503(unreachable_app, url, lang):
    dispatched = _dispatches(unreachable_app)
    client = unreachable_app.test_client()
    client.set_cookie("lang", lang)
    with client.session_transaction() as session:
        session["_user_id"] = "x" * 40  # a signed-in browser: its session must be looked up
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:300]
    assert response.headers["Retry-After"] == "5"
    title = (
        "서비스를 잠시 이용할 수 없습니다"
        if lang == "ko"
        else "The service is temporarily unavailable"
    )
    assert title in body
    assert re.search(r"[0-9a-f]{16}", body)  # the reference id
    assert "Traceback" not in body and "psycopg" not in body and "127.0.0.1:1" not in body
    assert 'href="/static/css/portal.css"' in body  # the site's own page, not a bare one
    assert "Content-Security-Policy" in response.headers
    # A read is tried once more (a restart may just have ended), never more.
    assert dispatched == [url, url]


def test_unreachable_database_post_answers_503_once(unreachable_app):
    dispatched = _dispatches(unreachable_app)
    client = unreachable_app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))  # needs no database
    dispatched.clear()
    response = client.post(
        "/login", data={"csrf_token": token, "login_id": "kim_minsu", "password": "pw"}
    )
    assert response.status_code == 503
    assert "서비스를 잠시 이용할 수 없습니다" in response.get_data(as_text=True)
    assert dispatched == ["/login"]
