"""Staff commands (REFERENCE.md), until the back office has screens for them: register a
customer, reissue a card, create a staff account, review corrections, record disclosures,
answer inquiries. Thin: parse, call a service, commit, print; the rules are the services'.

Every command exits non-zero with a one-line reason on bad input; ``--json`` prints one JSON
object on stdout.
"""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

from portal.account import messages as am
from portal.account.corrections import (
    approve_correction,
    correction_queue,
    mark_notified,
    reject_correction,
)
from portal.account.disclosures import record_disclosure
from portal.account.errors import AccountError
from portal.account.inquiries import answer_inquiry, unanswered_inquiries
from portal.admin.customer_import import customers_import
from portal.admin.services import StaffError, create_staff
from portal.audit.access import record_cli_access
from portal.auth.registration import register_customer
from portal.auth.services import reissue_card
from portal.cli_support import (
    fail,
    password_options,
    print_card,
    read_body,
    read_password,
)
from portal.customers import messages as cm
from portal.customers.errors import LoginIdTaken, UnderCorrection, ValidationFailed
from portal.customers.services import APPLICATION_FIELDS, NewCustomer, customer_by_login_id
from portal.extensions import db

customers_cli = AppGroup("customers", help="Register and manage customers.")
cards_cli = AppGroup("cards", help="Security cards (보안카드).")
staff_cli = AppGroup("staff", help="Staff accounts.")
corrections_cli = AppGroup("corrections", help="Correction requests (정정 신청).")
disclosures_cli = AppGroup("disclosures", help="Third-party disclosures (제3자 제공).")
inquiries_cli = AppGroup("inquiries", help="Customer inquiries (문의·민원).")
customers_cli.add_command(customers_import)


@customers_cli.command("create")
@click.option("--login-id", required=True)
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--phone", required=True)
@click.option("--member-type", type=click.Choice(["general", "overseas"]), default="general")
@click.option(
    "--customer-type", type=click.Choice(["individual", "business"]), default="individual"
)
@click.option("--birth-date")
@click.option("--business-number")
@click.option("--postal-code")
@click.option("--address")
@click.option("--country", help="ISO country code (overseas members)")
@click.option("--username")
@password_options
@click.option("--second-factor", type=click.Choice(["card", "otp"]), default="card")
@click.option("--activated", is_flag=True, help="Skip the first-login step.")
@click.option("--json", "as_json", is_flag=True)
def customers_create(as_json: bool, password_stdin: bool, **fields) -> None:
    """Register a customer from an application form."""
    fields["password"] = read_password(fields["password"], password_stdin)
    try:
        result = register_customer(NewCustomer(**fields))
        record_cli_access("register", customer_id=result.customer.id, fields=APPLICATION_FIELDS)
    except ValidationFailed as exc:
        fail(exc.one_line())
    except LoginIdTaken:
        fail(f"login_id: {cm.LOGIN_ID_TAKEN}")
    db.session.commit()
    customer = result.customer
    if as_json:
        out: dict = {"login_id": customer.login_id}
        if result.card_codes is not None:
            out["security_card"] = {"serial": result.card_serial, "codes": result.card_codes}
        else:
            out["otp_secret"] = result.otp_secret
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(f"등록했습니다 / registered: {customer.login_id}")
    if result.card_codes is not None:
        print_card(result.card_serial or "", result.card_codes)
    else:
        click.echo(f"  OTP secret: {result.otp_secret}")


@cards_cli.command("issue")
@click.argument("login_id")
@click.option("--json", "as_json", is_flag=True)
def cards_issue(login_id: str, as_json: bool) -> None:
    """Reissue a security card: the old card is revoked and its lock cleared."""
    customer = customer_by_login_id(login_id)
    if customer is None:
        fail(f"no customer with login ID {login_id!r}")
    card, codes = reissue_card(customer)
    record_cli_access("card_issue", customer_id=customer.id, fields=["security_card"])
    db.session.commit()
    if as_json:
        click.echo(
            json.dumps({"login_id": customer.login_id, "serial": card.serial, "codes": codes})
        )
        return
    click.echo(f"보안카드를 재발급했습니다 / card reissued: {customer.login_id}")
    print_card(card.serial, codes)


