"""Bulk imports on screen: the same services as ``flask billing import`` and
``flask customers import``, for a file uploaded by a staff member."""

from __future__ import annotations

from flask import current_app, g, render_template, request
from flask_babel import lazy_gettext as _l

from portal.admin import bp
from portal.admin import messages as m
from portal.admin.menu import menu_item
from portal.admin.permissions import requires
from portal.admin.signin import note
from portal.auth import messages as am
from portal.auth.errors import ImportConflict, ImportRefused
from portal.auth.imports import import_customers
from portal.billing.errors import ImportFailed, ImportRaced
from portal.billing.imports import import_billing
from portal.customers.services import APPLICATION_FIELDS
from portal.errors import render_error
from portal.extensions import db

menu_item("admin.import_customers_file", "customers.register", _l("가입신청서 일괄 등록"), order=25)
menu_item("admin.import_billing_file", "billing.import", _l("청구·납부 가져오기"), order=60)


def uploaded_text() -> str | None:
    """The uploaded CSV as text (UTF-8, with or without the BOM Excel writes), or None."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    raw = upload.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ""


def _import_billing_once_more_if_raced(text: str):
    """Import; if another import wrote the same numbers at that moment, start again once:
    the rerun skips what the other one wrote, as a rerun of the file always does."""
    try:
        return import_billing(text)
    except ImportRaced:
        db.session.rollback()
    return import_billing(text)


@bp.route("/billing/import", methods=["GET", "POST"])
@requires("billing.import")
def import_billing_file():
    errors: list[tuple[int, str]] = []
    problem = None
    result = None
    status = 200
    if request.method == "POST":
        text = uploaded_text()
        if not text:
            problem, status = (m.UPLOAD_MISSING if text is None else m.UPLOAD_NOT_UTF8), 400
        else:
            try:
                result = _import_billing_once_more_if_raced(text)
            except ImportFailed as exc:
                errors, status = exc.rows, 400
            except ImportRaced:
                return render_error(409)
            else:
                for customer_id in sorted(result.customer_ids):
                    note(g.staff, "billing_import", customer_id=customer_id, fields=["invoices"])
    return (
        render_template("admin/import_billing.html", errors=errors, problem=problem, result=result),
        status,
    )


@bp.route("/customers/import", methods=["GET", "POST"])
@requires("customers.register")
def import_customers_file():
    """Application forms in bulk (the service of ``flask customers import``).

    On screen the file is capped at PORTAL_IMPORT_SCREEN_MAX_ROWS: every row costs a bcrypt
    hash, and a request must end well before a proxy's timeout; larger files go through
    the command, which shows a progress bar. The temporary passwords and cards are shown
    once, in this response, and never stored in a readable form.
    """
    errors: list[tuple[int, str]] = []
    problem = None
    result = None
    status = 200
    limit = current_app.config["PORTAL_IMPORT_SCREEN_MAX_ROWS"]
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problem, status = m.UPLOAD_MISSING, 400
        else:
            try:
                result = import_customers(
                    upload.stream, dry_run=bool(request.form.get("dry_run")), max_rows=limit
                )
            except ImportRefused as exc:
                problem, status = am.import_refusal(exc), 400
            except ImportConflict as exc:
                # The rows written so far are rolled back with the request (status 409).
                problem = am.IMPORT_CONFLICT % {"line": exc.line, "login_id": exc.login_id}
                status = 409
            else:
                if not result.ok:
                    errors, status = result.errors, 400
                for created in result.created:
                    note(
                        g.staff,
                        "register",
                        customer_id=created.customer_id,
                        fields=APPLICATION_FIELDS,
                    )
    return (
        render_template(
            "admin/import_customers.html",
            errors=errors,
            problem=problem,
            result=result,
            limit=limit,
        ),
        status,
    )
