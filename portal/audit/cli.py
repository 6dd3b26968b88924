"""``flask audit verify``: check the staff access log's hash chain (exit 1 naming each break)."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

from portal.audit.access import verify_chain

audit_cli = AppGroup("audit", help="The staff access log (접속기록).")


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)


@audit_cli.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def audit_verify(as_json: bool) -> None:
    """Walk the access-log chain; exit 1 and name every edited, missing or moved record.

    Prints the head (position and hash): write it down outside the database (the monthly
    review keeps it too), so that even a rewritten chain no longer matches.
    """
    report = verify_chain()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked": report.checked,
                    "head_seq": report.head_seq,
                    "head_hash": report.head_hash,
                    "problems": [{"seq": p.seq, "reason": p.reason} for p in report.problems],
                }
            )
        )
    else:
        for problem in report.problems:
            click.echo(f"BROKEN {problem}", err=True)
        state = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        click.echo(
            f"access log: {report.checked} records checked, {state}; "
            f"head {report.head_seq} {report.head_hash}"
        )
    if not report.ok:
        raise SystemExit(1)
