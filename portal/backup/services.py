"""Backups of the whole database, and restoring one (``flask backup create|restore``).

SQLite: SQLite's online backup API, the whole file in one step. That step runs under one
read transaction, so the copy is the database as of one commit; in WAL mode the app's
writers carry on meanwhile (readers never block the writer). PostgreSQL: ``pg_dump -Fc``,
which reads everything in one repeatable-read snapshot, likewise consistent while the app
writes; ``pg_restore`` puts it back.

Every backup is checked after writing, before it takes its name: SQLite's
``PRAGMA integrity_check`` must say ``ok``; a dump must be read through to its end by
``pg_restore``. Both must hold the ``alembic_version`` table, which says the file is this
portal's database and at which migration. A file that fails is deleted, never left under
the name an operator would trust. Restore checks the file the same way first, and a
refused file leaves the target untouched.

Backups hold every customer's personal data. They are created readable by their owner only
(0600) and never over an existing file; encrypted columns stay encrypted, and the data keys
(``PORTAL_DATA_KEYS``) are *not* in the backup: keep them apart, since a restore is useless
without them and a backup with them would open everything. The database password never
goes on a command line (where ``ps`` shows it): it goes to ``pg_dump``/``pg_restore``
through a temporary password file of mode 0600.

Foundation only: this module sees a database URL, never the portal's models.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url

from portal.backup import postgresql
from portal.backup.errors import (
    BackupExists,
    BackupInvalid,
    TargetNotEmpty,
    UnsupportedDatabase,
)
from portal.security import create_private_file

# The two kinds of backup file, told apart by their first bytes.
SQLITE_MAGIC = postgresql.SQLITE_MAGIC
PGDUMP_MAGIC = postgresql.PGDUMP_MAGIC


@dataclass
class BackupInfo:
    """A backup file that passed its check: where, which engine, its size and SHA-256 (to
    compare copies), and the migration it is at (SQLite; None for a dump, read on restore)."""

    path: str
    engine: str
    size: int
    sha256: str
    schema_revision: str | None = None


def engine_of(url: str | URL) -> str:
    """``sqlite`` or ``postgresql``.

    :raises UnsupportedDatabase: any other database, or SQLite in memory.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _sqlite_path(parsed)
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise UnsupportedDatabase(backend)


def create_backup(url: str | URL, path: str | os.PathLike) -> BackupInfo:
    """Write a backup of the database at ``url`` to ``path`` (a new file, mode 0600), check
    it, and only then give it its name.

    :raises BackupExists: ``path`` exists.
    :raises BackupInvalid: the written copy failed its check (it is deleted).
    :raises ToolMissing, ToolFailed: PostgreSQL's ``pg_dump`` is missing or failed.
    :raises UnsupportedDatabase: not a SQLite file or PostgreSQL.
    """
    path = os.fspath(path)
    kind = engine_of(url)
    if os.path.lexists(path):
        raise BackupExists(path)
    partial = f"{path}.partial-{secrets.token_hex(4)}"
    os.close(create_private_file(partial))
    try:
        if kind == "sqlite":
            revision = _sqlite_dump(make_url(url), partial, shown=path)
        else:
            postgresql.dump(make_url(url), partial)
            postgresql.check(partial, shown=path)
            # Read beside the dump, not from it (restoring it is the only way in); a
            # migration does not run during a backup.
            revision = postgresql.revision(make_url(url))
        _fsync(partial)
        try:
            # A hard link never replaces an existing file (os.replace would): a file
            # that appeared at ``path`` meanwhile is kept, and this backup refused.
            os.link(partial, path)
        except FileExistsError:
            raise BackupExists(path) from None
    finally:
        _remove(partial)
    _fsync_dir(path)
    return _info(path, kind, revision)


def verify_backup(path: str | os.PathLike, engine: str) -> BackupInfo:
    """Check a backup file for ``engine`` (``sqlite`` or ``postgresql``) without restoring.

    :raises BackupInvalid: unreadable, truncated, corrupt, the other engine's, or not this
        portal's database.
    """
    path = os.fspath(path)
    revision = _sqlite_check(path) if engine == "sqlite" else postgresql.check(path)
    return _info(path, engine, revision)


def restore_backup(url: str | URL, path: str | os.PathLike, *, force: bool = False) -> BackupInfo:
    """Replace the database at ``url`` with the backup at ``path``.

    The file is checked first; a database that holds any table is replaced only with
    ``force``. Run it with the app stopped: the portal's own sessions, counters and
    pending sign-ins are in the database, and requests served during the restore would act
    on a database that is being replaced under them.

    :raises BackupInvalid: the file failed its check; the target was not touched.
    :raises TargetNotEmpty: the target holds tables and ``force`` is False.
    :raises ToolMissing, ToolFailed: ``pg_restore`` is missing or failed (a PostgreSQL
        restore runs in one transaction: a failure leaves the target as it was).
    :raises UnsupportedDatabase: not a SQLite file or PostgreSQL.
    """
    path = os.fspath(path)
    kind = engine_of(url)
    parsed = make_url(url)
    if kind == "sqlite":
        _sqlite_check(path)
        target = _sqlite_path(parsed)
        tables = _sqlite_tables(target)
        if tables and not force:
            raise TargetNotEmpty(target, tables)
        revision = _sqlite_restore(path, target)
    else:
        postgresql.check(path)
        tables = postgresql.tables(parsed)
        if tables and not force:
            raise TargetNotEmpty(parsed.database or "", tables)
        postgresql.restore(parsed, path, clean=bool(tables))
        revision = postgresql.revision(parsed)
    return _info(path, kind, revision)


