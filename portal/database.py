"""Per-connection database settings and the request's transaction.

One request is one transaction: services flush, never commit, and the request commits once
at its end when the response is not an error (below 400); an error response or an
exception rolls everything back, so an ``abort(404)`` half-way through a view never leaves
half a change. The CLI commits per command.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from portal.extensions import db

logger = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer. busy_timeout: a second writer waits instead of
    # failing; 30 s, because SQLite's busy handler is not a queue: under 50 clients on 4
    # workers, with the CPU oversubscribed, a writer lost the race for the one write lock
    # for up to 17 s (bench/load.py), and 10 s answered "database is locked" (500).
    # foreign_keys: SQLite ignores FOREIGN KEY clauses without it. secure_delete: deleted
    # personal data is overwritten with zeros, not left in free pages (PRODUCT.md §6).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def configure_engines(app: Flask) -> None:
    """Attach the SQLite pragmas to every new connection of every SQLite engine."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)


def commit_security_write() -> None:
    """Commit now, before the request ends: the one sanctioned commit inside a service.

    For the writes that must hold whatever the rest of the request does: a charged attempt
    at a secret (committed before the comparison, so that parallel requests see it and a
    crash or an error page does not refund it; see :mod:`portal.auth.attempts`), a lock,
    and a card challenge drawn for display (reloading must not re-roll it).
    """
    db.session.commit()


def checkpoint_wal() -> None:
    """On SQLite, copy the WAL into the main file and empty it (``wal_checkpoint(TRUNCATE)``).

    ``secure_delete`` zeroes deleted rows in the main file, but the pages written before the
    deletion stay readable in the ``-wal`` file until a checkpoint; after a destruction
    (withdrawal, purge, profile edit) this makes the bytes go from both files. A no-op on
    PostgreSQL (see the README on VACUUM and backups). Best effort: a reader holding an old
    snapshot makes SQLite skip part of it, and the next checkpoint finishes the job.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as conn:
            busy, _pages, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    except OperationalError:
        # The data is committed; only the checkpoint failed (a lock held too long). The
        # next destruction's checkpoint (or SQLite's own) copies and truncates the WAL.
        logger.warning("wal checkpoint failed; the next one will finish it", exc_info=True)
        return
    if busy:
        logger.warning("wal checkpoint incomplete (readers busy); the next one will finish it")


def checkpoint_wal_after_commit() -> None:
    """Checkpoint the WAL once the current transaction commits (a service cannot commit)."""
    if db.engine.dialect.name != "sqlite":
        return
    session = db.session()
    if not getattr(session, "_checkpoint_pending", False):
        session._checkpoint_pending = True
        event.listen(session, "after_commit", _checkpoint_listener, once=True)


def _checkpoint_listener(session) -> None:
    session._checkpoint_pending = False
    checkpoint_wal()


def _end_request_transaction(response: Response) -> Response:
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def register_request_transaction(app: Flask) -> None:
    """Commit each request once, at its end (see the module docstring)."""
    app.after_request(_end_request_transaction)
