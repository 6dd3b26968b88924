"""Customer account pages: parse, call one service, commit once, flash, redirect."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from portal.account import bp
from portal.account import messages as m
from portal.account.corrections import applicable_fields, corrections_of, request_correction
from portal.account.disclosures import disclosures_of, item_label
from portal.account.errors import CorrectionAlreadyOpen, StaleProfile
from portal.account.export import export_customer_data, view_customer_data
from portal.account.forms import CorrectionForm, InquiryForm, ProfileForm
from portal.account.inquiries import inquiries_of, inquiry_of, submit_inquiry
from portal.account.readable import readable_sections
from portal.account.services import (
    current_profile_values,
    dashboard_summary,
    field_sources,
    profile_facts,
    update_profile,
)
from portal.auth.errors import ReauthNeeded
from portal.auth.guards import reauth_required
from portal.auth.sessions import ensure_recent_password, loads_customer, signed_in_customer
from portal.customers.errors import ValidationFailed
from portal.customers.messages import FIELD_LABELS
from portal.customers.validation import country_options, display_phone
from portal.dbtypes import kst_today, utcnow
from portal.errors import render_error
from portal.extensions import db, limiter
from portal.pagination import parse_page
from portal.security import InvalidToken, decrypt, encrypt

PER_PAGE = 20
# Signed-in customers only, but each submit is a row kept for years: cap the rate so a
# script (or a stuck key) cannot fill the staff queues.
SUBMIT_LIMIT = "30 per hour"


def _shape_errors(form) -> dict[str, object]:
    return {name: m.FORM_SHAPE for name in form.errors}


@bp.get("/account")
@login_required
def dashboard():
    return render_template("account/dashboard.html", summary=dashboard_summary(current_user))


@bp.get("/account/profile")
@login_required
@loads_customer
def profile():
    customer = signed_in_customer()
    facts = profile_facts(customer)
    return render_template(
        "account/profile.html",
        c=customer,
        facts=facts,
        field_labels=FIELD_LABELS,
        sources=field_sources(customer),
        payment_method=facts.payment_method,
    )


# A submit that arrives after the re-authentication window is not applied; what was typed
# waits here until the password has been given again, so nothing has to be typed twice. The
# cookie session is signed but readable by anyone holding the cookie, so the draft inside it
# is encrypted with the data key, bound to this customer and server-side session, used once,
# and dropped after DRAFT_MAX_AGE. Browsers ignore a cookie over 4 KB (and would keep the
# old one), so a draft whose token is longer than DRAFT_MAX_TOKEN is not kept: the session
# carries ~600 more bytes, and the longest VALID input (300 Korean characters of address,
# a 254-character email...) still fits; only absurd input is dropped, and it is never saved.
DRAFT_KEY = "profile_draft"
DRAFT_FIELDS = (
    "email",
    "phone",
    "postal_code",
    "address",
    "address_detail",
    "representative",
    "country",
    "username",
    "version",
)
DRAFT_MAX_AGE = timedelta(minutes=15)
DRAFT_MAX_TOKEN = 3000


def _keep_draft(customer, form) -> None:
    row = customer.current_session
    payload = {
        "customer": customer.id,
        "session": row.id if row is not None else None,
        "at": utcnow().isoformat(),
        "values": {name: (form.get(name) or "").strip() for name in DRAFT_FIELDS},
    }
    token = encrypt(json.dumps(payload, ensure_ascii=False)).decode("ascii")
    if len(token) > DRAFT_MAX_TOKEN:
        session.pop(DRAFT_KEY, None)
        return
    session[DRAFT_KEY] = token


def _take_draft(customer) -> dict[str, str] | None:
    token = session.pop(DRAFT_KEY, None)
    if not token:
        return None
    try:
        payload = json.loads(decrypt(token.encode("ascii")))
        row = customer.current_session
        if payload["customer"] != customer.id or row is None or payload["session"] != row.id:
            return None
        if utcnow() - datetime.fromisoformat(payload["at"]) > DRAFT_MAX_AGE:
            return None
        return {name: str(payload["values"].get(name, "")) for name in DRAFT_FIELDS}
    except (InvalidToken, ValueError, KeyError, TypeError, AttributeError):
        return None  # a draft written under an older key or format: start from the stored data


def _to_reauth(customer, *, typed=None):
    """Send the customer to /reauth and back to the form, keeping a late submit's values."""
    if typed is not None:
        _keep_draft(customer, typed)
        flash(m.PROFILE_NOT_SAVED_REAUTH, "info")
    else:
        flash(m.PROFILE_REAUTH, "info")
    return redirect(url_for("auth.reauth", next=url_for("account.edit_profile")))


