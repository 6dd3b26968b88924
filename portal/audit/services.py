"""Recording security events (identity-verification records, policy §3: 6 months)."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import select

from portal.audit.models import SecurityEvent
from portal.extensions import db
from portal.pagination import Page, paginate

# The history page shows this many events at a time.
EVENTS_PER_PAGE = 50


def record_event(kind: str, *, customer_id: int | None, detail: str = "") -> SecurityEvent:
    """Add an event in the current transaction (committed with the change it records)."""
    ip = agent = ""
    if has_request_context():
        ip = (request.remote_addr or "")[:45]
        agent = (request.user_agent.string or "")[:300]
    event = SecurityEvent(
        customer_id=customer_id, kind=kind, detail=detail[:500], ip=ip, user_agent=agent
    )
    db.session.add(event)
    return event


def events_of(customer_id: int, *, page: int = 1, per_page: int = EVENTS_PER_PAGE) -> Page:
    """One page of the customer's security events, newest first."""
    stmt = (
        select(SecurityEvent)
        .where(SecurityEvent.customer_id == customer_id)
        .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
    )
    return paginate(stmt, page=page, per_page=per_page)