@dataclass
class DatabaseCheck:
    """What :func:`check_database` found: the migration, each table's rows, and problems
    (empty when the database is sound)."""

    engine: str
    schema_revision: str | None
    rows: dict[str, int]
    problems: list[str]


def check_database(url: str | URL) -> DatabaseCheck:
    """Check a live database after a restore, before the portal is opened on it.

    SQLite: ``PRAGMA integrity_check`` (every page, index and constraint) and
    ``PRAGMA foreign_key_check`` (rows whose parent is missing: SQLite does not refuse
    those unless told to). PostgreSQL checked its own constraints as ``pg_restore``
    recreated them, in the restore's transaction; here every table is read through by
    counting it. Both: the ``alembic_version`` row must be there, and every table's row
    count is reported, for the operator to compare with the source (or the last drill).

    :raises UnsupportedDatabase: not a SQLite file or PostgreSQL.
    """
    kind = engine_of(url)
    parsed = make_url(url)
    if kind == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    problems: list[str] = []
    engine = create_engine(parsed)
    try:
        with engine.connect() as conn:
            if kind == "sqlite":
                found = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
                if found != ["ok"]:
                    problems += [f"integrity check: {line[:200]}" for line in found[:20]]
                for child, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check"):
                    problems.append(f"{child} row {rowid}: its {parent} row is missing")
            names = sorted(inspect(conn).get_table_names())
            rows = {
                name: conn.scalar(select(func.count()).select_from(table(name))) or 0
                for name in names
            }
            revision = (
                conn.scalar(text("SELECT version_num FROM alembic_version"))
                if "alembic_version" in names
                else None
            )
    finally:
        engine.dispose()
    if revision is None:
        problems.append("not a portal database (no alembic_version)")
    return DatabaseCheck(engine=kind, schema_revision=revision, rows=rows, problems=problems)


# --- SQLite ---------------------------------------------------------------------------


def _sqlite_path(url: URL) -> str:
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        raise UnsupportedDatabase("sqlite in memory")
    return database


def _uri(path: str, mode: str) -> str:
    # A URI, so that mode=ro / mode=rw never create a missing file as plain connect() would.
    return f"{Path(path).resolve().as_uri()}?mode={mode}"


def _sqlite_dump(url: URL, partial: str, *, shown: str) -> str:
    source = _sqlite_path(url)
    if not os.path.isfile(source):
        raise UnsupportedDatabase(f"no SQLite database at {source}")
    src = sqlite3.connect(_uri(source, "rw"), uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        # pages=-1: the whole database in one step, under one read transaction: one
        # consistent commit however busy the app is. (Step by step, a write by another
        # connection between steps would restart the copy, which a busy app could do
        # for ever.)
        src.backup(dst, pages=-1)
        # A backup is one self-contained file: no -wal beside it to lose when it is copied.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    return _sqlite_check(partial, shown=shown)


def _sqlite_check(path: str, *, shown: str | None = None) -> str:
    """The file's migration revision, once it proved a whole, sound portal database."""
    shown = shown or path
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
        size = os.path.getsize(path)
    except OSError as exc:
        raise BackupInvalid(shown, f"cannot read it ({exc.strerror})") from None
    if header.startswith(PGDUMP_MAGIC):
        raise BackupInvalid(shown, "a PostgreSQL backup (pg_dump), not a SQLite one")
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        raise BackupInvalid(shown, "not a SQLite database, or cut off in its header")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is trusted by SQLite only while the change counter
    # matches its "valid-for" copy; then a shorter file lost its tail (a copy cut short).
    if header[24:28] == header[92:96] and size < pages * page_size:
        raise BackupInvalid(shown, f"truncated ({size} of {pages * page_size} bytes)")
    try:
        conn = sqlite3.connect(_uri(path, "ro"), uri=True)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupInvalid(shown, f"integrity check failed: {problems[0][:200]}")
            has_alembic = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                "AND name = 'alembic_version'"
            ).fetchone()[0]
            revision = (
                conn.execute("SELECT version_num FROM alembic_version").fetchone()
                if has_alembic
                else None
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupInvalid(shown, f"corrupt ({exc})") from None
    if revision is None:
        raise BackupInvalid(shown, "not a portal database (no alembic_version)")
    return revision[0]


def _sqlite_tables(path: str) -> int:
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return 0
    try:
        conn = sqlite3.connect(_uri(path, "rw"), uri=True, timeout=30)
        try:
            return conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            ).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        raise UnsupportedDatabase(f"{path} is not a SQLite database") from None


def _sqlite_restore(backup: str, target: str) -> str:
    if not os.path.exists(target):
        os.close(create_private_file(target))  # personal data: owner only, like the backup
    src = sqlite3.connect(_uri(backup, "ro"), uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        # The backup API again, into the live file (never a file copy over it): SQLite
        # writes it in one transaction under its own locks, so the target is either the
        # old database or the whole new one, and its -wal/-shm stay consistent with it.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()
        src.close()
    conn = sqlite3.connect(target, timeout=30)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        conn.close()
    if problems != ["ok"]:
        raise BackupInvalid(target, f"integrity check after restore failed: {problems[0][:200]}")
    return revision[0]


# --- files ------------------------------------------------------------------------------


def _info(path: str, kind: str, revision: str | None) -> BackupInfo:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return BackupInfo(
        path=path,
        engine=kind,
        size=os.path.getsize(path),
        sha256=digest.hexdigest(),
        schema_revision=revision,
    )


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    # The new name is on disk too, not only the bytes (a crash right after could lose it).
    with contextlib.suppress(OSError):
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(path: str) -> None:
    for leftover in (path, f"{path}-journal", f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(leftover)
