"""``flask backup create PATH`` / ``flask backup restore PATH [--force]`` / ``flask backup
check`` (REFERENCE.md).

Thin: the copying and every check are :mod:`portal.backup.services`'. One line on stderr
and a non-zero exit for anything refused; nothing secret is printed (no password, no URL
with one: the target is named by its database name or file).
"""

from __future__ import annotations

import json
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup

from portal.backup.errors import (
    BackupError,
    BackupExists,
    BackupInvalid,
    TargetNotEmpty,
    ToolFailed,
    ToolMissing,
    UnsupportedDatabase,
)
from portal.backup.services import BackupInfo, check_database, create_backup, restore_backup
from portal.extensions import db

backup_cli = AppGroup("backup", help="Back up and restore the database.")


def _refuse(exc: BackupError) -> NoReturn:
    # Foundation only (no portal.cli_support): the same one-line ClickException.
    db.session.rollback()
    raise click.ClickException(" ".join(_describe(exc).split()))


def _describe(exc: BackupError) -> str:
    if isinstance(exc, BackupExists):
        return f"{exc.path} exists: a backup is never written over another file"
    if isinstance(exc, BackupInvalid):
        return f"refused {exc.path}: {exc.reason}; nothing was changed"
    if isinstance(exc, TargetNotEmpty):
        return (
            f"the database {exc.target} holds {exc.tables} tables; restoring replaces it:"
            " add --force to do so"
        )
    if isinstance(exc, ToolMissing):
        return f"{exc.tool} not found (install PostgreSQL's client programs)"
    if isinstance(exc, ToolFailed):
        return f"{exc.tool} failed: {exc.detail}"
    if isinstance(exc, UnsupportedDatabase):
        return f"cannot back up or restore this database: {exc.what}"
    return str(exc)


def _summary(info: BackupInfo) -> dict:
    return {
        "path": info.path,
        "engine": info.engine,
        "bytes": info.size,
        "sha256": info.sha256,
        "schema_revision": info.schema_revision,
    }


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def backup_create(path: str, as_json: bool) -> None:
    """Write a consistent, checked backup of the database to PATH (a new file, mode 0600)."""
    try:
        info = create_backup(db.engine.url, path)
    except BackupError as exc:
        _refuse(exc)
    if as_json:
        click.echo(json.dumps(_summary(info)))
        return
    click.echo(
        f"backup written and checked: {info.path} ({info.engine}, {info.size:,} bytes,"
        f" schema {info.schema_revision}, sha256 {info.sha256}); mode 0600: it holds"
        " personal data"
    )


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds tables.")
@click.option("--json", "as_json", is_flag=True)
def backup_restore(path: str, force: bool, as_json: bool) -> None:
    """Replace the database with the backup at PATH (stop the app first)."""
    # No connection of this process may hold the old database open while it is replaced.
    db.session.remove()
    db.engine.dispose()
    try:
        info = restore_backup(db.engine.url, path, force=force)
    except BackupError as exc:
        _refuse(exc)
    finally:
        db.engine.dispose()
    if as_json:
        click.echo(json.dumps(_summary(info)))
        return
    click.echo(
        f"restored {info.path} ({info.engine}, schema {info.schema_revision});"
        " run `flask db upgrade` if this code is newer than the backup"
    )


@backup_cli.command("check")
@click.option("--json", "as_json", is_flag=True)
def backup_check(as_json: bool) -> None:
    """Check the database (after a restore): integrity, foreign keys, rows per table.

    Exit 1 naming each problem. The staff access log's chain is checked by `flask audit
    verify`; a restore drill runs both (docs/OPERATIONS.md).
    """
    try:
        found = check_database(db.engine.url)
    except BackupError as exc:
        _refuse(exc)
    finally:
        db.session.remove()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "engine": found.engine,
                    "schema_revision": found.schema_revision,
                    "ok": not found.problems,
                    "problems": found.problems,
                    "rows": found.rows,
                }
            )
        )
    else:
        for name, count in found.rows.items():
            click.echo(f"{name}: {count} rows")
        for problem in found.problems:
            click.echo(f"PROBLEM {problem}")
        verdict = "ok" if not found.problems else f"{len(found.problems)} problems"
        click.echo(
            f"database ({found.engine}, schema {found.schema_revision}):"
            f" {len(found.rows)} tables, {verdict}"
        )
    if found.problems:
        raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(backup_cli)
