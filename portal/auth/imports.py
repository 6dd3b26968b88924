"""Customers from a CSV file of application forms (policy §1-나): ``flask customers import``
and, on the same functions, the back office's import screen.

All or nothing: :func:`check_import` reads and checks every row (the same rules as one
registration: :func:`portal.customers.services.check_application`, the login-ID register)
and writes nothing; :func:`apply_import` then registers every row through
:func:`portal.auth.registration.register_customer`. Both only flush: the caller commits
once, or rolls back. :func:`import_customers` does both in one call.

Passwords are never imported. Each imported customer gets a temporary password
(:func:`portal.auth.passwords.temporary_password`, the one staff registration draws), shown
once with their security card or OTP secret, for staff to hand over as they hand over the
card (a sealed letter, as banks and carriers do), and the account starts at the first-login
step, where the customer must replace it. A password column would mean passwords typed by
staff into a spreadsheet that is then copied, mailed and kept: every hand it passed would
know it.

The file is read line by line (a web upload or a file on disk is never read whole), at most
``PORTAL_IMPORT_MAX_ROWS`` rows (10,000 by default); the rows that passed are kept until
written, each a few hundred bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.auth import messages as m
from portal.auth.errors import (
    ImportColumns,
    ImportConflict,
    ImportEmpty,
    ImportMalformed,
    ImportNotUtf8,
    ImportTooLarge,
)
from portal.auth.passwords import temporary_password
from portal.auth.registration import register_customer
from portal.customers import messages as cm
from portal.customers import validation as v
from portal.customers.errors import LoginIdTaken, ValidationFailed
from portal.customers.models import LoginId
from portal.customers.services import NewCustomer, check_application
from portal.extensions import db

# Named like the options of `flask customers create` (its "--login-id" is "login_id" here).
REQUIRED_COLUMNS = ("login_id", "name", "email", "phone", "postal_code", "address")
OPTIONAL_COLUMNS = (
    "member_type",
    "customer_type",
    "birth_date",
    "business_number",
    "country",
    "username",
    "second_factor",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
DEFAULT_MAX_ROWS = 10_000
# No line of an application form comes near this (the longest field is 300 characters, at
# most 3 bytes each); a longer line is a wrong file, refused before it fills memory.
MAX_LINE_BYTES = 64 * 1024
# Login IDs looked up in the register per query.
_LOOKUP_BATCH = 500


@dataclass
class ImportedCustomer:
    """A customer written by the import and the secrets to hand over, shown once only."""

    line: int
    login_id: str
    second_factor: str
    temporary_password: str = field(repr=False)
    customer_id: int | None = None
    card_serial: str | None = None
    card_codes: list[str] | None = field(default=None, repr=False)
    otp_secret: str | None = field(default=None, repr=False)

    def secrets(self) -> dict:
        """The sheet for this customer: what ``customers create --json`` prints, plus the
        temporary password."""
        out: dict = {"login_id": self.login_id, "temporary_password": self.temporary_password}
        if self.card_codes is not None:
            out["security_card"] = {"serial": self.card_serial, "codes": self.card_codes}
        else:
            out["otp_secret"] = self.otp_secret
        return out


@dataclass
class ImportPlan:
    """What :func:`check_import` found: the rows that passed, and every bad row's reasons."""

    rows: int = 0
    applications: list[tuple[int, NewCustomer]] = field(default_factory=list, repr=False)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportResult:
    """``rows`` read (blank rows not counted); ``errors`` as ``[(line, reason)]``, sorted,
    the header being line 1; ``created`` empty unless every row passed and this was no
    dry run."""

    rows: int
    errors: list[tuple[int, str]]
    created: list[ImportedCustomer]
    dry_run: bool

    @property
    def ok(self) -> bool:
        return not self.errors


