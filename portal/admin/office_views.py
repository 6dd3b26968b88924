"""Back-office OFFICE screens: the monthly access-log review, notices and policy revisions
(staff accounts and the role log: portal.admin.staff_views).

Thin, like every admin view: parse, call one service (audit.review, policy.notices /
policy.versions), render.
"""

from __future__ import annotations

from datetime import date

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from portal.admin import bp
from portal.admin import messages as m
from portal.admin.menu import menu_item
from portal.admin.permissions import requires
from portal.admin.services import staff_list as all_staff
from portal.admin.signin import note
from portal.audit import messages as am
from portal.audit import review
from portal.audit.access import verify_chain
from portal.customers import messages as cm
from portal.dbtypes import kst_today, utcnow
from portal.pagination import parse_page
from portal.policy.errors import (
    AnnouncedInPast,
    BodyRequired,
    BodyTooLong,
    EndDateInPast,
    InvalidLabel,
    LabelTaken,
    OutOfOrder,
    PolicyError,
    TitleRequired,
    TooSoon,
)
from portal.policy.markdown import render_markdown
from portal.policy.messages import STATUS_LABELS, message_for
from portal.policy.notices import PINNED_INDEFINITELY, post_notice, staff_notices_page
from portal.policy.versions import (
    MATERIAL_NOTICE_DAYS,
    NOTICE_DAYS,
    announce_revision,
    earliest_effective_date,
    list_versions,
)

menu_item("admin.notices", "notices.publish", _l("공지사항"), order=60)
menu_item("admin.policy_versions", "policy.revise", _l("처리방침 개정"), order=61)
menu_item("admin.access_log", "access_log.review", _l("접속기록 점검"), order=70)


# --- the monthly access-log review ------------------------------------------------------


def _month_or_error() -> tuple[review.Month, object | None]:
    try:
        return review.parse_month(request.values.get("month")), None
    except review.BadMonth:
        return review.last_month(), am.REVIEW_BAD_MONTH


def _review_page(month, *, error=None, comment: str = "", status: int = 200):
    note(g.staff, "access_log_view", fields=["month"])
    limit = current_app.config["PORTAL_ACCESS_REVIEW_DAILY_CUSTOMERS"]
    return (
        render_template(
            "admin/office/access_log.html",
            month=month,
            counts=review.counts(month),
            flags=review.flags(month, daily_customers=limit),
            flag_labels=am.FLAG_LABELS,
            daily_limit=limit,
            chain=verify_chain(),
            reviewed=review.review_of(month),
            error=error,
            comment=comment,
            comment_max=review.COMMENT_MAX,
        ),
        status,
    )


@bp.get("/access-log")
@requires("access_log.review")
def access_log():
    month, error = _month_or_error()
    return _review_page(month, error=error, status=400 if error else 200)


@bp.post("/access-log/reviewed")
@requires("access_log.review")
def access_log_reviewed():
    month, error = _month_or_error()
    comment = (request.form.get("comment") or "")[: review.COMMENT_MAX + 100]
    if error is None:
        try:
            review.mark_reviewed(month, staff_id=g.staff.id, comment=comment)
        except review.AlreadyReviewed:
            error = am.REVIEW_ALREADY
        except review.NotOver:
            error = am.REVIEW_NOT_OVER
        except review.CommentTooLong:
            error = am.REVIEW_COMMENT_TOO_LONG
        else:
            note(g.staff, "access_log_reviewed", fields=["month"])
            flash(m.REVIEW_SAVED, "success")
            return redirect(url_for("admin.access_log", month=month.label))
    return _review_page(month, error=error, comment=comment, status=400)


def _optional_int(name: str) -> tuple[int | None, bool]:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None, True
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None, False
    return int(raw), True


@bp.get("/access-log/records")
@requires("access_log.review")
def access_log_records():
    month, error = _month_or_error()
    errors: dict[str, object] = {"month": error} if error else {}
    staff_id, ok = _optional_int("staff_id")
    if not ok:
        errors["staff_id"] = m.NUMBER_EXPECTED
    customer_id, ok = _optional_int("customer_id")
    if not ok:
        errors["customer_id"] = m.NUMBER_EXPECTED
    action = (request.args.get("action") or "").strip()[:40] or None
    where = review.RecordFilter(staff_id=staff_id, action=action, customer_id=customer_id)
    # Who looked at whose trail is itself on record: the customer filter names the customer.
    note(
        g.staff,
        "access_log_view",
        customer_id=customer_id,
        fields=[
            "records",
            *(k for k in ("staff_id", "action", "customer_id") if request.args.get(k)),
        ],
    )
    page = review.records_page(month, where, page=parse_page(request.args.get("page")))
    return (
        render_template(
            "admin/office/access_records.html",
            month=month,
            where=where,
            page=page,
            errors=errors,
            staff=all_staff(),
            actions=review.actions_in(month),
        ),
        400 if errors else 200,
    )


