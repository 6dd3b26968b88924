"""Staff commands of the account package until the staff screens exist (thin: parse, call a
service, commit, print). Groups are declared in portal.cli with the others."""

from __future__ import annotations

import json

import click
from flask import Flask

from portal.cli import _fail, _read_body, corrections_cli, disclosures_cli, inquiries_cli
from portal.extensions import db


def _errors(exc) -> str:
    return "; ".join(f"{name}: {msg}" for name, msg in exc.errors.items())


def _customer(login_id: str):
    from portal.customers.services import customer_by_login_id

    customer = customer_by_login_id(login_id)
    if customer is None:
        _fail(f"no customer with login ID {login_id!r}")
    return customer


@corrections_cli.command("list")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved requests.")
@click.option("--json", "as_json", is_flag=True)
def corrections_list(include_resolved: bool, as_json: bool) -> None:
    """Correction requests waiting for review (oldest first), with notification tasks."""
    from portal.account.corrections import correction_queue

    rows = correction_queue(include_resolved=include_resolved)
    out = [
        {
            "id": r.id,
            "login_id": login_id,
            "field": r.field,
            "value": r.new_value,
            "reason": r.reason,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
            "notices": [
                {"id": n.id, "recipient": n.recipient, "notified": n.notified_at is not None}
                for n in r.notifications
            ],
        }
        for r, login_id in rows
    ]
    if as_json:
        click.echo(json.dumps({"corrections": out}, ensure_ascii=False))
        return
    if not out:
        click.echo("정정 신청 없음 / no correction requests")
    for item in out:
        click.echo(
            f"#{item['id']} {item['login_id']} {item['field']} → {item['value']!r} "
            f"[{item['status']}] {item['created_at']} 사유: {item['reason']}"
        )
        for n in item["notices"]:
            state = "done" if n["notified"] else "pending"
            click.echo(f"    notice #{n['id']} {n['recipient']} [{state}]")


@corrections_cli.command("approve")
@click.argument("correction_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def corrections_approve(correction_id: int, as_json: bool) -> None:
    """Apply a correction; opens a notification task per earlier recipient."""
    from portal.account import messages as m
    from portal.account.corrections import approve_correction
    from portal.account.errors import CorrectionConflict, CorrectionNotFound, CorrectionNotOpen
    from portal.customers.errors import ValidationFailed

    try:
        row = approve_correction(correction_id)
    except CorrectionConflict:
        _fail(m.CORRECTION_CONFLICT)
    except CorrectionNotFound:
        _fail(m.CORRECTION_NOT_FOUND)
    except CorrectionNotOpen:
        _fail(m.CORRECTION_NOT_OPEN)
    except ValidationFailed as exc:
        _fail(_errors(exc))
    notices = [{"id": n.id, "recipient": n.recipient} for n in row.notifications]
    db.session.commit()
    if as_json:
        click.echo(
            json.dumps({"id": row.id, "status": row.status, "notices": notices}, ensure_ascii=False)
        )
        return
    click.echo(f"승인했습니다 / approved: #{row.id} ({row.field})")
    for n in notices:
        click.echo(f"  통지 작업 / notify task #{n['id']}: {n['recipient']}")


@corrections_cli.command("reject")
@click.argument("correction_id", type=int)
@click.option("--reason", required=True, help="Shown to the customer.")
def corrections_reject(correction_id: int, reason: str) -> None:
    """Reject a correction request with a reason; the data stays as it is."""
    from portal.account import messages as m
    from portal.account.corrections import reject_correction
    from portal.account.errors import CorrectionNotFound, CorrectionNotOpen
    from portal.customers.errors import ValidationFailed

    try:
        row = reject_correction(correction_id, reason=reason)
    except CorrectionNotFound:
        _fail(m.CORRECTION_NOT_FOUND)
    except CorrectionNotOpen:
        _fail(m.CORRECTION_NOT_OPEN)
    except ValidationFailed as exc:
        _fail(_errors(exc))
    db.session.commit()
    click.echo(f"반려했습니다 / rejected: #{row.id} ({row.field})")


@corrections_cli.command("notified")
@click.argument("task_id", type=int)
def corrections_notified(task_id: int) -> None:
    """Mark a "notify of correction" task done (the recipient was told)."""
    from portal.account import messages as m
    from portal.account.corrections import mark_notified
    from portal.account.errors import NoticeAlreadyDone, NoticeNotFound

    try:
        notice = mark_notified(task_id)
    except NoticeNotFound:
        _fail(m.NOTICE_NOT_FOUND)
    except NoticeAlreadyDone:
        _fail(m.NOTICE_ALREADY_DONE)
    db.session.commit()
    click.echo(f"통지 완료 / notified: #{notice.id} {notice.recipient}")


@disclosures_cli.command("record")
@click.option("--login-id", required=True)
@click.option("--recipient", required=True)
@click.option("--basis", required=True, help="Legal basis (법적 근거).")
@click.option("--items", required=True, help='Comma-separated, e.g. "name,phone".')
@click.option("--date", "disclosed_on", help="YYYY-MM-DD (KST); default today.")
@click.option("--json", "as_json", is_flag=True)
def disclosures_record(
    login_id: str,
    recipient: str,
    basis: str,
    items: str,
    disclosed_on: str | None,
    as_json: bool,
) -> None:
    """Record one provision of a customer's data to a third party."""
    from portal.account import messages as m
    from portal.account.disclosures import record_disclosure
    from portal.account.errors import UnderCorrection
    from portal.customers.errors import ValidationFailed

    customer = _customer(login_id)
    try:
        row = record_disclosure(
            customer,
            recipient=recipient,
            legal_basis=basis,
            items=items,
            disclosed_on=disclosed_on,
        )
    except ValidationFailed as exc:
        _fail(_errors(exc))
    except UnderCorrection as exc:
        _fail(m.message_for(exc))
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"disclosure_id": row.id}))
        return
    click.echo(f"기록했습니다 / recorded: #{row.id} {row.disclosed_on} {row.recipient}")


