"""``flask backup create|restore`` on both databases: a backup taken while the app writes is
one consistent commit and restores into a fresh database where customers sign in; restore
refuses a database with tables without --force, and a damaged file, leaving the target as
it was."""

from __future__ import annotations

import copy
import json
import os
import secrets
import stat
import threading

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from portal import config as portal_config
from portal.audit.models import SecurityEvent
from portal.audit.services import record_event
from portal.auth.models import SecurityCard
from portal.auth.registration import register_customer
from portal.backup import postgresql, services
from portal.customers.models import Customer, LoginId
from portal.customers.services import NewCustomer
from portal.extensions import db
from tests.conftest import ROOT, TEST_DATABASE_URL, AuthActions, _pg_url
from tests.factories import PASSWORD, create_customer

WRITER_EVENT = "backup_test_write"


@pytest.fixture
def new_database(database, tmp_path):
    """Make the URL of a new, empty database of the kind under test (dropped afterwards)."""
    kind = database[0]
    made: list[str] = []
    admin = (
        create_engine(_pg_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
        if kind == "postgresql"
        else None
    )

    def make(label: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'{label}.sqlite3'}"
        name = f"backup_{label}_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        url = make_url(_pg_url(TEST_DATABASE_URL)).set(database=name)
        return url.render_as_string(hide_password=False)

    yield make
    if admin is None:
        return
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def app_for(config, app_factory):
    """An app on another database, with the same secrets and data keys as ``config`` (the
    encrypted card codes of a restored copy open only with the keys they were written
    under, which is why the keys are kept apart from backups)."""

    def make(url: str, *, migrate: bool = False):
        cfg = copy.copy(config)
        cfg.SQLALCHEMY_DATABASE_URI = url
        cfg.SQLALCHEMY_ENGINE_OPTIONS = portal_config.TestingConfig.engine_options(url)
        application = app_factory(cfg)
        if migrate:
            with application.app_context():
                _portal_schema()
        return application

    return make


def _portal_schema() -> None:
    """The tables and the alembic_version row of a migrated database.

    As the other tests build theirs (create_all), plus the version row a backup must hold.
    Not flask_migrate.upgrade(): its env.py runs logging.config.fileConfig, which disables
    every logger made before it and broke the log-redaction tests run after these.
    """
    db.create_all()
    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES (:head)"), {"head": head})


def _counts(application) -> dict[str, int]:
    with application.app_context():
        session = db.session
        out = {
            "login_ids": session.scalar(select(func.count()).select_from(LoginId)),
            "customers": session.scalar(select(func.count()).select_from(Customer)),
            "cards": session.scalar(select(func.count()).select_from(SecurityCard)),
            "writes": session.scalar(
                select(func.count()).where(SecurityEvent.kind == WRITER_EVENT)
            ),
        }
        db.session.remove()
        return out


class Writer(threading.Thread):
    """Registers customers in a loop, each with a card and an event in one transaction."""

    def __init__(self, application) -> None:
        super().__init__(daemon=True)
        self.application = application
        self.committed = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.application.app_context():
                while not self.stop.is_set():
                    n = self.committed
                    registered = register_customer(
                        NewCustomer(
                            login_id=f"writer_{n:05d}",
                            name="동시기록",
                            email=f"writer_{n}@example.kr",
                            phone="010-2345-6789",
                            postal_code="04524",
                            address="서울",
                            password=PASSWORD,
                            activated=True,
                        )
                    )
                    record_event(WRITER_EVENT, customer_id=registered.customer.id)
                    db.session.commit()
                    self.committed += 1
                db.session.remove()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc


def _wait_for(writer: Writer, count: int) -> None:
    for _ in range(600):
        if writer.committed >= count or writer.error:
            return
        writer.stop.wait(0.05)


def test_backup_during_writes_restores_consistently_and_customers_sign_in(
    database, new_database, app_for, tmp_path
):
    source = app_for(new_database("source"), migrate=True)
    with source.app_context():
        customer = create_customer(login_id="before_backup")
        db.session.remove()
    writer = Writer(source)
    writer.start()
    try:
        _wait_for(writer, 5)
        before = writer.committed
        path = tmp_path / "portal.backup"
        out = source.test_cli_runner().invoke(args=["backup", "create", str(path), "--json"])
        _wait_for(writer, writer.committed + 3)  # the app kept writing after the backup
    finally:
        writer.stop.set()
        writer.join(60)
    assert writer.error is None, writer.error
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert summary["engine"] == database[0] and summary["schema_revision"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert services.verify_backup(path, database[0]).sha256 == summary["sha256"]

    target = app_for(new_database("restored"))
    restored = target.test_cli_runner().invoke(args=["backup", "restore", str(path)])
    assert restored.exit_code == 0, restored.output
    counts = _counts(target)
    # One commit's worth: every writer transaction wholly in or wholly out.
    assert before <= counts["writes"] <= writer.committed
    assert counts["login_ids"] == counts["customers"] == counts["cards"] == counts["writes"] + 1
    if database[0] == "sqlite":
        target_file = make_url(target.config["SQLALCHEMY_DATABASE_URI"]).database
        assert services.verify_backup(target_file, "sqlite").schema_revision
    # The real sign-in, password then card, on the restored copy.
    auth = AuthActions(target.test_client())
    auth.login(customer)
    assert auth.client.get("/account").status_code == 200


def test_restore_refuses_a_database_with_tables_and_damaged_files(
    database, new_database, app_for, tmp_path
):
    kind = database[0]
    source = app_for(new_database("source"), migrate=True)
    with source.app_context():
        create_customer(login_id="from_backup")
        db.session.remove()
    path = tmp_path / "portal.backup"
    assert source.test_cli_runner().invoke(args=["backup", "create", str(path)]).exit_code == 0
    again = source.test_cli_runner().invoke(args=["backup", "create", str(path)])
    assert again.exit_code == 1 and "exists" in again.output

    target = app_for(new_database("target"), migrate=True)
    with target.app_context():
        create_customer(login_id="kept_marker")
        db.session.remove()

    def login_ids() -> list[str]:
        with target.app_context():
            found = sorted(db.session.scalars(select(LoginId.login_id)))
            db.session.remove()
            return found

    runner = target.test_cli_runner()
    refused = runner.invoke(args=["backup", "restore", str(path)])
    assert refused.exit_code == 1
    assert len(refused.output.strip().splitlines()) == 1
    assert "add --force" in refused.output
    assert login_ids() == ["kept_marker"]

    data = path.read_bytes()
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt.backup"
    middle = len(data) // 3
    corrupt.write_bytes(data[:middle] + bytes(len(data) // 3) + data[2 * middle :])
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" + b"\0" * 200 if kind == "sqlite" else b"SQLite format 3\0" * 8)
    for damaged, words in (
        (truncated, ("truncated",)),
        (corrupt, ("corrupt", "integrity check failed")),
        (other, ("PostgreSQL" if kind == "sqlite" else "SQLite",)),
        (tmp_path / "missing.backup", ("cannot read",)),
    ):
        out = runner.invoke(args=["backup", "restore", str(damaged), "--force"])
        assert out.exit_code == 1, (damaged, out.output)
        assert len(out.output.strip().splitlines()) == 1, out.output
        assert any(w in out.output for w in words), out.output
        assert "nothing was changed" in out.output
        assert login_ids() == ["kept_marker"]

    forced = runner.invoke(args=["backup", "restore", str(path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert login_ids() == ["from_backup"]


def test_a_database_that_is_not_the_portals_is_not_backed_up(app, runner, tmp_path):
    # The test database is made by create_all, without migrations: no alembic_version, so
    # its copy is refused and nothing is left at the path or beside it.
    path = tmp_path / "x.backup"
    out = runner.invoke(args=["backup", "create", str(path)])
    assert out.exit_code == 1 and "no alembic_version" in out.output
    assert list(tmp_path.glob("x.backup*")) == []


def test_the_password_goes_to_a_private_file_never_the_command_line():
    url = make_url("postgresql+psycopg://portal:se:cr\\et@db.internal:5433/portal?sslmode=require")
    with postgresql.libpq(url) as (conninfo, env):
        assert "se:cr" not in conninfo and conninfo.startswith("postgresql://portal@")
        assert "sslmode=require" in conninfo
        passfile = env["PGPASSFILE"]
        assert "PGPASSWORD" not in env
        assert stat.S_IMODE(os.stat(passfile).st_mode) == 0o600
        with open(passfile, encoding="utf-8") as fh:
            assert fh.read() == "*:*:*:*:se\\:cr\\\\et\n"
    assert not os.path.exists(passfile)
