"""The command line: each package's command groups, and the demo data (REFERENCE.md).

Thin: the groups live with their packages (``admin/cli.py`` for the staff commands,
``policy/cli.py`` for revisions and notices); this module only registers them.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from portal.admin import cli as admin_commands
from portal.audit import cli as audit_commands
from portal.backup import cli as backup_commands
from portal.billing import cli as billing_commands
from portal.cli_support import fail, print_card
from portal.demo import DemoRefused, load_demo
from portal.extensions import db
from portal.keys import cli as keys_commands
from portal.mail import cli as mail_commands
from portal.policy import cli as policy_commands
from portal.retention import cli as retention_commands
from portal.withdrawal import cli as withdrawal_commands

demo_cli = AppGroup("demo", help="Demo data for a development machine.")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo data once (idempotent) and print the demo sign-ins."""
    try:
        sign_ins = load_demo()
    except DemoRefused as exc:
        fail(
            f"refusing to load demo data in {exc.env_name!r}: its sign-ins have published "
            "passwords (development and testing only)"
        )
    db.session.commit()
    click.echo("데모 로그인 / demo sign-ins (http://127.0.0.1:5000/login):")
    staff_heading = False
    for entry in sign_ins:
        if entry.get("staff") and not staff_heading:
            staff_heading = True
            click.echo("직원 로그인 / staff sign-ins (http://127.0.0.1:5000/admin/login):")
        click.echo(f"- {entry['who']}: 아이디 {entry['login_id']} / 비밀번호 {entry['password']}")
        if entry.get("card"):
            print_card(entry["card"]["serial"], entry["card"]["codes"])
        if entry.get("otp_secret"):
            click.echo(f"  OTP secret (인증 앱에 입력): {entry['otp_secret']}")


def register(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    admin_commands.register(app)
    policy_commands.register(app)
    billing_commands.register(app)
    keys_commands.register(app)
    withdrawal_commands.register(app)
    retention_commands.register(app)
    backup_commands.register(app)
    audit_commands.register(app)
    mail_commands.register(app)
