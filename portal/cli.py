"""Command groups of CONTRACT.md. Thin: parse, call a service, commit, print.

Every command exits non-zero with a one-line reason on bad input; ``--json`` prints one JSON
object on stdout.
"""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db

customers_cli = AppGroup("customers", help="Register and manage customers.")
cards_cli = AppGroup("cards", help="Security cards (보안카드).")
demo_cli = AppGroup("demo", help="Demo data for a development machine.")
staff_cli = AppGroup("staff", help="Staff accounts.")
policy_cli = AppGroup("policy", help="Privacy-policy revisions (개인정보 처리방침).")
notices_cli = AppGroup("notices", help="Notices board (공지사항).")
corrections_cli = AppGroup("corrections", help="Correction requests (정정 신청).")
disclosures_cli = AppGroup("disclosures", help="Third-party disclosures (제3자 제공).")
inquiries_cli = AppGroup("inquiries", help="Customer inquiries (문의·민원).")


def _fail(message: object) -> None:
    """Roll back and exit non-zero with one line."""
    db.session.rollback()
    raise click.ClickException(" ".join(str(message).split()))


def _print_card(serial: str, codes: list[str]) -> None:
    click.echo(f"  보안카드 일련번호 / card serial: {serial}")
    for row in range(0, len(codes), 5):
        cells = [f"{n + 1:>2}: {codes[n]}" for n in range(row, min(row + 5, len(codes)))]
        click.echo("    " + "   ".join(cells))


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
@click.option("--password", required=True)
@click.option("--second-factor", type=click.Choice(["card", "otp"]), default="card")
@click.option("--activated", is_flag=True, help="Skip the first-login step.")
@click.option("--json", "as_json", is_flag=True)
def customers_create(as_json: bool, **fields) -> None:
    """Register a customer from an application form."""
    from portal.account import messages as m
    from portal.account.services import (
        LoginIdTaken,
        NewCustomer,
        ValidationFailed,
        register_customer,
    )

    try:
        result = register_customer(NewCustomer(**fields))
    except ValidationFailed as exc:
        _fail("; ".join(f"{name}: {msg}" for name, msg in exc.errors.items()))
    except LoginIdTaken:
        _fail(f"login_id: {m.LOGIN_ID_TAKEN}")
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
        _print_card(result.card_serial or "", result.card_codes)
    else:
        click.echo(f"  OTP secret: {result.otp_secret}")


@cards_cli.command("issue")
@click.argument("login_id")
@click.option("--json", "as_json", is_flag=True)
def cards_issue(login_id: str, as_json: bool) -> None:
    """Reissue a security card: the old card is revoked and its lock cleared."""
    from portal.account.services import customer_by_login_id
    from portal.auth.services import reissue_card

    customer = customer_by_login_id(login_id)
    if customer is None:
        _fail(f"no customer with login ID {login_id!r}")
    card, codes = reissue_card(customer)
    db.session.commit()
    if as_json:
        click.echo(
            json.dumps({"login_id": customer.login_id, "serial": card.serial, "codes": codes})
        )
        return
    click.echo(f"보안카드를 재발급했습니다 / card reissued: {customer.login_id}")
    _print_card(card.serial, codes)


