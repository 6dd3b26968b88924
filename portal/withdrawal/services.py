"""Withdrawal (회원 탈퇴): deciding what a request leads to, and completing it (PRODUCT.md §6).

:func:`complete_withdrawal` is the one way a customer is destroyed — the portal, the staff
queue (``flask withdrawals complete``) and any later back office call it. In the caller's one
transaction it retires the login ID (the conditional update that makes two concurrent
completions exactly one), ends every session, copies what the law keeps into the retention
store, and deletes the customer row, which cascades to every table of personal data. After
the commit, SQLite's WAL is checkpointed with TRUNCATE so that the old pages are gone from the
``-wal`` file too (``secure_delete`` already zeroes them in the main file).

Every table holding rows about a customer is listed below, either as retained (with its
category) or as destroyed only (with the reason); ``tests/withdrawal`` fails on a table in
neither, so a new table of customer data cannot be forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from portal.auth.errors import ReauthFailed
from portal.auth.lockout import check_signed_in_password
from portal.auth.sessions import end_other_sessions
from portal.billing.models import Invoice, Payment
from portal.billing.summary import balance_due
from portal.customers import validation as v
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer, LoginId
from portal.database import checkpoint_wal_after_commit
from portal.dbtypes import KST, utcnow
from portal.extensions import db
from portal.mail.services import alert, enqueue, request_language
from portal.pagination import Page, paginate_rows
from portal.policy.retention import (
    COMPLAINT,
    CONTRACT,
    E_INVOICE,
    IDENTITY_VERIFICATION,
    PAYMENT_RECORD,
)
from portal.retention.store import retain, subject_key
from portal.withdrawal.errors import (
    AlreadyWithdrawn,
    ConfirmationMissing,
    NoOpenRequest,
    RequestAlreadyOpen,
    WithdrawalRefused,
)
from portal.withdrawal.messages import REJECT_REASON_REQUIRED
from portal.withdrawal.models import REJECTION_REASON_MAX, WithdrawalRequest

# Customer tables whose rows the law keeps (copied to the retention store before deletion).
RETAINED_TABLES: dict[str, str] = {
    "customers": CONTRACT,  # the contract and withdrawal record
    "service_lines": CONTRACT,  # inside the contract record (service, plan, activation)
    "withdrawal_requests": CONTRACT,  # the request date, inside the contract record
    "security_events": IDENTITY_VERIFICATION,
    "payments": PAYMENT_RECORD,
    "invoices": E_INVOICE,
    "invoice_items": E_INVOICE,  # inside their invoice
    "inquiries": COMPLAINT,
}
# Customer tables destroyed without a copy, and why.
DESTROYED_TABLES: dict[str, str] = {
    "user_sessions": "sign-in state; ended",
    "pending_logins": "half-finished sign-ins, minutes long",
    "security_cards": "a credential",
    "card_used_pairs": "state of a credential",
    "otp_credentials": "a credential",
    "recovery_codes": "a credential",
    "correction_requests": "no retention duty; the corrected values are in the contract record",
    "correction_notices": "staff tasks about a correction; no retention duty",
    "disclosures": "no retention duty on the portal (the recipient keeps its own record)",
    "payment_methods": "a setting, not a payment record; each payment is retained",
    "rights_requests": "no retention duty (deletion, suspension, consent requests)",
    "mail_outbox": "mail to the customer; the withdrawal notice is written apart, for no one",
    "password_resets": "a credential",
}

OUTCOME_COMPLETED = "completed"
OUTCOME_QUEUED = "queued"


@dataclass
class Outcome:
    kind: str  # OUTCOME_COMPLETED or OUTCOME_QUEUED
    request: WithdrawalRequest | None = None


def open_request_of(customer_id: int) -> WithdrawalRequest | None:
    return db.session.scalar(
        select(WithdrawalRequest).where(WithdrawalRequest.open_customer_id == customer_id)
    )


def has_history(customer_id: int) -> bool:
    """True when the customer has any invoice or payment (staff settle those first)."""
    return bool(
        db.session.scalar(
            select(
                exists().where(Invoice.customer_id == customer_id)
                | exists().where(Payment.customer_id == customer_id)
            )
        )
    )


def request_withdrawal(customer: Customer, *, password: str, confirm: str) -> Outcome:
    """A customer's withdrawal: refused, queued for staff or completed at once.

    :raises ConfirmationMissing: ``confirm`` is not ``y`` (nothing checked, nothing changed).
    :raises portal.auth.errors.ReauthFailed: wrong password (counted toward the lockout).
    :raises RequestAlreadyOpen: an open request exists (also when a concurrent submit made it).
    :raises WithdrawalRefused: fees are unpaid (with the amount).
    :raises AlreadyWithdrawn: a concurrent submit completed it first.
    """
    if (confirm or "").strip().lower() != "y":
        raise ConfirmationMissing()
    _check_password(customer, password)
    existing = open_request_of(customer.id)
    if existing is not None:
        raise RequestAlreadyOpen(existing.created_at)
    amount = balance_due(customer)
    if amount > 0:
        raise WithdrawalRefused(amount)
    if has_history(customer.id):
        queued = _open_request(customer)
        alert(customer, "withdrawal_requested")
        return Outcome(OUTCOME_QUEUED, queued)
    complete_withdrawal(customer, actor="self")
    return Outcome(OUTCOME_COMPLETED)


def _gone(customer_id: int) -> bool:
    return db.session.scalar(select(Customer.id).where(Customer.id == customer_id)) is None


def _check_password(customer: Customer, password: str) -> None:
    """The re-authentication check, aware that a concurrent submit may have completed the
    withdrawal meanwhile: the attempt counter then finds no row (read as a lock), and the
    failure event it writes for the deleted customer breaks its foreign key. Either way the
    answer is :class:`AlreadyWithdrawn`, not a 500 or a lockout message.
    """
    customer_id = customer.id  # read now: after a rollback the row may be gone
    try:
        check_signed_in_password(customer, password or "", event="reauth_failure")
    except ReauthFailed:
        if _gone(customer_id):
            raise AlreadyWithdrawn() from None
        raise
    except IntegrityError:
        # The session cannot go on after a failed flush; nothing of this request is kept
        # (the attempt was committed before, by the lockout's own commit).
        db.session.rollback()
        if _gone(customer_id):
            raise AlreadyWithdrawn() from None
        raise


def _open_request(customer: Customer) -> WithdrawalRequest:
    row = WithdrawalRequest(customer_id=customer.id, open_customer_id=customer.id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # A concurrent submit recorded it between our check and our insert.
        raise RequestAlreadyOpen(None) from None
    return row


def cancel_request(customer: Customer) -> WithdrawalRequest:
    """Cancel the customer's open request.

    :raises NoOpenRequest: none is open (cancelled or completed meanwhile).
    """
    row = open_request_of(customer.id)
    if row is None:
        raise NoOpenRequest()
    result = db.session.execute(
        update(WithdrawalRequest)
        .where(WithdrawalRequest.id == row.id, WithdrawalRequest.status == "open")
        .values(status="cancelled", open_customer_id=None, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NoOpenRequest()
    db.session.expire(row)
    return row


def _open_requests_stmt():
    """Open requests with the customer's login ID, oldest first (the (status, created_at)
    index)."""
    return (
        select(WithdrawalRequest, LoginId.login_id)
        .join(Customer, Customer.id == WithdrawalRequest.customer_id)
        .join(LoginId, LoginId.id == Customer.login_id_id)
        .where(WithdrawalRequest.status == "open")
        .order_by(WithdrawalRequest.created_at, WithdrawalRequest.id)
    )


def open_requests() -> list[tuple[WithdrawalRequest, str]]:
    """Every open request with the customer's login ID, oldest first (the command's list)."""
    return [(row, login_id) for row, login_id in db.session.execute(_open_requests_stmt())]


def open_requests_page(*, page: int = 1, per_page: int = 20) -> Page:
    """One page of the staff queue: (request, login ID) pairs, oldest first."""
    return paginate_rows(_open_requests_stmt(), page=page, per_page=per_page)


def open_request_count() -> int:
    """How many requests wait for staff (one COUNT over the status index)."""
    stmt = select(func.count()).select_from(WithdrawalRequest)
    return db.session.scalar(stmt.where(WithdrawalRequest.status == "open")) or 0


@dataclass
class QueuedRequest:
    """What staff see before settling a request: the request, its customer, the balance due
    and how many rows of each retained table will move to the retention store."""

    request: WithdrawalRequest
    customer: Customer
    balance: int
    retained: dict[str, int]


def retained_counts(customer_id: int) -> dict[str, int]:
    """Rows per retained table (those keyed by customer) that a completion would copy."""
    counts: dict[str, int] = {}
    for name in RETAINED_TABLES:
        table = db.metadata.tables[name]
        column = "id" if name == "customers" else "customer_id"
        if column not in table.c:
            continue  # invoice_items travel inside their invoice
        stmt = select(func.count()).select_from(table).where(table.c[column] == customer_id)
        counts[name] = db.session.scalar(stmt) or 0
    return counts


def queued_request(request_id: int) -> QueuedRequest:
    """A request with what completing it would do (open, or closed but still on record).

    :raises NoOpenRequest: no such request (a completed one went with its customer).
    """
    row = db.session.get(WithdrawalRequest, request_id)
    customer = db.session.get(Customer, row.customer_id) if row is not None else None
    if row is None or customer is None:
        raise NoOpenRequest()
    return QueuedRequest(
        request=row,
        customer=customer,
        balance=balance_due(customer),
        retained=retained_counts(customer.id),
    )


def reject_request(request_id: int, *, reason: str | None) -> WithdrawalRequest:
    """Staff close an open request without withdrawing (e.g. the customer must settle a
    dispute first); the reason is kept and shown on the customer's withdrawal page, and
    the customer may ask again later.

    :raises ValidationFailed: no reason (``reason``), or one too long.
    :raises NoOpenRequest: no open request with that id (cancelled, completed or rejected
        meanwhile: the conditional update decides between concurrent staff).
    """
    try:
        clean = v.clean_text(reason, max_length=REJECTION_REASON_MAX)
    except v.FieldInvalid as exc:
        message = REJECT_REASON_REQUIRED if not (reason or "").strip() else exc.message
        raise ValidationFailed({"reason": message}) from exc
    won = db.session.execute(
        update(WithdrawalRequest)
        .where(WithdrawalRequest.id == request_id, WithdrawalRequest.status == "open")
        .values(
            status="rejected", open_customer_id=None, closed_at=utcnow(), rejection_reason=clean
        )
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        raise NoOpenRequest()
    row = db.session.get(WithdrawalRequest, request_id)
    assert row is not None
    db.session.refresh(row)
    return row


def last_rejection_of(customer_id: int) -> WithdrawalRequest | None:
    """The customer's latest request when it was rejected (its reason is shown), else None."""
    stmt = (
        select(WithdrawalRequest)
        .where(WithdrawalRequest.customer_id == customer_id)
        .order_by(WithdrawalRequest.created_at.desc(), WithdrawalRequest.id.desc())
        .limit(1)
    )
    row = db.session.scalar(stmt)
    return row if row is not None and row.status == "rejected" else None


