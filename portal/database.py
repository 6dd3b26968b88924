"""Per-connection database settings."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from portal.extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer. busy_timeout: a second writer waits instead of
    # failing. foreign_keys: SQLite ignores FOREIGN KEY clauses without it. secure_delete:
    # deleted personal data is overwritten with zeros, not left in free pages (SPEC §6).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def configure_engines(app: Flask) -> None:
    """Attach the SQLite pragmas to every new connection of every SQLite engine."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
