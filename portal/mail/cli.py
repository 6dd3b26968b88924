"""``flask mail deliver [--loop]``: send what the outbox holds (REFERENCE.md)."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.mail.delivery import BATCH_SIZE, deliver_due, transport_for
from portal.mail.models import OutboxMessage

mail_cli = AppGroup("mail", help="The outbox: delivery of the portal's email.")


def register(app: Flask) -> None:
    app.cli.add_command(mail_cli)


def _round(batch_size: int) -> tuple[int, int, int]:
    sent = retrying = failed = 0
    while True:
        report = deliver_due(
            commit=db.session.commit,
            transport=transport_for(current_app.config),
            limit=batch_size,
        )
        sent, retrying, failed = (
            sent + report.sent,
            retrying + report.retrying,
            failed + report.failed,
        )
        # A short batch, or one that stopped on a failure: the due messages are done for now.
        if report.sent < batch_size or report.retrying or report.failed:
            return sent, retrying, failed


@mail_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped (Ctrl-C).")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600))
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(1, 5000))
def mail_deliver(loop: bool, interval: float, batch_size: int) -> None:
    """Send the pending messages; failures are retried later with a growing delay."""
    try:
        while True:
            try:
                sent, retrying, failed = _round(batch_size)
            except OperationalError as exc:
                # The database is away for a moment: nothing was lost, try again next round.
                db.session.rollback()
                if not loop:
                    raise click.ClickException(f"database unavailable: {exc.orig}") from None
                click.echo(f"mail: database unavailable, retrying in {interval:g}s", err=True)
            else:
                if sent or retrying or failed or not loop:
                    click.echo(f"sent\t{sent}\nretrying\t{retrying}\nfailed\t{failed}")
            db.session.remove()
            if not loop:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("mail: stopped", err=True)
    pending = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    )
    if not loop:
        click.echo(f"pending\t{pending}")
