"""The other rights of policy §7 as requests (PRODUCT.md §6): deletion of an item, suspension
of processing (처리정지) and withdrawal of consent. Each is recorded with the legal 10-day
answer deadline, shown to the customer with its status, cancellable while open, and answered
by staff (``flask rights answer`` until the back office has a screen).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from portal.customers import validation as v
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer, LoginId
from portal.dbtypes import kst_today, utcnow
from portal.extensions import db
from portal.withdrawal.errors import RightsRequestNotFound, RightsRequestNotOpen
from portal.withdrawal.messages import RIGHTS_KIND_INVALID
from portal.withdrawal.models import RIGHTS_KINDS, RightsRequest

ANSWER_DAYS = 10  # 개인정보 보호법 시행령: answer within 10 days
DETAIL_MAX = 1000
ANSWER_MAX = 10_000


def submit_rights_request(customer: Customer, *, kind: str | None, detail: str | None):
    """Record a request; ``due_on`` is today (KST) + 10 days.

    :raises ValidationFailed: unknown kind, missing or over-long detail.
    """
    errors: dict[str, object] = {}
    if kind not in RIGHTS_KINDS:
        errors["kind"] = RIGHTS_KIND_INVALID
    try:
        text = v.clean_text(detail, max_length=DETAIL_MAX)
    except v.FieldInvalid as exc:
        errors["detail"] = exc.message
    if errors:
        raise ValidationFailed(errors)
    row = RightsRequest(
        customer_id=customer.id,
        kind=kind,
        detail=text,
        due_on=kst_today() + timedelta(days=ANSWER_DAYS),
    )
    db.session.add(row)
    db.session.flush()
    return row


def rights_requests_of(customer_id: int) -> list[RightsRequest]:
    stmt = (
        select(RightsRequest)
        .where(RightsRequest.customer_id == customer_id)
        .order_by(RightsRequest.created_at.desc(), RightsRequest.id.desc())
    )
    return list(db.session.scalars(stmt))


def _close(request_id: int, *, customer_id: int | None, **values) -> None:
    where = [RightsRequest.id == request_id]
    if customer_id is not None:
        where.append(RightsRequest.customer_id == customer_id)
    if db.session.scalar(select(RightsRequest.id).where(*where)) is None:
        raise RightsRequestNotFound()
    result = db.session.execute(
        update(RightsRequest)
        .where(*where, RightsRequest.status == "open")
        .values(closed_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise RightsRequestNotOpen()


def cancel_rights_request(customer: Customer, request_id: int) -> None:
    """:raises RightsRequestNotFound: not the customer's. :raises RightsRequestNotOpen:"""
    _close(request_id, customer_id=customer.id, status="cancelled")


def answer_rights_request(request_id: int, *, body: str | None) -> None:
    """Staff answer (the customer reads it at /account/rights).

    :raises ValidationFailed: empty or over-long answer.
    :raises RightsRequestNotFound: :raises RightsRequestNotOpen:
    """
    try:
        text = v.clean_text(body, max_length=ANSWER_MAX)
    except v.FieldInvalid as exc:
        raise ValidationFailed({"answer": exc.message}) from None
    _close(request_id, customer_id=None, status="answered", answer=text)


def open_rights_requests() -> list[tuple[RightsRequest, str]]:
    """Open requests with the login ID, the nearest deadline first (the staff queue)."""
    stmt = (
        select(RightsRequest, LoginId.login_id)
        .join(Customer, Customer.id == RightsRequest.customer_id)
        .join(LoginId, LoginId.id == Customer.login_id_id)
        .where(RightsRequest.status == "open")
        .order_by(RightsRequest.due_on, RightsRequest.id)
    )
    return [(row, login_id) for row, login_id in db.session.execute(stmt)]
