"""Customer account pages."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from portal.account import bp
from portal.account.services import dashboard_summary


@bp.get("/account")
@login_required
def dashboard():
    return render_template("account/dashboard.html", summary=dashboard_summary(current_user))