# --- notices and policy revisions -------------------------------------------------------


def _parse_date(name: str, errors: dict) -> date | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = m.DATE_FORMAT
        return None


_POLICY_FIELDS = {
    InvalidLabel: "label",
    LabelTaken: "label",
    TitleRequired: "title",
    BodyRequired: "body",
    BodyTooLong: "body",
    AnnouncedInPast: "announced_on",
    TooSoon: "effective_on",
    OutOfOrder: "effective_on",
    EndDateInPast: "pinned_until",
}


def _policy_field(exc: PolicyError) -> str:
    for kind, name in _POLICY_FIELDS.items():
        if isinstance(exc, kind):
            return name
    return "title"


@bp.get("/notices")
@requires("notices.publish")
def notices():
    page = staff_notices_page(parse_page(request.args.get("page")))
    return render_template("admin/office/notices.html", page=page, now=utcnow())


@bp.route("/notices/new", methods=["GET", "POST"])
@requires("notices.publish")
def notice_new():
    fields = ("title", "body", "pinned_until", "popup_until")
    values = {key: "" for key in fields} | {"pinned": False, "popup": False}
    errors: dict[str, object] = {}
    preview = None
    if request.method == "POST":
        values = {key: (request.form.get(key) or "") for key in fields}
        values |= {
            "pinned": bool(request.form.get("pinned")),
            "popup": bool(request.form.get("popup")),
        }
        pinned_until = _parse_date("pinned_until", errors)
        popup_until = _parse_date("popup_until", errors)
        if values["pinned"] and pinned_until is None and "pinned_until" not in errors:
            pinned_until = PINNED_INDEFINITELY
        if request.form.get("preview"):
            preview = render_markdown(values["body"]).html
        elif not errors:
            try:
                notice = post_notice(
                    title=values["title"],
                    body_md=values["body"],
                    pinned_until=pinned_until if values["pinned"] else None,
                    popup=values["popup"],
                    popup_until=popup_until,
                    author="",
                )
            except PolicyError as exc:
                name = _policy_field(exc)
                if isinstance(exc, EndDateInPast) and not values["pinned"]:
                    name = "popup_until"
                errors[name] = message_for(exc)
            else:
                note(g.staff, "notice_post", fields=[f"notice:{notice.id}"])
                flash(m.NOTICE_POSTED, "success")
                return redirect(url_for("admin.notices"))
    return (
        render_template(
            "admin/office/notice_new.html", values=values, errors=errors, preview=preview
        ),
        400 if errors else 200,
    )


@bp.get("/policy")
@requires("policy.revise")
def policy_versions():
    return render_template(
        "admin/office/policy_versions.html", rows=list_versions(), status_labels=STATUS_LABELS
    )


@bp.route("/policy/new", methods=["GET", "POST"])
@requires("policy.revise")
def policy_new():
    today = kst_today()
    fields = ("label", "title", "body", "effective_on", "announced_on")
    values = {key: "" for key in fields} | {"announced_on": today.isoformat(), "material": False}
    errors: dict[str, object] = {}
    preview = None
    if request.method == "POST":
        values = {key: (request.form.get(key) or "") for key in fields}
        values["material"] = bool(request.form.get("material"))
        effective_on = _parse_date("effective_on", errors)
        announced_on = _parse_date("announced_on", errors)
        if effective_on is None and "effective_on" not in errors:
            errors["effective_on"] = cm.REQUIRED
        if request.form.get("preview"):
            errors = {}
            preview = render_markdown(values["body"]).html
        elif not errors:
            try:
                version = announce_revision(
                    label=values["label"],
                    title=values["title"],
                    body_md=values["body"],
                    effective_on=effective_on,
                    announced_on=announced_on,
                    material=values["material"],
                    author="",
                )
            except PolicyError as exc:
                errors[_policy_field(exc)] = message_for(exc)
            else:
                note(g.staff, "policy_announce", fields=[f"policy:{version.label}"])
                flash(m.POLICY_ANNOUNCED, "success")
                return redirect(url_for("admin.policy_versions"))
    return (
        render_template(
            "admin/office/policy_new.html",
            values=values,
            errors=errors,
            preview=preview,
            earliest=earliest_effective_date(today, material=False),
            earliest_material=earliest_effective_date(today, material=True),
            notice_days=NOTICE_DAYS,
            material_days=MATERIAL_NOTICE_DAYS,
        ),
        400 if errors else 200,
    )
