"""Per-connection database settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from portal import config as portal_config
from portal import create_app
from portal.extensions import db
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def standalone_app(monkeypatch, tmp_path):
    """An app on a given database URL, outside the per-database parametrisation."""
    made = []

    def factory(url: str):
        monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
        cfg = portal_config.TestingConfig()
        cfg.SQLALCHEMY_DATABASE_URI = url
        cfg.SQLALCHEMY_ENGINE_OPTIONS = cfg.engine_options(url)
        app = create_app(cfg)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.engine.dispose()


def test_sqlite_pragmas_on_every_connection(standalone_app, tmp_path):
    app = standalone_app(f"sqlite:///{tmp_path / 'pragmas.sqlite3'}")
    with app.app_context():
        for _ in range(2):  # a fresh connection each time
            with db.engine.connect() as conn:
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
                assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
            db.engine.dispose()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL not set")
def test_postgresql_uses_psycopg_without_pool_pre_ping(standalone_app):
    # The ping was a round trip per request; tests/test_pg_round_trips.py proves a dead
    # connection is handled without it.
    app = standalone_app(TEST_DATABASE_URL)
    with app.app_context():
        assert db.engine.dialect.driver == "psycopg"
        assert db.engine.pool._pre_ping is False
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1


def test_foreign_keys_enforced(app):
    from sqlalchemy.exc import IntegrityError

    from portal.customers.models import ServiceLine

    db.session.add(
        ServiceLine(customer_id=999_999, service="spot", plan="x", activated_on=_today())
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _today():
    from portal.dbtypes import kst_today

    return kst_today()
