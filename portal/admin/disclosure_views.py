"""The disclosures ledger (SPEC §7): what was given to a third party, to whom, on which basis.

Staff holding ``disclosures.record`` list it and record an entry; each list and each entry
writes an access-log record (the items' names, never their values). An item under
correction cannot be recorded as disclosed: the customer disputes it.
"""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from portal.account import messages as am
from portal.account.disclosures import ITEMS, disclosure_ledger, item_label, record_disclosure
from portal.admin import bp
from portal.admin import messages as m
from portal.admin.menu import menu_item
from portal.admin.permissions import requires
from portal.admin.queue_views import PER_PAGE, render_queue_page
from portal.admin.signin import note
from portal.customers.errors import UnderCorrection, ValidationFailed
from portal.customers.services import customer_by_login_id
from portal.extensions import db
from portal.pagination import parse_page

menu_item("admin.disclosure_ledger_page", "disclosures.record", _l("제3자 제공 기록"), order=33)


def _ledger(*, errors=None, values=None, status=200):
    page = disclosure_ledger(page=parse_page(request.args.get("page")), per_page=PER_PAGE)
    note(g.staff, "list", fields=["login_id", "disclosures"])
    return render_queue_page(
        "admin/queues/disclosures.html",
        status,
        page=page,
        items=[(key, str(label)) for key, label in ITEMS.items()],
        item_label=item_label,
        errors=errors or {},
        values=values or {"login_id": request.args.get("login_id", ""), "items": []},
    )


@bp.get("/disclosures")
@requires("disclosures.record")
def disclosure_ledger_page():
    return _ledger()


@bp.post("/disclosures")
@requires("disclosures.record")
def record_disclosure_entry():
    values = {
        "login_id": request.form.get("login_id", "").strip(),
        "recipient": request.form.get("recipient", ""),
        "basis": request.form.get("basis", ""),
        "items": request.form.getlist("items"),
        "date": request.form.get("date", ""),
    }
    customer = customer_by_login_id(values["login_id"]) if values["login_id"] else None
    if customer is None:
        return _ledger(errors={"login_id": m.CUSTOMER_NOT_FOUND}, values=values, status=400)
    try:
        row = record_disclosure(
            customer,
            recipient=values["recipient"],
            legal_basis=values["basis"],
            items=values["items"],
            disclosed_on=values["date"],
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _ledger(errors=exc.errors, values=values, status=400)
    except UnderCorrection as exc:
        db.session.rollback()
        return _ledger(errors={"items": am.message_for(exc)}, values=values, status=409)
    note(g.staff, "disclosure_record", customer_id=customer.id, fields=row.item_keys)
    flash(m.DISCLOSURE_RECORDED, "success")
    return redirect(url_for("admin.disclosure_ledger_page"))
