"""Extension objects, created unbound and initialised in ``create_app``."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so that migrations can drop and alter them by name on both
# SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# expire_on_commit off: a request commits once at its end, and the few security writes that
# commit earlier on purpose (portal.database.commit_security_write) must not turn every
# object the request holds into a reload — or into an ObjectDeletedError when a parallel
# request has deleted the row meanwhile (a pending login consumed by a double click).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()


class _CSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF check, with a malformed Referer refused like a missing one.

    Over HTTPS the check compares the Referer's origin with ours through ``urlparse``, which
    raises ValueError on a port that is not a number from 0 to 65535 or on a broken IPv6
    bracket; that surfaced as a 500. Nothing else in ``protect`` raises ValueError (a bad
    token's ValidationError is caught inside it), so this catch is only about the Referer.
    """

    def protect(self, apply_exemptions: bool = False) -> None:
        try:
            super().protect(apply_exemptions=apply_exemptions)
        except ValueError:
            self._error_response("The referrer header is malformed.")


csrf = _CSRFProtect()
babel = Babel()


def _client_ip() -> str:
    # request.remote_addr is already the client address: ProxyFix (configured by trusted
    # proxy count) rewrites it; forged X-Forwarded-For headers are never read here.
    return get_remote_address() or request.remote_addr or "unknown"


# Limits are declared on the views; storage comes from RATELIMIT_STORAGE_URI (memory for one
# process, Redis when several workers or hosts share the counters).
limiter = Limiter(key_func=_client_ip, default_limits=[])


def check_limits_only_where_declared(app: Flask) -> None:
    """Drop Flask-Limiter's check before every request when it can find nothing to check.

    That check exists for application-wide, default and blueprint limits. The portal's
    limits are all on their views (``@limiter.limit``), and each such view's wrapper checks
    its own limits; so, with none of the other kinds configured, the check only resolved
    empty lists, on every page. Called once the blueprints are registered (a blueprint
    limit is added when its blueprint is). Any limit of those kinds keeps the check.
    """
    manager = limiter.limit_manager
    if manager.application_limits or manager.default_limits:
        return
    if any(manager.blueprint_limits(app, name) for name in app.blueprints):
        return
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks:
        checks.remove(limiter._check_request_limit)
