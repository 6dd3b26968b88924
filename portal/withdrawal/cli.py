"""``flask withdrawals list`` and ``flask withdrawals complete ID``: the staff queue of
withdrawal requests until the back office has a screen. Thin: the same services as the portal
(:func:`~portal.withdrawal.services.complete_request` calls ``complete_withdrawal``).
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from portal.cli_support import fail
from portal.extensions import db
from portal.withdrawal.errors import NoOpenRequest, WithdrawalError
from portal.withdrawal.messages import message_for
from portal.withdrawal.services import complete_request, open_requests

withdrawals_cli = AppGroup("withdrawals", help="Withdrawal requests (탈퇴 신청) for staff.")


def register(app: Flask) -> None:
    app.cli.add_command(withdrawals_cli)


@withdrawals_cli.command("list")
def withdrawals_list() -> None:
    """Open requests, oldest first: id, date, login ID."""
    rows = open_requests()
    for row, login_id in rows:
        click.echo(f"{row.id}\t{row.created_at.date().isoformat()}\t{login_id}")
    if not rows:
        click.echo("no open withdrawal requests")


@withdrawals_cli.command("complete")
@click.argument("request_id", type=int)
@click.option("--by", "actor", default="staff", help="Who completes it (kept in the record).")
def withdrawals_complete(request_id: int, actor: str) -> None:
    """Complete a queued request once payments are settled (destroys the customer's data)."""
    try:
        complete_request(request_id, actor=actor)
        db.session.commit()
    except WithdrawalError as exc:
        db.session.rollback()
        fail(message_for(exc))
    except IntegrityError:
        db.session.rollback()
        fail(message_for(NoOpenRequest()))
    click.echo(f"withdrawal request {request_id} completed")