def _optional(form, name: str) -> str | None:
    """A field the contract does not require: None when not posted (the stored value stays)."""
    return form[name].data or "" if name in request.form else None


@bp.route("/account/profile/edit", methods=["GET", "POST"])
@login_required
@loads_customer
def edit_profile():
    customer = signed_in_customer()
    # The whole page sits behind the re-authentication window (why: update_profile). Not the
    # reauth_required decorator: it would answer a late POST before the typed values could be
    # kept. The service checks again, so the rule holds whichever view calls it.
    try:
        ensure_recent_password(customer.current_session)
    except ReauthNeeded:
        return _to_reauth(customer, typed=request.form if request.method == "POST" else None)
    errors: dict[str, object] = {}
    status = 200
    values = {
        "email": customer.email,
        # As the customer writes it; parsed back to the same E.164, so unchanged is no change.
        "phone": display_phone(customer.phone, customer.member_type),
        "postal_code": customer.postal_code or "",
        "address": customer.address,
        "address_detail": customer.address_detail,
        "representative": customer.representative,
        "country": customer.country or "",
        "username": customer.username,
        "version": customer.version,
    }
    draft = _take_draft(customer) if request.method == "GET" else None
    if draft is not None:
        values.update(draft)
    if request.method == "POST":
        form = ProfileForm(request.form)
        # Only the form's own fields are read back: status, login_id, customer_id, name...
        # posted alongside never reach the service (no mass assignment).
        values.update({name: form[name].data or "" for name in values if name != "version"})
        if not form.validate():
            errors, status = _shape_errors(form), 400
            if "version" in errors:
                errors["version"] = m.VERSION_MISSING
        else:
            try:
                changed = update_profile(
                    customer,
                    session_row=customer.current_session,
                    version=int(form.version.data),
                    email=form.email.data,
                    phone=form.phone.data,
                    postal_code=form.postal_code.data,
                    address=form.address.data,
                    country=form.country.data,
                    username=form.username.data,
                    # Optional in the contract: a client that does not send it keeps it.
                    address_detail=_optional(form, "address_detail"),
                    representative=_optional(form, "representative"),
                )
            except ReauthNeeded:
                # The window closed between the check above and here (a few milliseconds).
                # The answer is a redirect, which the request would commit: drop anything
                # the service may have staged.
                db.session.rollback()
                return _to_reauth(customer, typed=request.form)
            except StaleProfile:
                # A concurrent edit that won between our read and our UPDATE leaves the
                # session's transaction failed (StaleDataError at flush): roll it back
                # before reading the stored values for the page, or that read raises and
                # the customer gets a 500 instead of the 409 (seen under bench/load.py).
                db.session.rollback()
                return render_error(
                    409,
                    str(m.PROFILE_STALE),
                    current=current_profile_values(customer.id),
                    back_url=url_for("account.edit_profile"),
                )
            except ValidationFailed as exc:
                errors, status = exc.errors, 400
            else:
                flash(m.PROFILE_SAVED if changed else m.PROFILE_UNCHANGED, "success")
                return redirect(url_for("account.profile"))
    return (
        render_template(
            "account/edit_profile.html",
            c=customer,
            values=values,
            errors=errors,
            draft_restored=draft is not None,
            country_options=country_options(str(get_locale() or "ko")),
        ),
        status,
    )


