"""Server-side sessions: the cookie holds a random token; the row decides if it is alive."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import Integer, String, bindparam, delete, select

from portal.audit.services import record_event
from portal.auth.errors import ReauthNeeded
from portal.auth.models import UserSession
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.security import keyed_hash

# last_seen_at is written at most once a minute: idle timeouts stay accurate to a minute
# without a database write on every page view.
TOUCH_INTERVAL = timedelta(seconds=60)


def client_ip() -> str:
    return (request.remote_addr or "")[:45]


def client_agent() -> str:
    return (request.user_agent.string or "")[:300]


def create_session(customer: Customer, *, now: datetime | None = None) -> str:
    """Open a new session for ``customer``; returns the token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=keyed_hash(token),
        customer_id=customer.id,
        created_at=now,
        last_seen_at=now,
        authenticated_at=now,
        ip=client_ip(),
        user_agent=client_agent(),
    )
    db.session.add(row)
    db.session.flush()
    customer.session_token = token
    customer.current_session = row
    return token


def rotate_session_token(customer: Customer, row: UserSession) -> str:
    """Give a session a new token (after re-authentication or a password change).

    The old cookie stops working at once; the view signs the customer in again with the new
    token so that this browser carries it on.
    """
    token = secrets.token_urlsafe(32)
    row.token_hash = keyed_hash(token)
    db.session.flush()
    customer.session_token = token
    return token


def _expired(row: UserSession, now: datetime) -> str | None:
    cfg = current_app.config
    if now - row.created_at > timedelta(seconds=cfg["PORTAL_SESSION_ABSOLUTE_SECONDS"]):
        return "absolute"
    if now - row.last_seen_at > timedelta(seconds=cfg["PORTAL_SESSION_IDLE_SECONDS"]):
        return "idle"
    return None


# Built once: on every signed-in request, composing the statement cost more than running it.
# The customer comes in the same statement (UserSession.customer is lazy="joined").
_SESSION_BY_TOKEN = select(UserSession).where(
    UserSession.token_hash == bindparam("token_hash", type_=String)
)


def load_user_from_session(token: str) -> Customer | None:
    """Flask-Login's user loader: one query for session and customer together."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalars(_SESSION_BY_TOKEN, {"token_hash": keyed_hash(token)}).first()
    if row is None:
        return None
    now = utcnow()
    reason = _expired(row, now)
    if reason:
        record_event("session_expired", customer_id=row.customer_id, detail=reason)
        db.session.delete(row)
        g.session_expired = True
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        # Committed with the request (portal.database): a page that fails does not count
        # as activity, which errs on the side of the idle timeout.
        row.last_seen_at = now
    customer = row.customer
    customer.session_token = token
    customer.current_session = row
    return customer


def touch_session(row: UserSession, *, now: datetime | None = None) -> int:
    """Count this moment as activity ("연장" before the idle timeout): the session's idle
    time starts again. Returns the seconds of idle time the session now has."""
    row.last_seen_at = now or utcnow()
    db.session.flush()
    return current_app.config["PORTAL_SESSION_IDLE_SECONDS"]


def end_other_sessions(customer: Customer, keep: UserSession | None) -> int:
    """End every session of ``customer`` except ``keep``; returns how many ended."""
    stmt = delete(UserSession).where(UserSession.customer_id == customer.id)
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    result = db.session.execute(stmt)
    return result.rowcount or 0


_SESSIONS_OF = (
    select(UserSession)
    .where(UserSession.customer_id == bindparam("customer_id", type_=Integer))
    .order_by(UserSession.last_seen_at.desc())
    .limit(50)
)


def sessions_of(customer_id: int) -> list[UserSession]:
    """The customer's sessions, the most recently active first (at most 50)."""
    return list(db.session.scalars(_SESSIONS_OF, {"customer_id": customer_id}))


def ensure_recent_password(row: UserSession | None, *, now: datetime | None = None) -> None:
    """The service-side check behind every sensitive action (PRODUCT.md §2): contact details,
    payment method, password, second factors, export, withdrawal. Views also guard with
    :func:`portal.auth.guards.reauth_required`; the service checks again, so a form posted
    after the window closed changes nothing.

    :raises ReauthNeeded: no server-side session, or its password entry is too old.
    """
    if row is None or reauth_due(row, now=now):
        raise ReauthNeeded()


def reauth_due(row: UserSession, *, now: datetime | None = None) -> bool:
    """True when the password was last entered longer ago than PORTAL_REAUTH_SECONDS."""
    now = now or utcnow()
    window = timedelta(seconds=current_app.config["PORTAL_REAUTH_SECONDS"])
    return now - row.authenticated_at > window
