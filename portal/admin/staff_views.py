"""Back-office staff accounts and the role log (/admin/staff…): create, change a role,
disable and enable, reset a second factor or a password.

Thin, like every admin view: parse, call one admin.services function, render. Secrets shown
once (a new account's TOTP secret and temporary password, a reset) are written into the
POST's own response only: never into a URL, the cookie session or a flash message (staff
pages are sent ``no-store``).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from portal.admin import bp
from portal.admin import messages as m
from portal.admin.guards import recent_password, typed_confirmation
from portal.admin.menu import ROLE_LABELS, menu_item
from portal.admin.models import STAFF_ROLES
from portal.admin.permissions import requires
from portal.admin.services import (
    StaffError,
    change_role,
    create_staff_account,
    disable_staff,
    enable_staff,
    reset_otp,
    reset_password,
    role_log_page,
    staff_by_id,
)
from portal.admin.services import staff_list as all_staff
from portal.audit import review
from portal.auth import otp
from portal.dbtypes import utcnow
from portal.errors import render_error
from portal.pagination import parse_page

menu_item("admin.staff_list", "staff.manage", _l("직원 계정"), order=80)
menu_item("admin.role_log", "staff.manage", _l("권한 부여·변경 기록"), order=81)


def _roles() -> list[tuple[str, str]]:
    return [(role, str(ROLE_LABELS[role])) for role in STAFF_ROLES]


# --- staff accounts ---------------------------------------------------------------------


@bp.get("/staff")
@requires("staff.manage")
def staff_list():
    return render_template(
        "admin/office/staff_list.html",
        staff=all_staff(),
        last_sign_ins=review.last_sign_ins(),
        now=utcnow(),
    )


@bp.route("/staff/new", methods=["GET", "POST"])
@requires("staff.manage")
@recent_password(return_to="admin.staff_new")
def staff_new():
    values = {"login_id": "", "name": "", "role": "support"}
    errors: dict[str, object] = {}
    if request.method == "POST":
        values = {key: (request.form.get(key) or "").strip()[:200] for key in values}
        try:
            created = create_staff_account(
                login_id=values["login_id"],
                name=values["name"],
                role=values["role"],
                password=(request.form.get("password") or "")[:200] or None,
                by=g.staff,
            )
        except StaffError as exc:
            errors[exc.field or "login_id"] = exc.message
        else:
            return _shown_once(
                created.staff,
                otp_secret=created.otp_secret,
                password=created.temporary_password,
                kind="created",
            )
    status = 400 if errors else 200
    return (
        render_template(
            "admin/office/staff_new.html", values=values, errors=errors, roles=_roles()
        ),
        status,
    )


def _shown_once(staff, *, otp_secret: str | None = None, password: str | None = None, kind: str):
    """The page that shows a new secret once: rendered into this POST's response only."""
    uri = otp.provisioning_uri(otp_secret, f"staff-{staff.login_id}") if otp_secret else None
    return render_template(
        "admin/office/staff_secret.html",
        target=staff,
        kind=kind,
        otp_secret=otp_secret,
        otp_uri=uri,
        qr=otp.qr_svg(uri) if uri else None,
        password=password,
    )


def _target_or_404(staff_id: int):
    target = staff_by_id(staff_id)
    if target is None:
        return None, render_error(404)
    return target, None


def _detail(target, *, errors: dict | None = None, status: int = 200):
    return (
        render_template(
            "admin/office/staff_detail.html",
            target=target,
            errors=errors or {},
            roles=_roles(),
            is_self=target.id == g.staff.id,
            last_sign_in=review.last_sign_ins().get(target.id),
            now=utcnow(),
        ),
        status,
    )


@bp.get("/staff/<int:staff_id>")
@requires("staff.manage")
def staff_detail(staff_id: int):
    target, missing = _target_or_404(staff_id)
    return missing or _detail(target)


def _destructive(staff_id: int, form: str, action):
    """Shared shape of the guarded staff actions: the typed login ID, then one service."""
    target, missing = _target_or_404(staff_id)
    if missing:
        return None, missing
    if not typed_confirmation(target.login_id):
        return None, _detail(target, errors={form: m.CONFIRM_MISMATCH}, status=400)
    try:
        result = action(target)
    except StaffError as exc:
        return None, _detail(target, errors={form: exc.message}, status=400)
    return (target, result), None


@bp.post("/staff/<int:staff_id>/role")
@requires("staff.manage")
@recent_password(return_to="admin.staff_detail")
def staff_role(staff_id: int):
    role = (request.form.get("role") or "")[:40]
    _, page = _destructive(staff_id, "role", lambda t: change_role(t, role, by=g.staff))
    if page:
        return page
    flash(m.STAFF_ROLE_CHANGED, "success")
    return redirect(url_for("admin.staff_detail", staff_id=staff_id))


@bp.post("/staff/<int:staff_id>/disable")
@requires("staff.manage")
@recent_password(return_to="admin.staff_detail")
def staff_disable(staff_id: int):
    _, page = _destructive(staff_id, "disable", lambda t: disable_staff(t, by=g.staff))
    if page:
        return page
    flash(m.STAFF_DISABLED, "success")
    return redirect(url_for("admin.staff_detail", staff_id=staff_id))


@bp.post("/staff/<int:staff_id>/enable")
@requires("staff.manage")
@recent_password(return_to="admin.staff_detail")
def staff_enable(staff_id: int):
    target, missing = _target_or_404(staff_id)
    if missing:
        return missing
    try:
        enable_staff(target, by=g.staff)
    except StaffError as exc:
        return _detail(target, errors={"enable": exc.message}, status=400)
    flash(m.STAFF_ENABLED, "success")
    return redirect(url_for("admin.staff_detail", staff_id=staff_id))


@bp.post("/staff/<int:staff_id>/reset-otp")
@requires("staff.manage")
@recent_password(return_to="admin.staff_detail")
def staff_reset_otp(staff_id: int):
    done, page = _destructive(staff_id, "reset_otp", lambda t: reset_otp(t, by=g.staff))
    if page:
        return page
    target, secret = done
    return _shown_once(target, otp_secret=secret, kind="otp_reset")


@bp.post("/staff/<int:staff_id>/reset-password")
@requires("staff.manage")
@recent_password(return_to="admin.staff_detail")
def staff_reset_password(staff_id: int):
    done, page = _destructive(staff_id, "reset_password", lambda t: reset_password(t, by=g.staff))
    if page:
        return page
    target, temporary = done
    return _shown_once(target, password=temporary, kind="password_reset")


@bp.get("/staff/role-log")
@requires("staff.manage")
def role_log():
    page = role_log_page(page=parse_page(request.args.get("page")))
    return render_template("admin/office/role_log.html", page=page)
