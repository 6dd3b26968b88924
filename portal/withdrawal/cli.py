"""``flask withdrawals list|complete ID`` and ``flask rights list|answer ID``: the staff
queues of withdrawal and rights requests until the back office has a screen. Thin: the
same services as the portal (``complete_request`` calls ``complete_withdrawal``).
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from portal.audit.access import record_cli_access
from portal.cli_support import fail
from portal.customers.errors import ValidationFailed
from portal.dbtypes import ID_MAX
from portal.extensions import db
from portal.withdrawal.errors import NoOpenRequest, WithdrawalError
from portal.withdrawal.messages import message_for
from portal.withdrawal.rights import answer_rights_request, open_rights_requests
from portal.withdrawal.services import (
    DESTROYED_TABLES,
    RETAINED_TABLES,
    complete_request,
    open_requests,
    queued_request,
)

withdrawals_cli = AppGroup("withdrawals", help="Withdrawal requests (탈퇴 신청) for staff.")
rights_cli = AppGroup("rights", help="Deletion, suspension and consent requests (권리 행사).")


def register(app: Flask) -> None:
    app.cli.add_command(withdrawals_cli)
    app.cli.add_command(rights_cli)


@withdrawals_cli.command("list")
def withdrawals_list() -> None:
    """Open requests, oldest first: id, date, login ID."""
    rows = open_requests()
    for row, login_id in rows:
        click.echo(f"{row.id}\t{row.created_at.date().isoformat()}\t{login_id}")
    if not rows:
        click.echo("no open withdrawal requests")


@withdrawals_cli.command("complete")
@click.argument("request_id", type=click.IntRange(1, ID_MAX))
@click.option("--by", "actor", default="staff", help="Who completes it (kept in the record).")
def withdrawals_complete(request_id: int, actor: str) -> None:
    """Complete a queued request once payments are settled (destroys the customer's data)."""
    try:
        customer_id = queued_request(request_id).customer.id
        # Before the service: afterwards the customer is gone (the record keeps the id only).
        record_cli_access(
            "withdrawal_complete",
            customer_id=customer_id,
            fields=sorted(set(RETAINED_TABLES) | set(DESTROYED_TABLES)),
        )
        complete_request(request_id, actor=actor)
        db.session.commit()
    except WithdrawalError as exc:
        db.session.rollback()
        fail(message_for(exc))
    except IntegrityError:
        db.session.rollback()
        fail(message_for(NoOpenRequest()))
    click.echo(f"withdrawal request {request_id} completed")


@rights_cli.command("list")
def rights_list() -> None:
    """Open rights requests, nearest deadline first: id, deadline, kind, login ID."""
    rows = open_rights_requests()
    for row, login_id in rows:
        click.echo(f"{row.id}\t{row.due_on.isoformat()}\t{row.kind}\t{login_id}\t{row.detail}")
    if not rows:
        click.echo("no open rights requests")


@rights_cli.command("answer")
@click.argument("request_id", type=click.IntRange(1, ID_MAX))
@click.option("--body", required=True, help="The answer's text (shown to the customer).")
def rights_answer(request_id: int, body: str) -> None:
    """Answer a rights request; the customer reads it at /account/rights."""
    try:
        answer_rights_request(request_id, body=body)
    except WithdrawalError as exc:
        db.session.rollback()
        fail(message_for(exc))
    except ValidationFailed as exc:
        db.session.rollback()
        fail(exc.one_line())
    db.session.commit()
    click.echo(f"rights request {request_id} answered")
