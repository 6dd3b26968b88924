"""Command groups of CONTRACT.md. Thin: parse, call a service, commit, print.

Every command exits non-zero with a one-line reason on bad input; ``--json`` prints one JSON
object on stdout.
"""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

# The shared helpers live below every package (portal.cli_support) so that a package's cli.py
# never imports this module, which imports it. portal.account.cli still imports _fail and
# _read_body from here; once it imports portal.cli_support, these two aliases can go.
from portal.cli_support import fail as _fail
from portal.cli_support import read_body as _read_body  # noqa: F401 - see above
from portal.extensions import db
from portal.policy import cli as policy_commands

customers_cli = AppGroup("customers", help="Register and manage customers.")
cards_cli = AppGroup("cards", help="Security cards (보안카드).")
demo_cli = AppGroup("demo", help="Demo data for a development machine.")
staff_cli = AppGroup("staff", help="Staff accounts.")
corrections_cli = AppGroup("corrections", help="Correction requests (정정 신청).")
disclosures_cli = AppGroup("disclosures", help="Third-party disclosures (제3자 제공).")
inquiries_cli = AppGroup("inquiries", help="Customer inquiries (문의·민원).")


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


def register(app: Flask) -> None:
    for group in (customers_cli, cards_cli, demo_cli, staff_cli):
        app.cli.add_command(group)
    policy_commands.register(app)
    from portal.account.cli import register as register_account

    register_account(app)
