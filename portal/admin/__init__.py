"""The staff back office under ``/admin``: its own sign-in, session cookie and permissions.

The blueprint loads the staff session from the staff cookie before every request (never from
the customer's session), and refuses any endpoint that declares no permission.
"""

from flask import Blueprint, abort, current_app, g, request

from portal.admin.menu import template_helpers
from portal.admin.permissions import ATTRIBUTE
from portal.admin.signin import load_session

# Routes are attached by portal.admin.views and its sibling view modules, imported in
# portal.register_blueprints.
bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.context_processor(template_helpers)


@bp.before_request
def load_staff() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, ATTRIBUTE, None) is None:
        # Fail closed: a page that forgot its permission opens for no one.
        abort(403)
    token = request.cookies.get(current_app.config["PORTAL_STAFF_COOKIE_NAME"])
    row = load_session(token)
    g.staff_session = row
    g.staff = row.staff if row is not None else None
    g.staff_expired = bool(token) and row is None
