"""Guards of destructive back-office actions: a recent password and the target typed again."""

from __future__ import annotations

from functools import wraps

from flask import flash, g, redirect, request, url_for

from portal.admin import messages as m
from portal.admin.signin import reauth_due


def recent_password(view=None, *, return_to: str | None = None):
    """Require the staff password within PORTAL_REAUTH_SECONDS (put under :func:`requires`).

    This is the check: the same services also run from the command line, where the
    operator's own server account is the authentication, so they cannot ask for a staff
    session. A GET comes back to itself after the password, a POST to ``return_to`` (its
    form's page). :func:`portal.admin.signin.ensure_recent_password` is the same rule for
    code that holds a staff session but no request.
    """

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            row = g.get("staff_session")
            if row is None or reauth_due(row):
                target = request.full_path.rstrip("?") if request.method == "GET" else None
                if target is None and return_to:
                    target = url_for(return_to, **(request.view_args or {}))
                flash(m.REAUTH_NEEDED, "info")
                return redirect(url_for("admin.reauth", next=target or url_for("admin.index")))
            return fn(*args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


def typed_confirmation(expected: str) -> bool:
    """True when the form's ``confirm_login_id`` names ``expected`` (case-insensitive)."""
    typed = (request.form.get("confirm_login_id") or "").strip().lower()
    return bool(expected) and typed == expected.lower()
