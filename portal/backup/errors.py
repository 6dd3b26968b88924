"""The backup package's failures: data, not text (the command words them)."""

from __future__ import annotations


class BackupError(Exception):
    """Base of the backup package's failures."""


class UnsupportedDatabase(BackupError):
    """Neither a SQLite file nor PostgreSQL (an in-memory SQLite database, say)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class BackupExists(BackupError):
    """The backup path exists: a backup is never written over another file."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class BackupInvalid(BackupError):
    """A backup file that is unreadable, truncated, corrupt, of the other database engine,
    or not of this portal; ``reason`` says which in a few words (no data from the file)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class TargetNotEmpty(BackupError):
    """Restore would replace a database that holds tables; ``--force`` says to."""

    def __init__(self, target: str, tables: int) -> None:
        super().__init__(f"{target}: {tables} tables")
        self.target = target
        self.tables = tables


class ToolMissing(BackupError):
    """``pg_dump`` / ``pg_restore`` not found (PATH, then /usr/lib/postgresql/*/bin)."""

    def __init__(self, tool: str) -> None:
        super().__init__(tool)
        self.tool = tool


class ToolFailed(BackupError):
    """``pg_dump`` / ``pg_restore`` exited non-zero; ``detail`` is its last error line."""

    def __init__(self, tool: str, detail: str) -> None:
        super().__init__(f"{tool}: {detail}")
        self.tool = tool
        self.detail = detail
