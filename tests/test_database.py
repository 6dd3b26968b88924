"""Per-connection database settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text


def test_sqlite_pragmas_on_every_connection(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas apply to SQLite only")
    for _ in range(2):  # a fresh pooled connection each time
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
            assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        db.engine.dispose()


def test_postgresql_pool_pre_ping(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    assert db.engine.pool._pre_ping is True
    assert db.engine.dialect.driver == "psycopg"


def test_foreign_keys_enforced(app, db):
    from sqlalchemy.exc import IntegrityError

    from portal.account.models import ServiceLine

    db.session.add(
        ServiceLine(customer_id=999_999, service="spot", plan="x", activated_on=_today())
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _today():
    from portal.dbtypes import kst_today

    return kst_today()
