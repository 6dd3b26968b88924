"""Who may do what in the back office: one table, one decorator.

Least privilege (PRODUCT.md §7): support registers customers, issues cards and answers
inquiries; billing settles withdrawals and imports invoices; the privacy officer handles
corrections and disclosures, revises the policy and reviews the access log; the admin manages
staff accounts and can stand in for any of them. A permission names a job, not a page, so a
new page picks the job it belongs to.

Every ``/admin`` endpoint declares its permission with :func:`requires` (or :func:`public` for
the sign-in pages); ``tests/admin/test_permissions.py`` walks the URL map and fails for one
that declares none, and the blueprint refuses such an endpoint at run time as well.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, flash, g, make_response, redirect, request, url_for

from portal.admin import messages as m
from portal.admin.signin import note, password_expired
from portal.database import commit_security_write
from portal.errors import render_error

ALL_ROLES = frozenset({"support", "billing", "privacy_officer", "admin"})

PERMISSIONS: dict[str, frozenset[str]] = {
    # Their own account: signing out, the password change (also when it has expired).
    "self": ALL_ROLES,
    "home": ALL_ROLES,
    "customers.search": ALL_ROLES,
    "customers.view": ALL_ROLES,
    "customers.register": frozenset({"support", "admin"}),
    "cards.issue": frozenset({"support", "admin"}),
    "inquiries.answer": frozenset({"support", "admin"}),
    "corrections.process": frozenset({"support", "privacy_officer", "admin"}),
    "withdrawals.process": frozenset({"billing", "admin"}),
    "billing.import": frozenset({"billing", "admin"}),
    "disclosures.record": frozenset({"privacy_officer", "admin"}),
    "notices.publish": frozenset({"privacy_officer", "admin"}),
    "policy.revise": frozenset({"privacy_officer", "admin"}),
    "access_log.review": frozenset({"privacy_officer", "admin"}),
    "staff.manage": frozenset({"admin"}),
}
PUBLIC = "public"
ATTRIBUTE = "staff_permission"


def allowed(role: str, permission: str) -> bool:
    """True when ``role`` holds ``permission`` (unknown permissions hold for no one)."""
    return role in PERMISSIONS.get(permission, frozenset())


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """The sign-in pages: open to anyone (they check credentials themselves)."""
    setattr(view, ATTRIBUTE, PUBLIC)
    return view


def refuse() -> None:
    """A 403 that is also an access-log record (committed: the error page rolls back)."""
    note(g.staff, "denied", fields=[request.endpoint or request.path])
    commit_security_write()
    abort(make_response(render_error(403, str(m.FORBIDDEN))))


def requires(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only a signed-in staff member whose role holds ``permission`` reaches the view.

    Not signed in → the staff sign-in page. An expired password → the password change,
    whatever the page. The wrong role → 403 and an access-log record.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = g.get("staff")
            if staff is None:
                flash(m.SESSION_ENDED if g.get("staff_expired") else m.SIGN_IN_FIRST, "info")
                return redirect(url_for("admin.login"))
            if permission != "self" and password_expired(staff):
                flash(m.PASSWORD_EXPIRED, "info")
                return redirect(url_for("admin.change_password"))
            if not allowed(staff.role, permission):
                refuse()
            return view(*args, **kwargs)

        setattr(wrapper, ATTRIBUTE, permission)
        return wrapper

    return decorator