@staff_cli.command("create")
@click.option("--login-id", required=True)
@click.option("--name", required=True)
@click.option(
    "--role", type=click.Choice(["support", "billing", "privacy_officer", "admin"]), required=True
)
@password_options
@click.option("--json", "as_json", is_flag=True)
def staff_create(
    login_id: str, name: str, role: str, password: str | None, password_stdin: bool, as_json: bool
) -> None:
    """Create a staff account; prints its TOTP secret once."""
    password = read_password(password, password_stdin)
    try:
        staff, secret = create_staff(login_id=login_id, name=name, role=role, password=password)
    except StaffError as exc:
        fail(exc)
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"login_id": staff.login_id, "otp_secret": secret}))
    else:
        click.echo(f"staff {staff.login_id} ({staff.role}) — OTP secret: {secret}")


def _customer(login_id: str):

    customer = customer_by_login_id(login_id)
    if customer is None:
        fail(f"no customer with login ID {login_id!r}")
    return customer


@corrections_cli.command("list")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved requests.")
@click.option("--json", "as_json", is_flag=True)
def corrections_list(include_resolved: bool, as_json: bool) -> None:
    """Correction requests waiting for review (oldest first), with notification tasks."""
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
    try:
        row = approve_correction(correction_id)
    except AccountError as exc:
        fail(am.message_for(exc))
    except ValidationFailed as exc:
        fail(exc.one_line())
    notices = [{"id": n.id, "recipient": n.recipient} for n in row.notifications]
    record_cli_access("correction_approve", customer_id=row.customer_id, fields=[row.field])
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
    try:
        row = reject_correction(correction_id, reason=reason)
    except AccountError as exc:
        fail(am.message_for(exc))
    except ValidationFailed as exc:
        fail(exc.one_line())
    record_cli_access("correction_reject", customer_id=row.customer_id, fields=[row.field])
    db.session.commit()
    click.echo(f"반려했습니다 / rejected: #{row.id} ({row.field})")


@corrections_cli.command("notified")
@click.argument("task_id", type=int)
def corrections_notified(task_id: int) -> None:
    """Mark a "notify of correction" task done (the recipient was told)."""
    try:
        notice = mark_notified(task_id)
    except AccountError as exc:
        fail(am.message_for(exc))
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
        fail(exc.one_line())
    except UnderCorrection as exc:
        fail(am.message_for(exc))
    record_cli_access("disclosure_record", customer_id=customer.id, fields=["disclosures"])
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"disclosure_id": row.id}))
        return
    click.echo(f"기록했습니다 / recorded: #{row.id} {row.disclosed_on} {row.recipient}")


@inquiries_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def inquiries_list(as_json: bool) -> None:
    """Inquiries waiting for an answer, oldest first."""
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
    # Two options, never a guess: an answer that happened to name a file on this machine
    # used to be replaced by that file's content and sent to the customer.
    if (body is None) == (body_file is None):
        fail("give the answer with exactly one of --body TEXT or --body-file PATH")
    text = read_body(body_file) if body_file is not None else body
    try:
        row = answer_inquiry(inquiry_id, body=text)
    except AccountError as exc:
        fail(am.message_for(exc))
    except ValidationFailed as exc:
        fail(exc.one_line())
    record_cli_access("inquiry_answer", customer_id=row.customer_id, fields=["inquiries"])
    db.session.commit()
    click.echo(f"답변했습니다 / answered: #{row.id}")


def register(app: Flask) -> None:
    for group in (
        customers_cli,
        cards_cli,
        staff_cli,
        corrections_cli,
        disclosures_cli,
        inquiries_cli,
    ):
        app.cli.add_command(group)
