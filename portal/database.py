"""Per-connection database settings and the request's transaction.

One request is one transaction: services flush, never commit, and the request commits once
at its end when the response is not an error (below 400); an error response or an
exception rolls everything back, so an ``abort(404)`` half-way through a view never leaves
half a change. The CLI commits per command.

On PostgreSQL the transaction starts at the request's first write, not its first
statement (:func:`_reads_without_transaction`): a request that only reads sends neither
``BEGIN`` nor ``COMMIT``, as on SQLite, whose driver also begins only before a write. Under
READ COMMITTED, PostgreSQL's default and the only level the portal uses, every statement
sees its own snapshot inside a transaction too, so the reads see the same data either way;
what a transaction adds to a read is a row lock, and a ``SELECT … FOR UPDATE`` therefore
counts as a write.

Connections are not pinged when taken from the pool (a round trip per request). A
connection that died meanwhile (the database restarted, a proxy dropped it) fails its
first statement instead: SQLAlchemy then invalidates it and every other connection of the
pool, the request answers 503 (:mod:`portal.errors`), and a GET or HEAD is served once
more on a fresh connection first (:class:`RetryReadAfterDisconnect`), so that after a
restart no reader sees the error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

from flask import Flask, Response
from sqlalchemy import CompoundSelect, Select, event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import OperationalError

from portal.extensions import db

logger = logging.getLogger(__name__)

# The WSGI environ key through which the error handler asks for the retry of a read.
RETRY_KEY = "portal.retry_after_disconnect"


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


# A SELECT that locks rows or calls a function that changes something needs the
# transaction it would otherwise skip (its lock or effect would end with the statement).
_SELECT_WITH_EFFECT = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b"
    r"|\b(?:nextval|setval|pg_advisory\w*|set_config|pg_notify)\s*\(",
    re.IGNORECASE,
)


def _is_plain_read(context, statement: str) -> bool:
    compiled = getattr(context, "compiled", None)
    return isinstance(
        getattr(compiled, "statement", None), Select | CompoundSelect
    ) and not _SELECT_WITH_EFFECT.search(statement)


def _begin_before_write(conn, _cursor, statement, _parameters, context, _executemany) -> None:
    dbapi_connection = conn.connection.dbapi_connection
    if not dbapi_connection.autocommit or _is_plain_read(context, statement):
        return
    if "isolation_level" in conn.get_execution_options():
        return  # the caller chose AUTOCOMMIT (or a level) for this connection on purpose
    # From here psycopg sends BEGIN before the statement: this write and everything after
    # it on this checkout are one transaction, committed or rolled back by the request.
    dbapi_connection.autocommit = False


def _unreachable_is_disconnect(context: ExceptionContext) -> None:
    # psycopg's dialect calls only a broken open connection a disconnect; a database that
    # refuses new connections (stopped, restarting) is the same outage to a request.
    if context.connection is None and not context.is_pre_ping:
        orig = context.original_exception
        dbapi = context.dialect.loaded_dbapi
        if isinstance(orig, dbapi.OperationalError):
            context.is_disconnect = True


def _configure_postgresql(engine: Engine) -> None:
    # psycopg is imported here, not at the top: an SQLite deployment never loads it (9 MB).
    from psycopg.pq import TransactionStatus

    def autocommit_on_checkout(dbapi_connection, _record, _proxy) -> None:
        # Returned connections were rolled back (idle), so psycopg allows the switch; it is
        # a client-side flag: psycopg sends no BEGIN before a statement while it is set,
        # and its commit() and rollback() send nothing when no transaction is open.
        idle = dbapi_connection.info.transaction_status == TransactionStatus.IDLE
        if idle and not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True

    event.listen(engine, "checkout", autocommit_on_checkout)
    event.listen(engine, "before_cursor_execute", _begin_before_write)
    event.listen(engine, "handle_error", _unreachable_is_disconnect)


def configure_engines(app: Flask) -> None:
    """Attach the SQLite pragmas, or PostgreSQL's transaction and disconnect handling, to
    every engine."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            elif engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
                _configure_postgresql(engine)


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


# A session.info flag: something queued must be written even though the request's changes
# were rolled back (the access log's records of data shown on an error page). The rollback
# keeps only those; the commit after it writes them alone.
KEEP_AFTER_ROLLBACK = "keep_after_rollback"


def _end_request_transaction(response: Response) -> Response:
    if not db.session.registry.has():
        return response  # the request never touched the database (a page from memory)
    session = db.session()
    if response.status_code < 400:
        # A request whose session never began a transaction and holds nothing pending has
        # nothing to commit: skip the empty commit (and its hooks) on pages from memory.
        if session.in_transaction() or session.new or session.dirty or session.deleted:
            session.commit()
        return response
    session.rollback()
    if session.info.pop(KEEP_AFTER_ROLLBACK, False):
        session.commit()
    return response


def register_request_transaction(app: Flask) -> None:
    """Commit each request once, at its end, and serve a read again after a lost
    connection (see the module docstring)."""
    app.after_request(_end_request_transaction)
    app.wsgi_app = RetryReadAfterDisconnect(app.wsgi_app)


class RetryReadAfterDisconnect:
    """WSGI middleware: a GET or HEAD without a body that met a dead database connection
    is served once more, from the start, before its 503 is sent.

    The first attempt ends as a normal 503 (rolled back; the error handler sets
    ``environ[RETRY_KEY]`` to ``"wanted"`` when the cause was a disconnect), so nothing it
    did stays. A read changes nothing a second run would repeat wrongly; a POST may have
    committed a charged attempt already, so it is never replayed. The retry runs on a copy
    of the environ as the server passed it, under whatever middleware wraps the app.
    """

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get(
            "CONTENT_LENGTH", ""
        ) not in ("", "0"):
            return self.app(environ, start_response)
        pristine = dict(environ)
        environ[RETRY_KEY] = "armed"
        held: list = []

        def hold(status, headers, exc_info=None):
            held[:] = [status, headers, exc_info]
            return _no_write

        body = self.app(environ, hold)
        if environ.get(RETRY_KEY) != "wanted":
            start_response(*held)
            return body
        close = getattr(body, "close", None)
        if close is not None:
            close()
        logger.warning(
            "database connection lost; serving %s %s again on a new connection",
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
        )
        return self.app(pristine, start_response)


def _no_write(_data: bytes) -> None:  # pragma: no cover - Flask never uses write()
    raise RuntimeError("write() is not supported before a possible retry")
