"""Correction requests for identity fields (PRODUCT.md §3, policy §7).

Name, birth date and business number are not edited by the customer: a request goes to staff.
While a request is open the field is "정정 중" and must be neither used nor provided
(개인정보 보호법 §36: data whose correction is requested is not used until resolved), so
every service that prints or provides it calls :func:`ensure_not_under_correction` first —
documents (billing will), third-party disclosures (here). The customer's own data download is
not refused: the customer is the data subject, not a third party.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.account import messages as m
from portal.account.errors import (
    CorrectionAlreadyOpen,
    CorrectionConflict,
    CorrectionNotFound,
    CorrectionNotOpen,
    NoticeAlreadyDone,
    NoticeNotFound,
)
from portal.account.models import Disclosure
from portal.account.services import set_field_sources
from portal.audit.services import record_event
from portal.customers import validation as v
from portal.customers.errors import ValidationFailed
from portal.customers.models import (
    CORRECTABLE_FIELDS,
    CorrectionNotice,
    CorrectionRequest,
    Customer,
    LoginId,
)
from portal.customers.services import collect
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.mail.services import alert
from portal.pagination import Page, paginate_rows

# The longest reason a customer gives, and a staff member's reason for a rejection.
REASON_MAX = 1000


def applicable_fields(customer: Customer) -> tuple[str, ...]:
    """The identity fields this customer has: the name and the identity number."""
    return ("name", customer.identity_field)


def _normalise(field: str, value: str | None) -> str:
    if field == "name":
        return v.clean_text(value, max_length=v.NAME_MAX)
    if field == "birth_date":
        return v.birth_date(value).isoformat()
    return v.business_number(value)


def _current(customer: Customer, field: str) -> str:
    current = getattr(customer, field)
    if isinstance(current, date):
        return current.isoformat()
    return current or ""


def request_correction(
    customer: Customer, *, field: str, value: str | None, reason: str | None
) -> CorrectionRequest:
    """Open a correction request for one identity field.

    :raises ValidationFailed: unknown or inapplicable field, a bad value (e.g. a business
        number whose check digit fails), the value already held, or a missing reason.
    :raises CorrectionAlreadyOpen: a request for this field is still open.
    """
    errors: dict[str, object] = {}
    if field not in CORRECTABLE_FIELDS:
        raise ValidationFailed({"field": m.CORRECTION_FIELD_INVALID})
    if field not in applicable_fields(customer):
        raise ValidationFailed({"field": m.CORRECTION_FIELD_NOT_APPLICABLE})
    new_value = collect(errors, "value", _normalise, field, value)
    clean_reason = collect(errors, "reason", v.clean_text, reason, max_length=REASON_MAX)
    if new_value is not None and new_value == _current(customer, field):
        errors["value"] = m.CORRECTION_SAME
    if errors:
        raise ValidationFailed(errors)
    if field in open_correction_fields(customer.id):
        raise CorrectionAlreadyOpen(field)
    row = CorrectionRequest(
        customer_id=customer.id,
        field=field,
        open_field=field,
        new_value=new_value,
        reason=clean_reason,
        status="open",
    )
    db.session.add(row)
    record_event("correction_requested", customer_id=customer.id, detail=field)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # Two submits raced past the check above: the unique (customer_id, open_field)
        # pair lets only one of them in.
        raise CorrectionAlreadyOpen(field) from exc
    return row


def open_correction_fields(customer_id: int) -> set[str]:
    """The identity fields of the customer that have an open correction request."""
    stmt = select(CorrectionRequest.field).where(
        CorrectionRequest.customer_id == customer_id, CorrectionRequest.open_field.is_not(None)
    )
    return set(db.session.scalars(stmt))


def corrections_of(customer_id: int, *, limit: int = 50) -> list[CorrectionRequest]:
    """The customer's requests, newest first, with their notification tasks (2 statements)."""
    stmt = (
        select(CorrectionRequest)
        .where(CorrectionRequest.customer_id == customer_id)
        .options(selectinload(CorrectionRequest.notifications))
        .order_by(CorrectionRequest.created_at.desc(), CorrectionRequest.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def correction_queue(*, include_resolved: bool = False, limit: int = 200) -> list[tuple]:
    """(request, login ID) pairs for staff, oldest open first."""
    stmt = (
        select(CorrectionRequest, LoginId.login_id)
        .join(Customer, Customer.id == CorrectionRequest.customer_id)
        .join(LoginId, LoginId.id == Customer.login_id_id)
        .options(selectinload(CorrectionRequest.notifications))
        .order_by(CorrectionRequest.created_at, CorrectionRequest.id)
        .limit(limit)
    )
    if not include_resolved:
        stmt = stmt.where(CorrectionRequest.status == "open")
    return [tuple(row) for row in db.session.execute(stmt)]


# The staff queue's views: waiting for a decision, approved with recipients still to be
# told, or everything.
QUEUE_VIEWS = ("open", "notify", "all")


def correction_queue_page(*, view: str = "open", page: int = 1, per_page: int = 20) -> Page:
    """One page of (request, login ID) pairs for staff, oldest first, with their
    notification tasks (2 statements). ``view`` is one of :data:`QUEUE_VIEWS`."""
    stmt = (
        select(CorrectionRequest, LoginId.login_id)
        .join(Customer, Customer.id == CorrectionRequest.customer_id)
        .join(LoginId, LoginId.id == Customer.login_id_id)
        .options(selectinload(CorrectionRequest.notifications))
        .order_by(CorrectionRequest.created_at, CorrectionRequest.id)
    )
    if view == "open":
        stmt = stmt.where(CorrectionRequest.status == "open")
    elif view == "notify":
        pending = exists().where(
            CorrectionNotice.correction_id == CorrectionRequest.id,
            CorrectionNotice.notified_at.is_(None),
        )
        stmt = stmt.where(CorrectionRequest.status == "approved", pending)
    return paginate_rows(stmt, page=page, per_page=per_page)


def open_correction_count() -> int:
    """Requests waiting for a decision (one COUNT over the (status, created_at) index)."""
    stmt = select(func.count()).select_from(CorrectionRequest)
    return db.session.scalar(stmt.where(CorrectionRequest.status == "open")) or 0


def correction_for_staff(correction_id: int) -> tuple[CorrectionRequest, Customer]:
    """A request (any status) and its customer, for the staff's decision page.

    :raises CorrectionNotFound: no such request.
    """
    stmt = (
        select(CorrectionRequest)
        .where(CorrectionRequest.id == correction_id)
        .options(selectinload(CorrectionRequest.notifications))
    )
    row = db.session.scalars(stmt).first()
    if row is None:
        raise CorrectionNotFound(correction_id)
    customer = db.session.get(Customer, row.customer_id)
    assert customer is not None  # the FK cascades
    return row, customer


def current_value(customer: Customer, field: str) -> str:
    """The value held now for an identity field, as text ("" when none)."""
    return _current(customer, field)


def _open_request(correction_id: int) -> CorrectionRequest:
    row = db.session.get(CorrectionRequest, correction_id)
    if row is None:
        raise CorrectionNotFound(correction_id)
    if row.status != "open":
        raise CorrectionNotOpen(correction_id)
    return row


def approve_correction(correction_id: int) -> CorrectionRequest:
    """Apply the requested value and open a notification task per earlier recipient.

    The old value is overwritten, not kept (policy §3). Every third party that had received
    this field (disclosures whose items include it) gets one "notify of correction" task,
    which staff mark done with :func:`mark_notified`; the customer sees their status.

    :raises CorrectionNotFound: no such request.
    :raises CorrectionNotOpen: already approved or rejected.
    :raises CorrectionConflict: the customer edited their profile at that very moment.
    :raises ValidationFailed: the value no longer passes its rule (e.g. a date now invalid).
    """
    row = _open_request(correction_id)
    customer = db.session.get(Customer, row.customer_id)
    assert customer is not None  # the FK cascades: a request never outlives its customer
    try:
        value = _normalise(row.field, row.new_value)
    except v.FieldInvalid as exc:
        raise ValidationFailed({"value": exc.message}) from exc
    # Read everything first: a query after the changes would autoflush them outside the
    # conflict handling below.
    recipients: list[str] = []
    stmt = (
        select(Disclosure)
        .where(Disclosure.customer_id == customer.id)
        .order_by(Disclosure.disclosed_on, Disclosure.id)
    )
    for disclosure in db.session.scalars(stmt):
        if row.field in disclosure.item_keys and disclosure.recipient not in recipients:
            recipients.append(disclosure.recipient)
    setattr(customer, row.field, date.fromisoformat(value) if row.field == "birth_date" else value)
    set_field_sources(customer, [row.field], "correction")
    customer.version = customer.version + 1  # an open profile form is now stale
    row.status = "approved"
    row.open_field = None
    row.resolved_at = utcnow()
    for recipient in recipients:
        db.session.add(
            CorrectionNotice(correction=row, customer_id=customer.id, recipient=recipient)
        )
    record_event("correction_approved", customer_id=customer.id, detail=row.field)
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise CorrectionConflict(correction_id) from exc
    alert(customer, "correction_decided", field=row.field, outcome="approved")
    return row


def reject_correction(correction_id: int, *, reason: str | None) -> CorrectionRequest:
    """Close a request without changing the data; the customer sees the reason.

    :raises CorrectionNotFound: no such request.
    :raises CorrectionNotOpen: already approved or rejected.
    :raises ValidationFailed: no reason given.
    """
    row = _open_request(correction_id)
    try:
        note = v.clean_text(reason, max_length=REASON_MAX)
    except v.FieldInvalid as exc:
        raise ValidationFailed({"reason": m.CORRECTION_REJECT_REASON}) from exc
    row.status = "rejected"
    row.open_field = None
    row.resolved_at = utcnow()
    row.resolution_note = note
    record_event("correction_rejected", customer_id=row.customer_id, detail=row.field)
    db.session.flush()
    customer = db.session.get(Customer, row.customer_id)
    if customer is not None:
        alert(customer, "correction_decided", field=row.field, outcome="rejected")
    return row


def mark_notified(notice_id: int) -> CorrectionNotice:
    """Staff told the recipient about the correction.

    :raises NoticeNotFound: no such task.
    :raises NoticeAlreadyDone: already marked.
    """
    stmt = (
        select(CorrectionNotice)
        .where(CorrectionNotice.id == notice_id)
        .options(joinedload(CorrectionNotice.correction))
    )
    notice = db.session.scalars(stmt).first()
    if notice is None:
        raise NoticeNotFound(notice_id)
    if notice.notified_at is not None:
        raise NoticeAlreadyDone(notice_id)
    notice.notified_at = utcnow()
    db.session.flush()
    return notice
