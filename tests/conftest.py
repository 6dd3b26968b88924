"""Fixtures: app, db, client, runner, auth (signs in through the real forms, CSRF on).

Every test runs once on SQLite and, when TEST_DATABASE_URL is set, again on PostgreSQL.
Isolation: SQLite tests get a fresh copy of a template database file; PostgreSQL tests
start from truncated tables. Both keep real commits, so tests with two clients, a live
server thread or a second connection see what a real deployment would (wrapping each test in
a rolled-back outer transaction would hide exactly those cases).
"""

from __future__ import annotations

import contextvars
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import create_engine, text

from portal import create_app
from portal.config import TestingConfig
from portal.extensions import db as _db

# One pepper for the whole run, in the environment, so that every app the tests build and
# every server process they start (gunicorn inherits os.environ) key recovery codes alike,
# as the hosts of one deployment do. Tests of a missing pepper remove it from their copy.
os.environ.setdefault("PORTAL_HASH_PEPPERS", "t1:" + "7e57" * 16)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"

# CI replays the same examples every run (a red CI must mean a change broke something);
# developers' runs stay random and keep finding new cases. HYPOTHESIS_PROFILE=thorough
# searches much harder, for a bug hunt.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("thorough", max_examples=1000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default")
)

DATABASES = ["sqlite"]
if TEST_DATABASE_URL:
    DATABASES.append("postgresql")


def pytest_configure(config):
    if REQUIRE_POSTGRES and not TEST_DATABASE_URL:
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")


def _pg_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _metadata_app(url: str):
    cfg = TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.SQLALCHEMY_ENGINE_OPTIONS = TestingConfig.engine_options(url)
    return create_app(cfg)


@pytest.fixture(scope="session", params=DATABASES)
def database(request, tmp_path_factory):
    """A prepared database: ('sqlite', template file) or ('postgresql', url)."""
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
        app = _metadata_app(f"sqlite:///{template}")
        with app.app_context():
            _db.create_all()
            _db.engine.dispose()
        return ("sqlite", template)
    url = _pg_url(TEST_DATABASE_URL)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    finally:
        engine.dispose()
    app = _metadata_app(url)
    with app.app_context():
        _db.drop_all()
        with _db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        _db.create_all()
        _db.engine.dispose()
    return ("postgresql", url)


@pytest.fixture
def database_url(database, tmp_path) -> str:
    kind, where = database
    if kind == "sqlite":
        path = tmp_path / "portal.sqlite3"
        shutil.copyfile(where, path)
        return f"sqlite:///{path}"
    engine = create_engine(where)
    tables = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return where


@pytest.fixture
def config(database_url, tmp_path, monkeypatch) -> TestingConfig:
    """The test configuration; tests may change attributes before asking for ``app``."""
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    cfg = TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = database_url
    cfg.SQLALCHEMY_ENGINE_OPTIONS = TestingConfig.engine_options(database_url)
    cfg.RATELIMIT_STORAGE_URI = "memory://"
    return cfg


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server would.

    The ``app`` fixture keeps an application context pushed for the whole test (so tests can
    use ``db.session`` directly). Flask would reuse that context for every request, sharing
    ``g`` and the database session between requests; a real server never does. An empty
    ``contextvars.Context`` gives each request its own application context and session.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(config):
    application = create_app(config)
    application.test_client_class = IsolatedClient
    ctx = application.app_context()
    ctx.push()
    yield application
    _db.session.remove()
    for engine in _db.engines.values():
        engine.dispose()
    ctx.pop()


@pytest.fixture
def app_factory(config):
    """Build extra apps (other configs) whose database pools are closed after the test."""
    made = []

    def factory(cfg=None):
        application = create_app(cfg if cfg is not None else config)
        application.test_client_class = IsolatedClient
        made.append(application)
        return application

    yield factory
    for application in made:
        with application.app_context():
            for engine in _db.engines.values():
                engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- helpers -------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CHALLENGE_RE = re.compile(r'id="card-challenge" data-first-index="(\d+)" data-last-index="(\d+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in page"
    return match.group(1)


def post_form(client, url: str, data: dict, *, page: str | None = None, **kwargs):
    """GET ``page`` (or ``url``) for a CSRF token, then POST ``data`` to ``url``."""
    html = client.get(page or url).get_data(as_text=True)
    payload = {"csrf_token": csrf_from(html), **data}
    return client.post(url, data=payload, **kwargs)


@dataclass
class DemoCustomer:
    login_id: str
    password: str
    card_codes: list[str] | None = None
    otp_secret: str | None = None
    id: int | None = None
    extra: dict = field(default_factory=dict)

    def card_answer(self, first: int, last: int) -> tuple[str, str]:
        assert self.card_codes
        return self.card_codes[first - 1][:2], self.card_codes[last - 1][2:]


class AuthActions:
    """Signs customers in and out through the real forms."""

    def __init__(self, client):
        self.client = client

    def step_one(self, customer: DemoCustomer, password: str | None = None):
        return post_form(
            self.client,
            "/login",
            {"login_id": customer.login_id, "password": password or customer.password},
        )

    def challenge(self) -> tuple[int, int]:
        html = self.client.get("/login/verify").get_data(as_text=True)
        match = CHALLENGE_RE.search(html)
        assert match, "no card challenge on the page"
        return int(match.group(1)), int(match.group(2))

    def answer_card(self, customer: DemoCustomer, first_last: tuple[str, str] | None = None):
        first, last = self.challenge()
        code_first, code_last = first_last or customer.card_answer(first, last)
        return post_form(
            self.client, "/login/verify", {"code_first": code_first, "code_last": code_last}
        )

    def answer_otp(self, code: str):
        return post_form(self.client, "/login/verify", {"otp": code})

    def login(self, customer: DemoCustomer):
        response = self.step_one(customer)
        assert response.status_code == 302, response.get_data(as_text=True)
        if customer.card_codes:
            response = self.answer_card(customer)
        else:
            import pyotp

            response = self.answer_otp(pyotp.TOTP(customer.otp_secret).now())
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self):
        return post_form(self.client, "/logout", {}, page="/account")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make_customer(app):
    """Register a customer through the service; returns what a tester needs to sign in."""
    from tests.factories import create_customer

    def factory(**kwargs) -> DemoCustomer:
        return create_customer(**kwargs)

    return factory


@pytest.fixture
def customer(make_customer) -> DemoCustomer:
    return make_customer()


@pytest.fixture
def otp_customer(make_customer) -> DemoCustomer:
    return make_customer(login_id="otp_user", second_factor="otp")


# Nothing listens on port 1: connections are refused at once, as when Redis is down.
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def limiter_health():
    """Leave the rate limiter as healthy as it was found.

    The limiter is one object shared by every app in the process; once its storage has
    failed, it remembers that (and counts in memory) until it sees the storage answer again.
    """
    from portal.extensions import limiter

    yield limiter
    limiter._storage_dead = False


@pytest.fixture
def redis_url():
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL not set")
    return TEST_REDIS_URL


ROOT = Path(__file__).resolve().parent.parent