def _lines(source: bytes | str | IO[bytes] | IO[str]) -> Iterator[str]:
    """The physical lines of ``source`` as text, each checked for UTF-8 and length.

    Decoding line by line (bytes never split a UTF-8 character at a line break) gives the
    exact line of a non-UTF-8 byte. A UTF-8 byte-order mark, which Excel writes, is dropped.

    :raises ImportNotUtf8: a line is not UTF-8.
    :raises ImportTooLarge: a line is over :data:`MAX_LINE_BYTES`.
    """
    if isinstance(source, bytes):
        stream: IO = io.BytesIO(source)
    elif isinstance(source, str):
        stream = io.StringIO(source, newline="")
    else:
        stream = source
    number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise ImportTooLarge(number, limit=MAX_LINE_BYTES, rows=False)
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ImportNotUtf8(number) from None
        else:
            text = raw
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield text


def _header(cells: list[str]) -> list[str]:
    """The column names, checked.

    :raises ImportColumns: missing, unknown or repeated columns, or a password column.
    """
    # "Login-ID " and "login_id" are the same column: staff type headers by hand too.
    names = [c.strip().lower().replace("-", "_") for c in cells]
    while names and names[-1] == "":
        names.pop()  # Excel's trailing empty columns
    passwords = "password" in names
    unknown = [n or '""' for n in dict.fromkeys(names) if n not in COLUMNS and n != "password"]
    repeated = [n for n in dict.fromkeys(names) if n and names.count(n) > 1]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if passwords or unknown or repeated or missing:
        raise ImportColumns(
            missing=missing,
            unknown=unknown,
            repeated=repeated,
            passwords=passwords,
            allowed=list(COLUMNS),
        )
    return names


def _application(row: dict[str, str]) -> NewCustomer:
    """The form as typed; empty optional cells take ``customers create``'s defaults."""

    def choice(name: str, default: str) -> str:
        return row.get(name, "").strip().lower() or default

    return NewCustomer(
        login_id=row["login_id"],
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        password="",  # made at writing time: never held for a row that is not written
        member_type=choice("member_type", "general"),
        customer_type=choice("customer_type", "individual"),
        birth_date=row.get("birth_date") or None,
        business_number=row.get("business_number") or None,
        postal_code=row["postal_code"] or None,
        address=row["address"],
        country=row.get("country") or None,
        username=row.get("username") or None,
        second_factor=choice("second_factor", "card"),
        activated=False,  # the first-login step: the customer replaces the temporary password
    )