@staff_cli.command("create")
@click.option("--login-id", required=True)
@click.option("--name", required=True)
@click.option(
    "--role", type=click.Choice(["support", "billing", "privacy_officer", "admin"]), required=True
)
@click.option("--password", required=True)
@click.option("--json", "as_json", is_flag=True)
def staff_create(login_id: str, name: str, role: str, password: str, as_json: bool) -> None:
    """Create a staff account; prints its TOTP secret once."""
    from portal.admin.services import StaffError, create_staff

    try:
        staff, secret = create_staff(login_id=login_id, name=name, role=role, password=password)
    except StaffError as exc:
        _fail(exc)
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"login_id": staff.login_id, "otp_secret": secret}))
    else:
        click.echo(f"staff {staff.login_id} ({staff.role}) — OTP secret: {secret}")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo data once (idempotent) and print the demo sign-ins."""
    from portal.demo import load_demo

    sign_ins = load_demo()
    db.session.commit()
    click.echo("데모 로그인 / demo sign-ins (http://127.0.0.1:5000/login):")
    for entry in sign_ins:
        click.echo(f"- {entry['who']}: 아이디 {entry['login_id']} / 비밀번호 {entry['password']}")
        if entry.get("card"):
            _print_card(entry["card"]["serial"], entry["card"]["codes"])
        if entry.get("otp_secret"):
            click.echo(f"  OTP secret (인증 앱에 입력): {entry['otp_secret']}")


def _read_body(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}")
    raise AssertionError("unreachable")  # _fail always raises


def _parse_date(value: str | None, option: str):
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option}: not a date (YYYY-MM-DD): {value!r}")


@policy_cli.command("announce")
@click.option("--label", required=True, help="Version label, e.g. 2026-12-15.")
@click.option("--title", required=True)
@click.option("--body", "body_path", required=True, help="Markdown file of the full text.")
@click.option("--effective", required=True, help="Effective date (KST), YYYY-MM-DD.")
@click.option("--announce", "announce", help="Announcement date (KST), default today.")
@click.option("--material", is_flag=True, help="A material change: 30 days' notice.")
@click.option("--author", default="", help="Who announces it (recorded with the version).")
@click.option("--json", "as_json", is_flag=True)
def policy_announce(
    label: str,
    title: str,
    body_path: str,
    effective: str,
    announce: str | None,
    material: bool,
    author: str,
    as_json: bool,
) -> None:
    """Schedule a policy revision and publish its pinned announcement notice."""
    from sqlalchemy.exc import IntegrityError

    from portal.policy.errors import LabelTaken, PolicyError
    from portal.policy.messages import message_for
    from portal.policy.versions import announce_revision, announcement_notice

    body = _read_body(body_path)
    effective_on = _parse_date(effective, "--effective")
    announced_on = _parse_date(announce, "--announce")
    try:
        version = announce_revision(
            label=label,
            title=title,
            body_md=body,
            effective_on=effective_on,
            announced_on=announced_on,
            material=material,
            author=author,
        )
        notice_id = announcement_notice(version).id
        db.session.commit()
    except PolicyError as exc:
        _fail(message_for(exc))
    except IntegrityError:
        # Another announcement took the label between our check and the commit.
        _fail(message_for(LabelTaken(label)))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "label": version.label,
                    "announced_on": version.announced_on.isoformat(),
                    "effective_on": version.effective_on.isoformat(),
                    "notice_id": notice_id,
                }
            )
        )
        return
    click.echo(
        f"공고했습니다 / announced: {version.label} "
        f"(공고 {version.announced_on}, 시행 {version.effective_on}); notice #{notice_id}"
    )


@notices_cli.command("post")
@click.option("--title", required=True)
@click.option("--body", "body_path", required=True, help="Markdown file.")
@click.option("--pinned", is_flag=True, help="Pin to the top of the board.")
@click.option("--pinned-until", help="Pinned until this KST date (default: until unpinned).")
@click.option("--popup", is_flag=True, help="Also show as a popup on the home page.")
@click.option("--popup-until", help="Last KST day of the popup (default: no end).")
@click.option("--author", default="")
@click.option("--json", "as_json", is_flag=True)
def notices_post(
    title: str,
    body_path: str,
    pinned: bool,
    pinned_until: str | None,
    popup: bool,
    popup_until: str | None,
    author: str,
    as_json: bool,
) -> None:
    """Post a notice on the board."""
    from portal.policy.errors import PolicyError
    from portal.policy.messages import message_for
    from portal.policy.notices import PINNED_INDEFINITELY, post_notice

    body = _read_body(body_path)
    pin_date = _parse_date(pinned_until, "--pinned-until")
    if pinned and pin_date is None:
        pin_date = PINNED_INDEFINITELY
    try:
        notice = post_notice(
            title=title,
            body_md=body,
            pinned_until=pin_date,
            popup=popup,
            popup_until=_parse_date(popup_until, "--popup-until"),
            author=author,
        )
        db.session.commit()
    except PolicyError as exc:
        _fail(message_for(exc))
    if as_json:
        click.echo(json.dumps({"notice_id": notice.id}))
        return
    click.echo(f"게시했습니다 / posted: notice #{notice.id} {notice.title}")


def register(app: Flask) -> None:
    for group in (customers_cli, cards_cli, demo_cli, staff_cli, policy_cli, notices_cli):
        app.cli.add_command(group)
    from portal.account.cli import register as register_account

    register_account(app)
