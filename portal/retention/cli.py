"""``flask retention purge [--dry-run] [--now YYYY-MM-DD]``: destroy what is past its date.

Commits after every batch, so an interrupted run keeps what it destroyed and a rerun
carries on (idempotent: a second run the same day finds nothing). Counts per category.
"""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from portal.cli_support import fail
from portal.database import checkpoint_wal
from portal.dbtypes import kst_today
from portal.extensions import db
from portal.retention.errors import RetentionError
from portal.retention.messages import message_for
from portal.retention.store import purge

retention_cli = AppGroup("retention", help="The retention store (보존 기록) and its purge.")


def register(app: Flask) -> None:
    app.cli.add_command(retention_cli)


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be destroyed; change nothing.")
@click.option("--now", "now", help="The date to purge as of (KST), default today.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def retention_purge(dry_run: bool, now: str | None, batch_size: int) -> None:
    """Destroy retained records past their date, security events older than 6 months, staff
    access records older than 2 years and role-log rows older than 3."""
    try:
        as_of = date.fromisoformat(now) if now else kst_today()
    except ValueError:
        fail(f"--now: not a date (YYYY-MM-DD): {now!r}")

    try:
        if dry_run:
            counts = purge(as_of, dry_run=True, batch_size=batch_size)
        else:
            # Count first for the progress bar (on stderr, so stdout stays the counts).
            total = sum(purge(as_of, dry_run=True).values())
            with click.progressbar(length=total, label="purging", file=sys.stderr) as bar:

                def committed(_category: str, count: int) -> None:
                    db.session.commit()  # each batch holds on its own: safe to stop
                    bar.update(count)

                counts = purge(as_of, batch_size=batch_size, on_batch=committed)
    except RetentionError as exc:
        db.session.rollback()
        fail(message_for(exc))
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        checkpoint_wal()
    verb = "would destroy" if dry_run else "destroyed"
    click.echo(f"retention purge as of {as_of.isoformat()} ({verb}):")
    for category, count in counts.items():
        click.echo(f"{category}\t{count}")