@inquiries_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def inquiries_list(as_json: bool) -> None:
    """Inquiries waiting for an answer, oldest first."""
    from portal.account.inquiries import unanswered_inquiries

    rows = [
        {
            "id": q.id,
            "login_id": login_id,
            "subject": q.subject,
            "created_at": q.created_at.isoformat(),
        }
        for q, login_id in unanswered_inquiries()
    ]
    if as_json:
        click.echo(json.dumps({"inquiries": rows}, ensure_ascii=False))
        return
    if not rows:
        click.echo("답변할 문의 없음 / no inquiries waiting")
    for q in rows:
        click.echo(f"#{q['id']} {q['login_id']} {q['created_at']} {q['subject']}")


@inquiries_cli.command("answer")
@click.argument("inquiry_id", type=int)
@click.option("--body", help="The answer's text, always taken literally.")
@click.option("--body-file", help="The path of a UTF-8 file holding the answer.")
def inquiries_answer(inquiry_id: int, body: str | None, body_file: str | None) -> None:
    """Answer an inquiry; the customer reads it at /account/inquiries."""
    from portal.account import messages as m
    from portal.account.errors import InquiryAlreadyAnswered, InquiryNotFound
    from portal.account.inquiries import answer_inquiry
    from portal.customers.errors import ValidationFailed

    # Two options, never a guess: an answer that happened to name a file on this machine
    # used to be replaced by that file's content and sent to the customer.
    if (body is None) == (body_file is None):
        _fail("give the answer with exactly one of --body TEXT or --body-file PATH")
    text = _read_body(body_file) if body_file is not None else body
    try:
        row = answer_inquiry(inquiry_id, body=text)
    except InquiryNotFound:
        _fail(m.INQUIRY_NOT_FOUND)
    except InquiryAlreadyAnswered:
        _fail(m.INQUIRY_ALREADY_ANSWERED)
    except ValidationFailed as exc:
        _fail(_errors(exc))
    db.session.commit()
    click.echo(f"답변했습니다 / answered: #{row.id}")


def register(app: Flask) -> None:
    for group in (corrections_cli, disclosures_cli, inquiries_cli):
        app.cli.add_command(group)
