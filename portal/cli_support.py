"""What every command group shares: failing with one line, reading a file argument, taking a
password without putting it in `ps`, printing a security card.

Below every package (it imports only ``portal.extensions``), so a package's own ``cli.py``
can use these while ``portal.cli`` imports that ``cli.py`` to register its groups: a package
never has to import ``portal.cli``, the layer above it.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from portal.extensions import db


def fail(message: object) -> NoReturn:
    """Roll back and exit non-zero with one line."""
    db.session.rollback()
    raise click.ClickException(" ".join(str(message).split()))


def read_body(path: str) -> str:
    """The UTF-8 text of the file at ``path``; fails with one line if it cannot be read."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")


def password_options(command):
    """``--password`` or ``--password-stdin``; neither: a hidden prompt, typed twice.

    A password given as an argument is visible to every local user in ``ps`` and lands in
    shell history; it stays for the scripts that already use it (REFERENCE.md).
    """
    command = click.option(
        "--password-stdin",
        is_flag=True,
        help="Read the password from the first line of standard input.",
    )(command)
    return click.option(
        "--password",
        help="Visible to other users in `ps`: prefer the prompt or --password-stdin.",
    )(command)


def read_password(password: str | None, password_stdin: bool) -> str:
    """The password from exactly one source: the option, standard input or the prompt."""
    if password_stdin:
        if password is not None:
            fail("give the password with --password or --password-stdin, not both")
        # Only the line break is dropped: spaces at either end may belong to the password.
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail("--password-stdin: no password on the first line of standard input")
        return line
    if password is None:
        # On stderr, so that --json output on stdout stays one JSON object.
        return click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password


def print_card(serial: str, codes: list[str]) -> None:
    click.echo(f"  보안카드 일련번호 / card serial: {serial}")
    for row in range(0, len(codes), 5):
        cells = [f"{n + 1:>2}: {codes[n]}" for n in range(row, min(row + 5, len(codes)))]
        click.echo("    " + "   ".join(cells))
