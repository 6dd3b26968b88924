"""Bulk imports on screen: the same services as ``flask billing import`` and
``flask customers import``, for a file uploaded by a staff member."""

from __future__ import annotations

from flask import g, render_template, request
from flask_babel import lazy_gettext as _l

from portal.admin import bp
from portal.admin import messages as m
from portal.admin.menu import menu_item
from portal.admin.permissions import requires
from portal.admin.signin import note
from portal.billing.errors import ImportFailed
from portal.billing.imports import import_billing

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
                result = import_billing(text)
            except ImportFailed as exc:
                errors, status = exc.rows, 400
            else:
                for customer_id in sorted(result.customer_ids):
                    note(g.staff, "billing_import", customer_id=customer_id, fields=["invoices"])
    return (
        render_template("admin/import_billing.html", errors=errors, problem=problem, result=result),
        status,
    )
