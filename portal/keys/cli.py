"""``flask keys rotate [--dry-run]`` (REFERENCE.md): thin over :mod:`portal.keys.rotation`."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

from portal.cli_support import fail
from portal.extensions import db
from portal.keys.rotation import ENCRYPTED_COLUMNS, column_name, rotate_batch
from portal.security import InvalidToken

keys_cli = AppGroup("keys", help="Data-encryption keys (PORTAL_DATA_KEYS).")


@keys_cli.command("rotate")
@click.option("--dry-run", is_flag=True, help="Only count the values to re-encrypt.")
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(dry_run: bool, as_json: bool) -> None:
    """Re-encrypt every encrypted column with the newest key, committing each batch."""
    counts: dict[str, int] = {}
    for column in ENCRYPTED_COLUMNS:
        name = column_name(column)
        counts[name] = 0
        after = 0
        while True:
            try:
                batch = rotate_batch(column, after_id=after, dry_run=dry_run)
            except InvalidToken:
                fail(f"{name}: a value no configured key opens (was a key removed too early?)")
            if dry_run:
                db.session.rollback()
            else:
                db.session.commit()
            counts[name] += batch.stale
            if batch.seen == 0:
                break
            after = batch.last_id
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, "counts": counts}))
        return
    verb = "would re-encrypt" if dry_run else "re-encrypted"
    for name, count in counts.items():
        click.echo(f"{name}: {verb} {count}")
    click.echo(f"total: {verb} {sum(counts.values())}")


def register(app: Flask) -> None:
    app.cli.add_command(keys_cli)
