"""Invoices and payments: adding them, recording payments, the derived status, the lists.

The status of an invoice is never stored: it follows from its total, what has been paid and
today's date in Korea (:func:`invoice_status`), so it cannot go stale.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Integer, Row, bindparam, func, select, true

from portal.billing import messages as m
from portal.billing.errors import InvoiceAlreadyPaid, InvoiceNotFound, PaymentTooLarge
from portal.billing.models import PAYMENT_CHANNELS, Invoice, InvoiceItem, Payment, PaymentMethod
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer, ServiceLine
from portal.dbtypes import kst_today
from portal.extensions import db

PERIOD_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
MAX_AMOUNT = 2_000_000_000  # fits the INTEGER columns with room to spare
STATUSES = ("issued", "paid", "overdue")


def invoice_status(total: int, paid: int, due_on: date, today: date | None = None) -> str:
    """``paid`` once nothing is due; ``overdue`` after the due date (KST); else ``issued``."""
    if paid >= total:
        return "paid"
    if due_on < (today or kst_today()):
        return "overdue"
    return "issued"


def status_label(status: str) -> str:
    return str({"paid": m.STATUS_PAID, "overdue": m.STATUS_OVERDUE}.get(status, m.STATUS_ISSUED))


def parse_amount(value) -> int:
    """A positive whole number of won: ``33000`` or ``33,000``; no fractions, no signs.

    :raises ValidationFailed: {"amount": …}
    """
    text = str(value if value is not None else "").strip().replace(",", "")
    if not re.fullmatch(r"[0-9]{1,10}", text) or not 0 < int(text) <= MAX_AMOUNT:
        raise ValidationFailed({"amount": m.AMOUNT_INVALID})
    return int(text)


def parse_date(value, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError as exc:
        raise ValidationFailed({name: m.DATE_INVALID}) from exc


def parse_period(value: str | None, due_on: date) -> str:
    if value is None or not str(value).strip():
        return f"{due_on:%Y-%m}"
    text = str(value).strip()
    if not PERIOD_RE.fullmatch(text):
        raise ValidationFailed({"period": m.PERIOD_INVALID})
    return text


def default_items(customer_id: int, total: int) -> list[InvoiceItem]:
    """One line for the whole amount, named after the customer's plans and counting lines."""
    plans = list(
        db.session.scalars(
            select(ServiceLine.plan)
            .where(ServiceLine.customer_id == customer_id)
            .order_by(ServiceLine.id)
        )
    )
    description = ", ".join(dict.fromkeys(plans)) or str(m.DEFAULT_ITEM)
    return [InvoiceItem(description=description[:200], quantity=max(len(plans), 1), amount=total)]


def add_invoice(
    customer: Customer,
    *,
    amount,
    due,
    period: str | None = None,
    issued_on: date | None = None,
    items: list[tuple[str, int, int]] | None = None,
    external_number: str | None = None,
) -> Invoice:
    """Add an invoice; ``items`` are (description, quantity, amount) adding up to the total.

    :raises ValidationFailed: a bad amount, due date or period.
    """
    total = parse_amount(amount)
    due_on = parse_date(due, "due")
    clean_period = parse_period(period, due_on)
    invoice = Invoice(
        customer_id=customer.id,
        external_number=external_number,
        period=clean_period,
        issued_on=issued_on or min(kst_today(), due_on),
        due_on=due_on,
        total=total,
    )
    if items:
        invoice.items = [InvoiceItem(description=d, quantity=q, amount=a) for d, q, a in items]
        if sum(a for _, _, a in items) != total:
            raise ValidationFailed({"amount": m.AMOUNT_INVALID})
    else:
        invoice.items = default_items(customer.id, total)
    db.session.add(invoice)
    db.session.flush()
    return invoice


def paid_total(invoice_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.invoice_id == invoice_id
            )
        )
    )


def record_payment(
    invoice_id: int,
    *,
    amount,
    paid_on: date | None = None,
    method: str = "deposit",
    external_number: str | None = None,
) -> Payment:
    """Record a payment against an invoice: partial payments allowed, overpayment refused.

    The invoice row is locked (``FOR UPDATE`` on PostgreSQL) so two payments recorded at once
    cannot both fit the same remaining amount.

    :raises InvoiceNotFound, InvoiceAlreadyPaid, PaymentTooLarge, ValidationFailed.
    """
    value = parse_amount(amount)
    if method not in PAYMENT_CHANNELS:
        raise ValidationFailed({"method": m.METHOD_INVALID})
    when = paid_on or kst_today()
    if when > kst_today():
        raise ValidationFailed({"paid_on": m.PAID_ON_FUTURE})
    invoice = db.session.scalars(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update()
    ).first()
    if invoice is None:
        raise InvoiceNotFound()
    due = invoice.total - paid_total(invoice.id)
    if due <= 0:
        raise InvoiceAlreadyPaid()
    if value > due:
        raise PaymentTooLarge(due)
    payment = Payment(
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        paid_on=when,
        amount=value,
        method=method,
        external_number=external_number,
    )
    db.session.add(payment)
    db.session.flush()
    return payment


# --- what the customer sees ---------------------------------------------------------------


