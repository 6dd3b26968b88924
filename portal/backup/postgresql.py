"""PostgreSQL's half of backups (portal.backup.services): ``pg_dump -Fc`` and
``pg_restore`` run as tools, the password through a 0600 password file (never on a command
line), and the checks a dump must pass before it is trusted.

Foundation only, like services: a database URL, never the portal's models.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from portal.backup.errors import BackupInvalid, ToolFailed, ToolMissing
from portal.security import create_private_file

# The first bytes of the two kinds of backup file (a SQLite file handed to restore on
# PostgreSQL is named as such).
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# pg_restore --list names the alembic table's data as "TABLE DATA <schema> alembic_version".
_ALEMBIC_IN_TOC = re.compile(r"\bTABLE DATA \S+ alembic_version\b")
# PostgreSQL's tables, not the application's.
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def tool_path(name: str) -> str:
    """The path of ``pg_dump`` or ``pg_restore``: on PATH, else Debian's newest
    /usr/lib/postgresql/<version>/bin (where the server packages put them off PATH).

    :raises ToolMissing: neither.
    """
    found = shutil.which(name)
    if found:
        return found

    def version(candidate: str) -> tuple[int, ...]:
        part = Path(candidate).parent.parent.name
        return tuple(int(n) for n in re.findall(r"\d+", part))

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    if candidates:
        return candidates[-1]
    raise ToolMissing(name)


@contextlib.contextmanager
def libpq(url: URL) -> Iterator[tuple[str, dict[str, str]]]:
    """(connection URI without the password, environment for the pg_* tools).

    The password goes to a password file of mode 0600 in a private temporary directory,
    deleted afterwards: the command line is public (``ps``), and PGPASSWORD is discouraged
    by PostgreSQL's documentation for the same reason on some systems.
    """
    # Built anew: URL.set(password=None) leaves the password in place (None means "keep").
    conninfo = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    ).render_as_string(hide_password=False)
    env = dict(os.environ)
    if not url.password:
        yield conninfo, env
        return
    with tempfile.TemporaryDirectory(prefix="portal-pg-") as folder:
        passfile = os.path.join(folder, "pgpass")
        escaped = str(url.password).replace("\\", "\\\\").replace(":", "\\:")
        with os.fdopen(create_private_file(passfile), "w", encoding="utf-8") as fh:
            fh.write(f"*:*:*:*:{escaped}\n")
        env["PGPASSFILE"] = passfile
        env.pop("PGPASSWORD", None)
        yield conninfo, env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # A list, no shell: nothing in it is parsed by one. File arguments are made absolute
    # by the callers, so that a name starting with "-" is never read as an option.
    try:
        return subprocess.run(  # noqa: S603
            args, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
    except OSError as exc:
        raise ToolFailed(Path(args[0]).name, exc.strerror or str(exc)) from None


def _last_error(stderr: bytes) -> str:
    lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "fatal" in ln.lower()] or lines
    line = errors[-1] if errors else "no message"
    return re.sub(r"^pg_\w+: (error: )?", "", line.strip())[:300]


def dump(url: URL, partial: str) -> None:
    tool = tool_path("pg_dump")
    with libpq(url) as (conninfo, env):
        # --file: pg_dump truncates the 0600 file made for it (the mode stays) and, the
        # file being seekable, records where each table's data starts.
        done = _run(
            [tool, "--format=custom", "--no-password", f"--file={partial}", f"--dbname={conninfo}"],
            env,
        )
    if done.returncode != 0:
        raise ToolFailed("pg_dump", _last_error(done.stderr))


def check(path: str, *, shown: str | None = None) -> None:
    """A dump whose table of contents names alembic_version and which reads to its end."""
    shown = shown or path
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise BackupInvalid(shown, f"cannot read it ({exc.strerror})") from None
    if head.startswith(SQLITE_MAGIC):
        raise BackupInvalid(shown, "a SQLite backup, not a PostgreSQL one")
    if not head.startswith(PGDUMP_MAGIC):
        raise BackupInvalid(shown, "not a pg_dump custom-format file")
    tool = tool_path("pg_restore")
    env = dict(os.environ)
    path = os.path.abspath(path)
    listed = _run([tool, "--list", path], env)
    if listed.returncode != 0:
        raise BackupInvalid(shown, f"unreadable ({_last_error(listed.stderr)})")
    if not _ALEMBIC_IN_TOC.search(listed.stdout.decode("utf-8", "replace")):
        raise BackupInvalid(shown, "not a portal database (no alembic_version)")
    # The list is only the table of contents at the front of the file: reading every data
    # block (into nothing) is what finds a file cut short or damaged further on.
    read = _run([tool, f"--file={os.devnull}", path], env)
    if read.returncode != 0:
        raise BackupInvalid(shown, f"truncated or corrupt ({_last_error(read.stderr)})")


def tables(url: URL) -> int:
    engine = create_engine(url.set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            return conn.scalar(
                text(
                    "SELECT count(*) FROM pg_catalog.pg_tables "
                    "WHERE schemaname <> ALL(:system) AND schemaname NOT LIKE 'pg_temp%'"
                ),
                {"system": list(_SYSTEM_SCHEMAS)},
            )
    finally:
        engine.dispose()


def revision(url: URL) -> str | None:
    engine = create_engine(url.set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def restore(url: URL, path: str, *, clean: bool) -> None:
    tool = tool_path("pg_restore")
    # One transaction, stopping at the first error: a failure leaves the target as it was.
    # Owners and grants are left out: the restoring role owns what it restores, which is
    # what a restore into another server or role needs. --clean (only with --force, onto
    # a database that holds tables) drops each object of the backup before recreating it.
    args = [
        tool,
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "--no-password",
    ]
    if clean:
        args += ["--clean", "--if-exists"]
    with libpq(url) as (conninfo, env):
        done = _run([*args, f"--dbname={conninfo}", os.path.abspath(path)], env)
    if done.returncode != 0:
        raise ToolFailed("pg_restore", _last_error(done.stderr))
