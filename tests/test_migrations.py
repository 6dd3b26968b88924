"""Migrations build, from empty, exactly the schema the models describe (both databases)."""

from __future__ import annotations

import secrets
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SAWarning

from portal import config as portal_config
from portal import create_app
from portal.extensions import db
from tests.conftest import TEST_DATABASE_URL, _pg_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL not set")
    # A schema of its own, so the migration starts from empty beside the test tables.
    schema = f"mig_{secrets.token_hex(4)}"
    base = _pg_url(TEST_DATABASE_URL)
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_upgrade_from_empty_matches_models(empty_database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    cfg = portal_config.TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = empty_database_url
    cfg.SQLALCHEMY_ENGINE_OPTIONS = portal_config.TestingConfig.engine_options(empty_database_url)
    app = create_app(cfg)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn, warnings.catch_warnings():
            # SQLite's reflection skips expression indexes (ix_customers_name_trgm on
            # lower(name)); alembic then leaves them out of the comparison on both sides.
            warnings.filterwarnings(
                "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
            )
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expr")
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        tables = set(inspect(db.engine).get_table_names())
        assert {"customers", "login_ids", "security_cards", "user_sessions"} <= tables
        # The data migration seeds the first policy version on every engine.
        with db.engine.connect() as conn:
            documents = conn.execute(
                text("SELECT document, label FROM policy_versions ORDER BY document")
            ).all()
        # ... and 0009 the first terms of use, under the same label in its own history.
        assert [tuple(row) for row in documents] == [
            ("privacy", "2023-09-15"),
            ("terms", "2023-09-15"),
        ]
        # And back down to nothing: every migration can be undone.
        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
        assert remaining == set()