def complete_request(request_id: int, *, actor: str) -> None:
    """Staff complete a queued request (after settling): the same :func:`complete_withdrawal`.

    :raises NoOpenRequest: no open request with that id.
    :raises WithdrawalRefused: fees are still unpaid.
    """
    row = db.session.get(WithdrawalRequest, request_id)
    if row is None:
        raise NoOpenRequest()
    customer = db.session.get(Customer, row.customer_id)
    amount = balance_due(customer)
    if amount > 0:
        raise WithdrawalRefused(amount)
    # Conditional: a cancel (or another staff member) that got there first wins.
    won = db.session.execute(
        update(WithdrawalRequest)
        .where(WithdrawalRequest.id == request_id, WithdrawalRequest.status == "open")
        .values(status="completed", open_customer_id=None, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        raise NoOpenRequest()
    complete_withdrawal(customer, actor=actor)


def _kst_date(value: datetime) -> date:
    return value.astimezone(KST).date()


def _rows(table_name: str, column: str, value: int) -> list[dict]:
    table = db.metadata.tables[table_name]
    stmt = select(table).where(table.c[column] == value).order_by(table.c.id)
    return [dict(row) for row in db.session.execute(stmt).mappings()]


def _retain_all(customer: Customer, subject: str, now: datetime, actor: str) -> None:
    cid = customer.id
    requests = _rows("withdrawal_requests", "customer_id", cid)
    lines = _rows("service_lines", "customer_id", cid)
    retain(
        category=CONTRACT,
        subject=subject,
        source="customers",
        record_date=_kst_date(now),
        payload={
            "login_id": customer.login_id,
            "name": customer.name,
            "member_type": customer.member_type,
            "customer_type": customer.customer_type,
            "joined_at": customer.created_at,
            "withdrawn_at": now,
            "completed_by": actor,
            "requested_at": [r["created_at"] for r in requests],
            "service_lines": [
                {k: line[k] for k in ("service", "plan", "activated_on")} for line in lines
            ],
        },
    )
    for event in _rows("security_events", "customer_id", cid):
        retain(
            category=IDENTITY_VERIFICATION,
            subject=subject,
            source="security_events",
            record_date=_kst_date(event["created_at"]),
            payload={k: event[k] for k in ("kind", "detail", "ip", "user_agent", "created_at")},
        )
    for payment in _rows("payments", "customer_id", cid):
        payment.pop("customer_id")
        retain(
            category=PAYMENT_RECORD,
            subject=subject,
            source="payments",
            record_date=payment["paid_on"],
            payload=payment,
        )
    for invoice in _rows("invoices", "customer_id", cid):
        invoice.pop("customer_id")
        invoice["items"] = [
            {k: item[k] for k in ("description", "quantity", "amount")}
            for item in _rows("invoice_items", "invoice_id", invoice["id"])
        ]
        retain(
            category=E_INVOICE,
            subject=subject,
            source="invoices",
            record_date=invoice["issued_on"],
            payload=invoice,
        )
    for inquiry in _rows("inquiries", "customer_id", cid):
        retain(
            category=COMPLAINT,
            subject=subject,
            source="inquiries",
            record_date=_kst_date(inquiry["created_at"]),
            payload={
                k: inquiry[k] for k in ("subject", "body", "created_at", "answer", "answered_at")
            },
        )


def complete_withdrawal(customer: Customer, *, actor: str) -> None:
    """Destroy ``customer`` for good, keeping only what the law keeps (module docstring).

    ``actor`` says who completed it ("self", or a staff name), recorded in the contract
    record. Flushes, never commits; the WAL is checkpointed after the caller's commit.

    :raises AlreadyWithdrawn: the login ID was already retired (a concurrent completion).
    """
    now = utcnow()
    won = db.session.execute(
        update(LoginId)
        .where(LoginId.id == customer.login_id_id, LoginId.retired_at.is_(None))
        .values(retired_at=now)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        raise AlreadyWithdrawn()
    end_other_sessions(customer, None)
    _retain_all(customer, subject_key(customer.login_id_id), now, actor)
    # The last word to the customer: written for no account (customer_id NULL), so the
    # cascade below leaves it, and its address and text are erased once it is sent
    # (portal.mail.delivery). The customer's other messages go with the account.
    enqueue(
        "withdrawal_completed",
        to=customer.email,
        customer_id=None,
        language=request_language() if actor == "self" else "ko",
        name=customer.username or customer.name,
    )
    db.session.flush()
    customer_id = customer.id
    db.session.expunge(customer)
    # ON DELETE CASCADE removes every child row (checked in tests/withdrawal).
    db.session.execute(delete(Customer).where(Customer.id == customer_id))
    checkpoint_wal_after_commit()
