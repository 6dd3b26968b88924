"""Recording security events (identity-verification records, policy §3: 6 months)."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import select

from portal.audit.models import SecurityEvent
from portal.extensions import db


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


def events_of(customer_id: int, *, page: int = 1, per_page: int = 50) -> list[SecurityEvent]:
    stmt = (
        select(SecurityEvent)
        .where(SecurityEvent.customer_id == customer_id)
        .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    return list(db.session.scalars(stmt))