def _correction_options(customer) -> list[tuple[str, str]]:
    """(field, label) of the correction form's choices; a field not given yet says so."""
    options = []
    for name in applicable_fields(customer):
        label = str(FIELD_LABELS[name])
        if getattr(customer, name) is None:
            label = f"{label} ({m.NOT_REGISTERED})"
        options.append((name, label))
    return options


@bp.route("/account/corrections", methods=["GET", "POST"])
@limiter.limit(SUBMIT_LIMIT, methods=["POST"])
@login_required
@loads_customer
def corrections():
    customer = signed_in_customer()
    errors: dict[str, object] = {}
    status = 200
    values = {"field": "", "value": "", "reason": ""}
    if request.method == "POST":
        form = CorrectionForm(request.form)
        values.update({name: form[name].data or "" for name in values})
        if not form.validate():
            errors, status = _shape_errors(form), 400
        else:
            try:
                request_correction(
                    customer,
                    field=form.field.data,
                    value=form.value.data,
                    reason=form.reason.data,
                )
            except ValidationFailed as exc:
                errors, status = exc.errors, 400
            except CorrectionAlreadyOpen:
                errors, status = {"field": m.CORRECTION_ALREADY_OPEN}, 409
            else:
                flash(m.CORRECTION_SUBMITTED, "success")
                return redirect(url_for("account.corrections"))
    return (
        render_template(
            "account/corrections.html",
            field_options=_correction_options(customer),
            field_labels=FIELD_LABELS,
            requests=corrections_of(customer.id),
            values=values,
            errors=errors,
        ),
        status,
    )


@bp.get("/account/export")
@login_required
def export_page():
    """Where re-authentication returns for the data download: a POST cannot be replayed
    after the detour, so this page holds the download button, one click from the file."""
    return render_template("account/export_page.html")


@bp.post("/account/export")
@reauth_required(return_to="/account/export")
@loads_customer
def export():
    customer = signed_in_customer()
    data = export_customer_data(customer)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    filename = f"anytrack-my-data-{kst_today():%Y%m%d}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/account/data")
@reauth_required
@loads_customer
def view_data():
    """열람: everything held, as a printable Korean page, from the download's own collection."""
    data = view_customer_data(signed_in_customer())
    return render_template(
        "account/view_data.html",
        sections=readable_sections(data),
        generated_at=data["generated_at"],
    )


@bp.get("/account/disclosures")
@login_required
def disclosures():
    page = disclosures_of(
        current_user.id, page=parse_page(request.args.get("page")), per_page=PER_PAGE
    )
    return render_template("account/disclosures.html", page=page, item_label=item_label)


@bp.route("/account/inquiries", methods=["GET", "POST"])
@limiter.limit(SUBMIT_LIMIT, methods=["POST"])
@login_required
@loads_customer
def inquiries():
    customer = signed_in_customer()
    errors: dict[str, object] = {}
    status = 200
    values = {"subject": "", "body": ""}
    if request.method == "POST":
        form = InquiryForm(request.form)
        values.update({name: form[name].data or "" for name in values})
        if not form.validate():
            errors, status = _shape_errors(form), 400
        else:
            try:
                row = submit_inquiry(customer, subject=form.subject.data, body=form.body.data)
            except ValidationFailed as exc:
                errors, status = exc.errors, 400
            else:
                flash(m.INQUIRY_SUBMITTED, "success")
                return redirect(url_for("account.inquiry", inquiry_id=row.id))
    page = inquiries_of(customer.id, page=parse_page(request.args.get("page")), per_page=PER_PAGE)
    return (
        render_template(
            "account/inquiries.html",
            page=page,
            values=values,
            errors=errors,
        ),
        status,
    )


@bp.get("/account/inquiries/<int:inquiry_id>")
@login_required
def inquiry(inquiry_id: int):
    row = inquiry_of(current_user.id, inquiry_id)
    if row is None:
        abort(404)
    return render_template("account/inquiry.html", row=row)
