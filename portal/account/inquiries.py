"""Inquiries and complaints (문의·민원, PRODUCT.md §6): customers ask, staff answer.

Complaint records are kept 3 years.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal.account.errors import InquiryAlreadyAnswered, InquiryNotFound
from portal.account.models import RETENTION_COMPLAINT, Inquiry
from portal.customers import validation as v
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer, LoginId
from portal.customers.services import collect
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.mail.services import alert
from portal.pagination import Page, paginate, paginate_rows

SUBJECT_MAX = 200
BODY_MAX = 5000
ANSWER_MAX = 10000


def submit_inquiry(customer: Customer, *, subject: str | None, body: str | None) -> Inquiry:
    """Record a customer's inquiry; it is a complaint record (retention category).

    :raises ValidationFailed: missing or over-long subject or body, control characters.
    """
    errors: dict[str, object] = {}
    clean = {}
    for name, value, limit in (("subject", subject, SUBJECT_MAX), ("body", body, BODY_MAX)):
        clean[name] = collect(errors, name, v.clean_text, value, max_length=limit)
    if errors:
        raise ValidationFailed(errors)
    row = Inquiry(
        customer_id=customer.id,
        subject=clean["subject"],
        body=clean["body"],
        retention_category=RETENTION_COMPLAINT,
    )
    db.session.add(row)
    db.session.flush()
    return row


def inquiries_of(customer_id: int, *, page: int = 1, per_page: int = 20) -> Page:
    """One page of the customer's inquiries, newest first."""
    stmt = (
        select(Inquiry)
        .where(Inquiry.customer_id == customer_id)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
    )
    return paginate(stmt, page=page, per_page=per_page)


def inquiry_of(customer_id: int, inquiry_id: int) -> Inquiry | None:
    """One inquiry, only if it is the customer's own (anything else is "not found")."""
    stmt = select(Inquiry).where(Inquiry.id == inquiry_id, Inquiry.customer_id == customer_id)
    return db.session.scalars(stmt).first()


def unanswered_inquiries(*, limit: int = 200) -> list[tuple[Inquiry, str]]:
    """(inquiry, login ID) pairs waiting for an answer, oldest first (staff)."""
    stmt = (
        select(Inquiry, LoginId.login_id)
        .join(Customer, Customer.id == Inquiry.customer_id)
        .join(LoginId, LoginId.id == Customer.login_id_id)
        .where(Inquiry.answered_at.is_(None))
        .order_by(Inquiry.created_at, Inquiry.id)
        .limit(limit)
    )
    return [tuple(row) for row in db.session.execute(stmt)]


def inquiry_queue_page(*, answered: bool = False, page: int = 1, per_page: int = 20) -> Page:
    """One page of (inquiry, login ID) pairs for staff: unanswered oldest first, or answered
    newest first (the (answered_at, created_at) index)."""
    stmt = (
        select(Inquiry, LoginId.login_id)
        .join(Customer, Customer.id == Inquiry.customer_id)
        .join(LoginId, LoginId.id == Customer.login_id_id)
    )
    if answered:
        stmt = stmt.where(Inquiry.answered_at.is_not(None)).order_by(
            Inquiry.answered_at.desc(), Inquiry.id.desc()
        )
    else:
        stmt = stmt.where(Inquiry.answered_at.is_(None)).order_by(Inquiry.created_at, Inquiry.id)
    return paginate_rows(stmt, page=page, per_page=per_page)


def unanswered_count() -> int:
    """Inquiries waiting for an answer (one COUNT over the answered_at index)."""
    stmt = select(func.count()).select_from(Inquiry).where(Inquiry.answered_at.is_(None))
    return db.session.scalar(stmt) or 0


def inquiry_for_staff(inquiry_id: int) -> tuple[Inquiry, str]:
    """An inquiry and its customer's login ID, for the staff's answer page.

    :raises InquiryNotFound: no such inquiry.
    """
    stmt = (
        select(Inquiry, LoginId.login_id)
        .join(Customer, Customer.id == Inquiry.customer_id)
        .join(LoginId, LoginId.id == Customer.login_id_id)
        .where(Inquiry.id == inquiry_id)
    )
    row = db.session.execute(stmt).first()
    if row is None:
        raise InquiryNotFound(inquiry_id)
    return row[0], row[1]


def answer_inquiry(inquiry_id: int, *, body: str | None) -> Inquiry:
    """Store the staff answer to an inquiry.

    :raises InquiryNotFound: no such inquiry.
    :raises InquiryAlreadyAnswered: it has an answer already.
    :raises ValidationFailed: empty or over-long answer.
    """
    row = db.session.get(Inquiry, inquiry_id)
    if row is None:
        raise InquiryNotFound(inquiry_id)
    if row.answered_at is not None:
        raise InquiryAlreadyAnswered(inquiry_id)
    try:
        answer = v.clean_text(body, max_length=ANSWER_MAX)
    except v.FieldInvalid as exc:
        raise ValidationFailed({"body": exc.message}) from exc
    row.answer = answer
    row.answered_at = utcnow()
    db.session.flush()
    customer = db.session.get(Customer, row.customer_id)
    if customer is not None:
        alert(customer, "inquiry_answered", subject=row.subject, inquiry_id=row.id)
    return row