@dataclass
class InvoiceRow:
    id: int
    period: str
    issued_on: date
    due_on: date
    total: int
    paid: int
    status: str

    @property
    def remaining(self) -> int:
        return max(self.total - self.paid, 0)

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass
class BillingPage:
    balance_due: int
    method: object | None  # methods.MethodSummary
    invoices: list[InvoiceRow] = field(default_factory=list)
    has_next: bool = False


def _paid_by_invoice():
    return (
        select(Payment.invoice_id, func.sum(Payment.amount).label("paid"))
        .group_by(Payment.invoice_id)
        .subquery("paid_by_invoice")
    )


def balance_due_expr(customer_id: int):
    """The unpaid total as one scalar subquery (folded into other pages' statements)."""
    invoiced = (
        select(func.coalesce(func.sum(Invoice.total), 0))
        .where(Invoice.customer_id == customer_id)
        .scalar_subquery()
    )
    paid = (
        select(func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.customer_id == customer_id)
        .scalar_subquery()
    )
    return invoiced - paid


def method_exprs(customer_id: int) -> list:
    """Scalar subqueries of the payment method's displayable columns (never the number)."""

    def col(column, label):
        return (
            select(column)
            .where(PaymentMethod.customer_id == customer_id)
            .scalar_subquery()
            .label(label)
        )

    return [
        col(PaymentMethod.kind, "pm_kind"),
        col(PaymentMethod.holder_name, "pm_holder"),
        col(PaymentMethod.bank_code, "pm_bank"),
        col(PaymentMethod.account_last4, "pm_last4"),
    ]


def billing_page(customer_id: int, *, page: int, per_page: int, summarise) -> BillingPage:
    """The balance, the payment method and one page of invoices (newest first): ONE statement.

    A one-row derived table of the facts, left-joined to the page of invoices, so there is a
    row even without invoices (the dashboard's trick).
    """
    params = {
        "customer_id": customer_id,
        "limit": per_page + 1,
        "offset": (max(page, 1) - 1) * per_page,
    }
    rows = db.session.execute(_billing_page_statement(), params).all()
    first = rows[0]
    today = kst_today()
    invoices = [
        InvoiceRow(
            id=r.id,
            period=r.period,
            issued_on=r.issued_on,
            due_on=r.due_on,
            total=r.total,
            paid=int(r.paid or 0),
            status=invoice_status(r.total, int(r.paid or 0), r.due_on, today),
        )
        for r in rows
        if r.id is not None
    ]
    return BillingPage(
        balance_due=int(first.balance or 0),
        method=summarise(first.pm_kind, first.pm_holder, first.pm_bank, first.pm_last4),
        invoices=invoices[:per_page],
        has_next=len(invoices) > per_page,
    )


@functools.cache
def _billing_page_statement():
    # Built once per process: composing it cost more than running it. Bound: the customer,
    # the page's limit (one more than shown: is there a next page?) and offset.
    customer_id = bindparam("customer_id", type_=Integer)
    facts = select(
        balance_due_expr(customer_id).label("balance"), *method_exprs(customer_id)
    ).subquery("facts")
    paid = _paid_by_invoice()
    page_of = (
        select(
            Invoice.id,
            Invoice.period,
            Invoice.issued_on,
            Invoice.due_on,
            Invoice.total,
            func.coalesce(paid.c.paid, 0).label("paid"),
        )
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.customer_id == customer_id)
        .order_by(Invoice.due_on.desc(), Invoice.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page_of")
    )
    stmt = (
        select(facts, page_of)
        .select_from(facts)
        .outerjoin(page_of, true())
        .order_by(page_of.c.due_on.desc(), page_of.c.id.desc())
    )
    return stmt


# Columns, not Payment objects: the page only prints them, and building ORM objects for a
# list cost more than the statement.
_RECENT_PAYMENTS = (
    select(Payment.paid_on, Payment.amount, Payment.method, Invoice.period)
    .join(Invoice, Invoice.id == Payment.invoice_id)
    .where(Payment.customer_id == bindparam("customer_id", type_=Integer))
    .order_by(Payment.paid_on.desc(), Payment.id.desc())
    .limit(bindparam("limit", type_=Integer))
)


def recent_payments(customer_id: int, *, limit: int = 20) -> list[tuple[Row, str]]:
    """The newest payments received (date, amount, method), each with its invoice's period
    (one statement)."""
    params = {"customer_id": customer_id, "limit": limit}
    return [(row, row.period) for row in db.session.execute(_RECENT_PAYMENTS, params)]


def invoice_of(customer_id: int, invoice_id: int) -> Invoice:
    """The customer's own invoice with items and payments.

    :raises InvoiceNotFound: missing, or another customer's (the same answer for both).
    """
    invoice = db.session.scalars(
        select(Invoice).where(Invoice.id == invoice_id, Invoice.customer_id == customer_id)
    ).first()
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


def row_of(invoice: Invoice) -> InvoiceRow:
    paid = sum(p.amount for p in invoice.payments)
    return InvoiceRow(
        id=invoice.id,
        period=invoice.period,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        total=invoice.total,
        paid=paid,
        status=invoice_status(invoice.total, paid, invoice.due_on),
    )
