"""Server-side sessions: the cookie holds a random token; the row decides if it is alive."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, request
from flask_login import UserMixin, current_user
from sqlalchemy import Integer, Row, String, bindparam, delete, select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.audit.services import record_event
from portal.auth.errors import ReauthNeeded
from portal.auth.models import UserSession
from portal.customers.models import Customer, LoginId
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


def _expired(created_at: datetime, last_seen_at: datetime, now: datetime) -> str | None:
    cfg = current_app.config
    if now - created_at > timedelta(seconds=cfg["PORTAL_SESSION_ABSOLUTE_SECONDS"]):
        return "absolute"
    if now - last_seen_at > timedelta(seconds=cfg["PORTAL_SESSION_IDLE_SECONDS"]):
        return "idle"
    return None


# Built once: on every signed-in request, composing the statement cost more than running it.
# Core, not the ORM: building ORM objects for the session, the customer and the login ID
# cost about three times the statement itself, and most pages need neither object.
_SESSIONS = UserSession.__table__
_CUSTOMERS = Customer.__table__
_LOGIN_IDS = LoginId.__table__
_SESSION_BY_TOKEN = (
    select(
        _SESSIONS.c.id,
        _SESSIONS.c.created_at,
        _SESSIONS.c.last_seen_at,
        _SESSIONS.c.authenticated_at,
        _CUSTOMERS.c.id.label("customer_id"),
        _CUSTOMERS.c.name,
        _CUSTOMERS.c.username,
        _CUSTOMERS.c.customer_type,
        _LOGIN_IDS.c.login_id,
    )
    .join(_CUSTOMERS, _CUSTOMERS.c.id == _SESSIONS.c.customer_id)
    .join(_LOGIN_IDS, _LOGIN_IDS.c.id == _CUSTOMERS.c.login_id_id)
    .where(_SESSIONS.c.token_hash == bindparam("token_hash", type_=String))
)
# The ORM objects, when a page needs them: the session, with its customer (lazy="joined").
_SESSION_BY_ID = select(UserSession).where(UserSession.id == bindparam("id", type_=Integer))
_ORM_SESSION_BY_TOKEN = select(UserSession).where(
    UserSession.token_hash == bindparam("token_hash", type_=String)
)


def loads_customer(view):
    """Marks a view that works on the customer's row (it calls :func:`signed_in_customer`
    or reads ``current_session``): its session lookup loads the ORM objects at once, in
    the one statement, instead of the light lookup and a second statement later. Put it
    right above the function; ``functools.wraps`` carries the mark through the other
    decorators to the registered view."""
    view.loads_customer = True
    return view


def _view_loads_customer() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "loads_customer", False)


@dataclass(frozen=True, slots=True)
class _Found:
    """What SignedIn reads, from the light lookup's row or from the ORM objects."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    authenticated_at: datetime
    customer_id: int
    name: str
    username: str
    customer_type: str
    login_id: str

    @classmethod
    def of(cls, row: UserSession) -> _Found:
        c = row.customer
        return cls(
            row.id,
            row.created_at,
            row.last_seen_at,
            row.authenticated_at,
            c.id,
            c.name,
            c.username,
            c.customer_type,
            c.login_id,
        )


class SignedIn(UserMixin):
    """``current_user`` on a signed-in request: what the session lookup read, nothing more.

    It answers what most pages ask of the customer (id, name, username, login ID, customer
    type) and of the session (when it began, was last seen and last had the password)
    without ORM objects. Services that read or change the customer take
    :func:`signed_in_customer`, the ``Customer`` row; ``current_session`` is the session's
    ``UserSession`` row. Both are loaded together, on first use, in one statement.
    """

    def __init__(self, token: str, row) -> None:
        self.session_token = token
        self.session_id: int = row.id
        self.session_created_at: datetime = row.created_at
        self.last_seen_at: datetime = row.last_seen_at
        self.authenticated_at: datetime = row.authenticated_at
        self.id: int = row.customer_id
        self.name: str = row.name
        self.username: str = row.username
        self.customer_type: str = row.customer_type
        self.login_id: str = row.login_id
        self._row: UserSession | None = None

    def get_id(self) -> str:
        return self.session_token

    def _load(self) -> UserSession | None:
        if self._row is None:
            self._hold(db.session.scalars(_SESSION_BY_ID, {"id": self.session_id}).first())
        return self._row

    def _hold(self, row: UserSession | None) -> None:
        if row is not None:
            row.customer.session_token = self.session_token
            row.customer.current_session = row
        self._row = row

    @property
    def current_session(self) -> UserSession | None:
        """The session's row; None once it has been ended (by a parallel request)."""
        return self._load()

    @property
    def customer(self) -> Customer:
        row = self._load()
        if row is None:
            raise NotSignedIn()
        return row.customer

    def __repr__(self) -> str:
        return f"<SignedIn customer={self.id} session={self.session_id}>"


class NotSignedIn(Exception):
    """The request's session ended while the request ran (a logout or password change in
    another tab): there is no customer to act for. Answered like an expired session."""


def signed_in_customer() -> Customer:
    """The signed-in customer's ``Customer`` row, for the services that read or change it;
    its ``current_session`` and ``session_token`` are this request's.

    :raises NotSignedIn: the session was ended meanwhile.
    """
    user = current_user._get_current_object()
    # Right after login_user() in the same request, current_user is the Customer itself.
    return user.customer if isinstance(user, SignedIn) else user


def load_user_from_session(token: str) -> SignedIn | None:
    """Flask-Login's user loader: one statement for the session and the customer, light or,
    for a view marked :func:`loads_customer`, as ORM objects."""
    if not token or len(token) > 100:
        return None
    params = {"token_hash": keyed_hash(token)}
    row = None
    if _view_loads_customer():
        row = db.session.scalars(_ORM_SESSION_BY_TOKEN, params).first()
        found = _Found.of(row) if row is not None else None
    else:
        found = db.session.execute(_SESSION_BY_TOKEN, params).first()
    if found is None:
        return None
    user = SignedIn(token, found)
    user._hold(row)
    now = utcnow()
    reason = _expired(user.session_created_at, user.last_seen_at, now)
    if reason:
        record_event("session_expired", customer_id=user.id, detail=reason)
        db.session.execute(delete(UserSession).where(UserSession.id == user.session_id))
        g.session_expired = True
        return None
    if now - user.last_seen_at >= TOUCH_INTERVAL:
        # Committed with the request (portal.database): a page that fails does not count
        # as activity, which errs on the side of the idle timeout.
        db.session.execute(
            update(UserSession).where(UserSession.id == user.session_id).values(last_seen_at=now)
        )
        user.last_seen_at = now
        if row is not None:  # the loaded row says so too, without a second UPDATE
            set_committed_value(row, "last_seen_at", now)
    return user


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


# Columns, not UserSession objects (each would bring its customer, lazy="joined"): the
# security page only lists them.
_SESSIONS_OF = (
    select(
        UserSession.id,
        UserSession.created_at,
        UserSession.last_seen_at,
        UserSession.ip,
        UserSession.user_agent,
    )
    .where(UserSession.customer_id == bindparam("customer_id", type_=Integer))
    .order_by(UserSession.last_seen_at.desc())
    .limit(50)
)


def sessions_of(customer_id: int) -> list[Row]:
    """The customer's sessions (id, created_at, last_seen_at, ip, user_agent), the most
    recently active first (at most 50)."""
    return list(db.session.execute(_SESSIONS_OF, {"customer_id": customer_id}))


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
