"""``flask customers import FILE.csv [--dry-run] [--secrets-out PATH] [--json]``: application
forms in bulk, all or nothing, on the service the import screen uses
(:mod:`portal.auth.imports`).

What staff hand over: each customer's temporary password with their security card (or OTP
secret), made at import and shown once. On standard output by default, as
``customers create`` prints a card; ``--secrets-out`` writes them instead to a new file
readable by its owner only (0600), for a batch printed as sealed letters. Either way they
are delivered *before* the commit: if they cannot be written, nothing is imported, so no
account is left whose temporary password nobody saw. They never go to a log.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import nullcontext, suppress

import click

from portal.audit.access import record_cli_access
from portal.auth import messages as m
from portal.auth.errors import ImportConflict, ImportRefused
from portal.auth.imports import ImportedCustomer, apply_import, check_import, row_error
from portal.cli_support import fail, print_card
from portal.customers.services import APPLICATION_FIELDS
from portal.extensions import db
from portal.security import create_private_file

# From this many rows a progress bar (stderr) shows the writing: each row is a bcrypt hash,
# about a quarter of a second at production cost, so 10,000 rows take most of an hour.
PROGRESS_FROM = 100


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@click.option(
    "--secrets-out",
    type=click.Path(dir_okay=False),
    help="Write the temporary passwords and cards to this new file (JSON, mode 0600) "
    "instead of standard output.",
)
@click.option("--json", "as_json", is_flag=True)
def customers_import(path: str, dry_run: bool, secrets_out: str | None, as_json: bool) -> None:
    """Register customers from a CSV file of application forms: every row or none."""
    if secrets_out and os.path.lexists(secrets_out):
        # Checked before any work (and again, atomically, when it is created).
        fail(f"{secrets_out} exists: refusing to overwrite it (it would hold passwords)")
    try:
        with click.open_file(path, "rb") as fh:
            plan = check_import(fh)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    except ImportRefused as exc:
        fail(m.import_refusal(exc))
    summary: dict = {"dry_run": dry_run, "rows": plan.rows, "imported": 0}
    if not plan.ok:
        for line, reason in plan.errors:
            click.echo(row_error(line, reason), err=True)
        if as_json:
            errors = [{"line": line, "message": reason} for line, reason in plan.errors]
            click.echo(json.dumps({**summary, "errors": errors}, ensure_ascii=False))
        fail(m.IMPORT_NOTHING_WRITTEN % {"count": len(plan.errors)})
    if dry_run:
        db.session.rollback()
        if as_json:
            click.echo(json.dumps(summary))
        else:
            click.echo(f"이상 없음 / all {plan.rows} rows pass; nothing written (dry run)")
        return
    fd = _create(secrets_out) if secrets_out else None
    try:
        created = _write(plan)
        summary["imported"] = len(created)
        sheet = [c.secrets() for c in created]
        if fd is not None:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                fd = None
                json.dump({"customers": sheet}, out, ensure_ascii=False, indent=1)
                out.flush()
                os.fsync(out.fileno())
            summary["secrets_out"] = secrets_out
        elif as_json:
            summary["customers"] = sheet
        else:
            _print_sheet(created)
        db.session.commit()
    except ImportConflict as exc:
        _discard(fd, secrets_out)
        fail(m.IMPORT_CONFLICT % {"line": exc.line, "login_id": exc.login_id})
    except OSError as exc:
        _discard(fd, secrets_out)
        fail(f"cannot write {secrets_out}: {exc.strerror or exc}; nothing imported")
    except BaseException:
        _discard(fd, secrets_out)
        raise
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        where = f" — {secrets_out} (0600)" if secrets_out else ""
        click.echo(f"가져왔습니다 / imported: {len(created)} customers{where}")


def _create(path: str) -> int:
    try:
        return create_private_file(path)
    except FileExistsError:
        fail(f"{path} exists: refusing to overwrite it (it would hold passwords)")
    except OSError as exc:
        fail(f"cannot create {path}: {exc.strerror or exc}")


def _discard(fd: int | None, path: str | None) -> None:
    """Remove a secrets file whose import did not happen (its passwords were never set)."""
    db.session.rollback()
    if fd is not None:
        os.close(fd)
    if path:
        with suppress(FileNotFoundError):
            os.unlink(path)


def _write(plan) -> list[ImportedCustomer]:
    many = len(plan.applications) >= PROGRESS_FROM
    bar = (
        click.progressbar(length=len(plan.applications), label="importing", file=sys.stderr)
        if many
        else nullcontext(None)
    )
    with bar as progress:
        created = apply_import(plan, progress=progress.update if progress is not None else None)
    for customer in created:
        record_cli_access("register", customer_id=customer.customer_id, fields=APPLICATION_FIELDS)
    return created


def _print_sheet(created: list[ImportedCustomer]) -> None:
    for customer in created:
        click.echo(f"{customer.login_id} ({customer.line}행)")
        click.echo(f"  임시 비밀번호 / temporary password: {customer.temporary_password}")
        if customer.card_codes is not None:
            print_card(customer.card_serial or "", customer.card_codes)
        else:
            click.echo(f"  OTP secret: {customer.otp_secret}")
