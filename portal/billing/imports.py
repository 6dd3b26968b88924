"""``flask billing import FILE.csv``: invoices and payments from the billing system.

Every row is checked before anything is written; one bad row and nothing is saved (each bad
row reported with its line number). A re-run is harmless: an invoice whose number is already
held with the same content, or a payment whose number is already held, is skipped.
Columns: README.md ("Importing invoices and payments").
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.billing import messages as m
from portal.billing.errors import ImportFailed, ImportRaced
from portal.billing.invoices import add_invoice, parse_amount, parse_date, parse_period
from portal.billing.models import PAYMENT_CHANNELS, Invoice, Payment
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer
from portal.customers.services import customer_by_login_id
from portal.dbtypes import kst_today
from portal.extensions import db

REQUIRED = ("record", "invoice_number", "login_id", "due_date", "amount", "paid_on")
OPTIONAL = ("period", "description", "quantity", "method", "payment_number")
NUMBER_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass
class ImportResult:
    invoices_added: int = 0
    invoices_skipped: int = 0
    payments_added: int = 0
    payments_skipped: int = 0
    # Whose records were written (the back office logs an access per customer).
    customer_ids: set[int] = field(default_factory=set)


@dataclass
class _Invoice:
    line: int
    number: str
    customer: Customer
    period: str
    due_on: date
    total: int
    description: str
    quantity: int
    existing: Invoice | None = None


@dataclass
class _Payment:
    line: int
    invoice_number: str
    number: str
    paid_on: date
    amount: int
    method: str
    skip: bool = False


@dataclass
class _Plan:
    invoices: dict[str, _Invoice] = field(default_factory=dict)
    payments: list[_Payment] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; the header is line 1.

    :raises ImportFailed: a missing column or no rows.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed([(1, str(m.IMPORT_HEADER_INVALID % {"columns": ", ".join(missing)}))])
    rows = [
        (reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader
    ]
    if not rows:
        raise ImportFailed([(1, str(m.IMPORT_EMPTY))])
    return rows


def _plan_invoice(plan: _Plan, line: int, row: dict, seen: dict[str, int], customers: dict):
    number = row["invoice_number"]
    if number in seen:
        plan.errors.append((line, str(m.INVOICE_NUMBER_DUPLICATE % {"line": seen[number]})))
        return
    seen[number] = line
    login_id = row["login_id"].lower()
    if login_id not in customers:
        customers[login_id] = customer_by_login_id(login_id)
    customer = customers[login_id]
    problems = []
    if customer is None:
        problems.append(f"login_id: {m.CUSTOMER_NOT_FOUND % {'login_id': row['login_id']}}")
    try:
        due_on = parse_date(row["due_date"], "due_date")
        period = parse_period(row.get("period"), due_on)
    except ValidationFailed as exc:
        problems.append(exc.one_line())
    try:
        total = parse_amount(row["amount"])
    except ValidationFailed as exc:
        problems.append(exc.one_line())
    quantity_text = row.get("quantity") or "1"
    if not re.fullmatch(r"[0-9]{1,4}", quantity_text) or int(quantity_text) < 1:
        problems.append(f"quantity: {m.FORM_SHAPE}")
    if problems:
        plan.errors.append((line, "; ".join(problems)))
        return
    item = _Invoice(
        line=line,
        number=number,
        customer=customer,
        period=period,
        due_on=due_on,
        total=total,
        description=(row.get("description") or str(m.DEFAULT_ITEM))[:200],
        quantity=int(quantity_text),
    )
    existing = db.session.scalars(select(Invoice).where(Invoice.external_number == number)).first()
    if existing is not None:
        same = (existing.customer_id, existing.total, existing.due_on, existing.period) == (
            customer.id,
            total,
            due_on,
            period,
        )
        if not same:
            plan.errors.append((line, str(m.INVOICE_NUMBER_CONFLICT)))
            return
        item.existing = existing
    plan.invoices[number] = item


def _plan_payment(plan: _Plan, line: int, row: dict, seen: dict[str, int]):
    number = row.get("payment_number") or ""
    problems = []
    if not NUMBER_RE.fullmatch(number):
        problems.append(f"payment_number: {m.INVOICE_NUMBER_INVALID}")
    elif number in seen:
        problems.append(str(m.PAYMENT_NUMBER_DUPLICATE % {"line": seen[number]}))
    else:
        seen[number] = line
    try:
        paid_on = parse_date(row["paid_on"], "paid_on")
        if paid_on > kst_today():
            problems.append(f"paid_on: {m.PAID_ON_FUTURE}")
    except ValidationFailed as exc:
        problems.append(exc.one_line())
    try:
        amount = parse_amount(row["amount"])
    except ValidationFailed as exc:
        problems.append(exc.one_line())
    method = row.get("method") or "deposit"
    if method not in PAYMENT_CHANNELS:
        problems.append(f"method: {m.METHOD_INVALID}")
    if problems:
        plan.errors.append((line, "; ".join(problems)))
        return
    held = db.session.scalar(select(func.count()).where(Payment.external_number == number))
    plan.payments.append(
        _Payment(line, row["invoice_number"], number, paid_on, amount, method, skip=bool(held))
    )


def plan_import(rows: list[tuple[int, dict[str, str]]]) -> _Plan:
    plan = _Plan()
    invoice_lines: dict[str, int] = {}
    payment_lines: dict[str, int] = {}
    customers: dict[str, Customer | None] = {}
    for line, row in rows:
        record = row.get("record", "")
        if not NUMBER_RE.fullmatch(row.get("invoice_number", "")):
            plan.errors.append((line, f"invoice_number: {m.INVOICE_NUMBER_INVALID}"))
        elif record == "invoice":
            _plan_invoice(plan, line, row, invoice_lines, customers)
        elif record == "payment":
            _plan_payment(plan, line, row, payment_lines)
        else:
            plan.errors.append((line, f"record: {m.RECORD_INVALID}"))
    # Payments: their invoice must be in the file or held, and they may not exceed it.
    remaining: dict[str, int] = {}
    for p in plan.payments:
        if p.skip:
            continue
        if p.invoice_number not in remaining:
            planned = plan.invoices.get(p.invoice_number)
            if planned is not None and planned.existing is None:
                remaining[p.invoice_number] = planned.total
            else:
                held = planned.existing if planned is not None else None
                held = (
                    held
                    or db.session.scalars(
                        select(Invoice).where(Invoice.external_number == p.invoice_number)
                    ).first()
                )
                if held is None:
                    if p.invoice_number not in invoice_lines:  # a bad invoice row says why
                        plan.errors.append((p.line, str(m.INVOICE_UNKNOWN)))
                    remaining[p.invoice_number] = -1
                    continue
                paid = db.session.scalar(
                    select(func.coalesce(func.sum(Payment.amount), 0)).where(
                        Payment.invoice_id == held.id
                    )
                )
                remaining[p.invoice_number] = held.total - int(paid)
        if remaining[p.invoice_number] < 0:
            continue
        if p.amount > remaining[p.invoice_number]:
            due = f"{max(remaining[p.invoice_number], 0):,}"
            plan.errors.append((p.line, str(m.PAYMENT_TOO_LARGE % {"due": due})))
            continue
        remaining[p.invoice_number] -= p.amount
    plan.errors.sort()
    return plan


def import_billing(text: str) -> ImportResult:
    """Validate every row, then write all of them (flush, no commit) or nothing.

    Two imports at the same moment (two staff screens, the screen and the command) both
    plan against what is committed; the write phase settles who wins: each paid invoice's
    row is locked (``FOR UPDATE``; on SQLite the first INSERT takes the database's one write
    lock) and its payments are summed again after ours are written, so two runs cannot both
    fit the same amount due, and a number the other run wrote first fails its unique index.

    :raises ImportFailed: [(line, message)] for every bad row, or a payment that no longer
        fits because another import paid the invoice meanwhile.
    :raises ImportRaced: another import wrote the same invoice or payment number meanwhile;
        the caller rolls back and may run the file again (it then skips those rows).
    """
    plan = plan_import(read_rows(text))
    if plan.errors:
        raise ImportFailed(plan.errors)
    try:
        return _write(plan)
    except IntegrityError as exc:
        raise ImportRaced() from exc


def _write(plan: _Plan) -> ImportResult:
    result = ImportResult()
    invoice_ids: dict[str, int] = {}
    for item in plan.invoices.values():
        if item.existing is not None:
            invoice_ids[item.number] = item.existing.id
            result.invoices_skipped += 1
            continue
        invoice = add_invoice(
            item.customer,
            amount=item.total,
            due=item.due_on,
            period=item.period,
            items=[(item.description, item.quantity, item.total)],
            external_number=item.number,
        )
        invoice_ids[item.number] = invoice.id
        result.invoices_added += 1
        result.customer_ids.add(item.customer.id)
    paid_lines: dict[int, list[int]] = {}
    for p in plan.payments:
        if p.skip:
            result.payments_skipped += 1
            continue
        invoice_id = invoice_ids.get(p.invoice_number) or db.session.scalar(
            select(Invoice.id).where(Invoice.external_number == p.invoice_number)
        )
        if invoice_id not in paid_lines:
            # Held until the commit (PostgreSQL): a parallel import waits here, then sees
            # our payments in its own sum below.
            db.session.execute(select(Invoice.id).where(Invoice.id == invoice_id).with_for_update())
        paid_lines.setdefault(invoice_id, []).append(p.line)
        customer_id = db.session.get(Invoice, invoice_id).customer_id
        result.customer_ids.add(customer_id)
        db.session.add(
            Payment(
                invoice_id=invoice_id,
                customer_id=customer_id,
                external_number=p.number,
                paid_on=p.paid_on,
                amount=p.amount,
                method=p.method,
            )
        )
        result.payments_added += 1
    db.session.flush()
    # The plan checked each payment against what was committed when it was made; now, with
    # the invoices locked and our rows written, check the sums again.
    over = []
    for invoice_id, lines in paid_lines.items():
        total = db.session.scalar(select(Invoice.total).where(Invoice.id == invoice_id)) or 0
        paid = db.session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.invoice_id == invoice_id
            )
        )
        if int(paid) > total:
            ours = db.session.scalar(
                select(func.coalesce(func.sum(Payment.amount), 0)).where(
                    Payment.invoice_id == invoice_id,
                    Payment.external_number.in_(
                        [p.number for p in plan.payments if p.line in lines]
                    ),
                )
            )
            due = f"{max(total - (int(paid) - int(ours)), 0):,}"
            over += [(line, str(m.PAYMENT_TOO_LARGE % {"due": due})) for line in lines]
    if over:
        raise ImportFailed(sorted(over))
    return result
