"""View guards of the auth package: re-authentication for sensitive actions."""

from __future__ import annotations

from functools import wraps

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal.auth import messages as m
from portal.auth.sessions import reauth_due


def reauth_required(view=None, *, return_to: str | None = None):
    """Require the password again when it was last entered too long ago (PRODUCT.md §2).

    GET requests come back to the same page; a POST comes back to ``return_to`` (the page
    holding its form), since a form submission cannot be replayed after the detour.
    """

    def decorator(fn):
        @wraps(fn)
        @login_required
        def wrapper(*args, **kwargs):
            row = current_user.current_session
            if row is None or reauth_due(row):
                target = request.full_path.rstrip("?") if request.method == "GET" else return_to
                flash(m.REAUTH_NEEDED, "info")
                return redirect(url_for("auth.reauth", next=target or url_for("account.dashboard")))
            return fn(*args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator
