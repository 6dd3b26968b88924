"""What every command group shares: failing with one line, and reading a file argument.

Below every package (it imports only ``portal.extensions``), so a package's own ``cli.py``
can use these while ``portal.cli`` imports that ``cli.py`` to register its groups: a package
never has to import ``portal.cli``, the layer above it.
"""

from __future__ import annotations

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