def check_import(
    source: bytes | str | IO[bytes] | IO[str], *, max_rows: int | None = None
) -> ImportPlan:
    """Read and check every row; writes nothing.

    ``source``: the file's bytes or text, or a binary or text stream (an open file, a web
    upload's stream). ``max_rows`` defaults to ``PORTAL_IMPORT_MAX_ROWS``.

    :raises ImportRefused: the file as a whole is refused (its header, size, encoding or CSV
        form); :func:`portal.auth.messages.import_refusal` words it.
    """
    limit = max_rows or current_app.config.get("PORTAL_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
    plan = ImportPlan()
    problems: dict[int, list[str]] = {}
    first_line: dict[str, int] = {}  # login ID → the line that has it first
    # strict: a stray quote is refused, never silently glued to the cells after it (which
    # would shift or swallow rows); spreadsheets always write well-formed quoting.
    reader = csv.reader(_lines(source), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportEmpty(1)
        columns = _header(header)
        read_up_to = reader.line_num
        for cells in reader:
            line, read_up_to = read_up_to + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank rows, as spreadsheets leave at the end
            plan.rows += 1
            if plan.rows > limit:
                raise ImportTooLarge(line, limit=limit, rows=True)
            row_problems = _check_row(line, cells, columns, first_line, plan)
            if row_problems:
                problems[line] = row_problems
    except csv.Error:
        raise ImportMalformed(reader.line_num or 1) from None
    if plan.rows == 0:
        raise ImportEmpty(1)
    # Never issued before, to anyone (retired IDs included: policy §3, PRODUCT.md §1).
    wanted = list(first_line)
    for start in range(0, len(wanted), _LOOKUP_BATCH):
        batch = wanted[start : start + _LOOKUP_BATCH]
        taken = select(LoginId.login_id).where(LoginId.login_id.in_(batch))
        for login_id in db.session.scalars(taken):
            problems.setdefault(first_line[login_id], []).insert(
                0, f"login_id: {cm.LOGIN_ID_TAKEN}"
            )
    plan.errors = [(line, "; ".join(found)) for line, found in sorted(problems.items())]
    if plan.errors:
        plan.applications = []  # nothing from a refused file lingers
    return plan


def _check_row(
    line: int,
    cells: list[str],
    columns: list[str],
    first_line: dict[str, int],
    plan: ImportPlan,
) -> list[str]:
    """The reasons row ``line`` is bad (empty when it passed, and then it joins ``plan``)."""
    extra = [c for c in cells[len(columns) :] if c.strip()]
    if len(cells) < len(columns) or extra:
        return [str(m.IMPORT_CELLS % {"count": len(cells), "expected": len(columns)})]
    row = dict(zip(columns, cells, strict=False))
    found: list[str] = []
    try:
        login_id = v.login_id(row["login_id"])
    except v.FieldInvalid:
        login_id = None  # check_application words it with the other fields
    if login_id is not None:
        if login_id in first_line:
            found.append(f"login_id: {m.IMPORT_LOGIN_ID_REPEATED % {'line': first_line[login_id]}}")
        else:
            first_line[login_id] = line
    application = _application(row)
    try:
        check_application(application, errors={})
    except ValidationFailed as exc:
        found.append(exc.one_line())
    if not found:
        plan.applications.append((line, application))
    return found


def apply_import(
    plan: ImportPlan, *, progress: Callable[[int], None] | None = None
) -> list[ImportedCustomer]:
    """Register every row of a checked plan (flush, no commit); ``progress(1)`` after each.

    :raises ValueError: the plan has errors (nothing is written from a refused file).
    :raises ImportConflict: another registration took a login ID after the check; rows
        are already in the session, so the caller must roll back.
    """
    if not plan.ok:
        raise ValueError("an import with bad rows writes nothing")
    created: list[ImportedCustomer] = []
    for line, application in plan.applications:
        application.password = temporary_password(login_id=application.login_id.strip().lower())
        try:
            registered = register_customer(application)
        except (LoginIdTaken, IntegrityError):
            # Checked free a moment ago: another registration (a staff member on the
            # screen, a second import) took it since. The unique index is the last word.
            raise ImportConflict(line, application.login_id.strip().lower()) from None
        created.append(
            ImportedCustomer(
                line=line,
                login_id=registered.customer.login_id,
                customer_id=registered.customer.id,
                second_factor=application.second_factor,
                temporary_password=application.password,
                card_serial=registered.card_serial,
                card_codes=registered.card_codes,
                otp_secret=registered.otp_secret,
            )
        )
        application.password = ""  # the ImportedCustomer holds it, shown once
        if progress is not None:
            progress(1)
    return created


def import_customers(
    source: bytes | str | IO[bytes] | IO[str],
    *,
    dry_run: bool = False,
    max_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check every row, then (unless ``dry_run`` or a row is bad) register them all.

    Flushes, never commits. With errors, nothing was written.

    :raises ImportRefused: the file as a whole is refused (see :func:`check_import`).
    :raises ImportConflict: a login ID was taken while writing: roll back.
    """
    plan = check_import(source, max_rows=max_rows)
    created = [] if dry_run or not plan.ok else apply_import(plan, progress=progress)
    return ImportResult(rows=plan.rows, errors=plan.errors, created=created, dry_run=dry_run)


def row_error(line: int, reason: str) -> str:
    """A bad row as printed and shown: ``3행: phone: …`` (``line 3: …`` in English)."""
    return str(m.IMPORT_ROW % {"line": line, "message": reason})
