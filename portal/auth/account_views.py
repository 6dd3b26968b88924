"""The signed-in customer's own security pages: re-authentication, password change, second
factors, sessions and the sign-in history (/reauth, /account/password, /account/security…,
/account/history). The sign-in flow itself is in portal.auth.views."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from portal.audit.services import events_of
from portal.auth import bp
from portal.auth import messages as m
from portal.auth import services as auth
from portal.auth.errors import (
    AccountLocked,
    OtpNotEnrolled,
    PasswordRejected,
    ReauthFailed,
    SecondFactorError,
)
from portal.auth.forms import ChangePasswordForm, OtpForm, ReauthForm
from portal.auth.guards import reauth_required
from portal.auth.sessions import loads_customer, signed_in_customer, touch_session
from portal.auth.views import joined, login_limit
from portal.customers import messages as cm
from portal.extensions import limiter
from portal.pagination import parse_page
from portal.security import safe_next_url


def _carry_rotated_token() -> None:
    """The service gave this session a new token: put it in this browser's cookie."""
    login_user(signed_in_customer())


def _locked_out():
    """Too many wrong passwords from a signed-in session: the account is locked and every
    session (this one too) has been ended."""
    logout_user()
    session.clear()
    flash(m.message_for(AccountLocked(current_app.config["PORTAL_LOCKOUT_SECONDS"])), "error")
    return redirect(url_for("auth.login"))


@bp.route("/reauth", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@login_required
@loads_customer
def reauth():
    next_url = safe_next_url(request.values.get("next"), default=url_for("account.dashboard"))
    error = None
    status = 200
    if request.method == "POST":
        form = ReauthForm(request.form)
        if not form.validate():
            error, status = joined(m.missing_fields(form)) or cm.REQUIRED, 400
        else:
            try:
                customer = signed_in_customer()
                auth.reauthenticate(customer, customer.current_session, password=form.password.data)
            except ReauthFailed as exc:
                if exc.signed_out:
                    return _locked_out()
                error = m.message_for(exc)
            else:
                _carry_rotated_token()
                return redirect(next_url)
    return render_template("auth/reauth.html", error=error, next_url=next_url), status


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@reauth_required
@loads_customer
def change_password():
    errors: list = []
    status = 200
    if request.method == "POST":
        form = ChangePasswordForm(request.form)
        if not form.validate():
            errors, status = m.missing_fields(form) or [cm.REQUIRED], 400
        else:
            try:
                customer = signed_in_customer()
                auth.change_password(
                    customer,
                    customer.current_session,
                    current_password=form.current_password.data,
                    new_password=form.new_password.data,
                    new_password_confirm=form.new_password_confirm.data,
                )
            except ReauthFailed as exc:
                if exc.signed_out:
                    return _locked_out()
                errors = [m.message_for(exc)]
            except PasswordRejected as exc:
                errors = exc.problems
            else:
                _carry_rotated_token()
                flash(m.PASSWORD_CHANGED, "success")
                return redirect(url_for("auth.security"))
    return (
        render_template(
            "auth/change_password.html", errors=errors, password_rules=m.PASSWORD_RULES
        ),
        status,
    )


@bp.get("/account/security")
@login_required
def security():
    # Ids only: the light signed-in user has both, so no ORM row is loaded for this page.
    overview = auth.security_overview(current_user.id, current_user.session_id)
    return render_template("auth/security.html", **vars(overview))


@bp.post("/account/session/extend")
@login_required
@loads_customer
def extend_session():
    """The idle warning's "연장": the script asks for JSON; a plain form post (the button
    pressed before the script could send it) goes back to the page it came from."""
    seconds = touch_session(signed_in_customer().current_session)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(remaining=seconds)
    return redirect(safe_next_url(request.form.get("next"), default=url_for("account.dashboard")))


@bp.post("/account/security/sessions/<int:session_id>/end")
@login_required
@loads_customer
def end_session(session_id: int):
    if not auth.end_session_of(signed_in_customer(), session_id):
        abort(404)
    current = current_user.current_session
    if current is not None and current.id == session_id:
        logout_user()
        session.clear()
        flash(m.SIGNED_OUT, "success")
        return redirect(url_for("main.home"))
    flash(m.SESSION_ENDED, "success")
    return redirect(url_for("auth.security"))


@bp.route("/account/security/otp", methods=["GET", "POST"])
@reauth_required(return_to="/account/security/otp")
@loads_customer
def enrol_otp():
    error = None
    status = 200
    if request.method == "POST":
        form = OtpForm(request.form)
        if not form.validate():
            error, status = m.OTP_FORMAT, 400
        else:
            try:
                codes = auth.confirm_otp_enrolment(signed_in_customer(), code=form.otp.data)
            except SecondFactorError as exc:
                error = m.message_for(exc)
            else:
                flash(m.OTP_ENROLLED, "success")
                # Shown once, on this response only; never stored in the session cookie.
                return render_template("auth/recovery_codes.html", codes=codes)
    enrolment = auth.otp_enrolment(signed_in_customer())
    return (
        render_template("auth/enrol_otp.html", enrolment=enrolment, error=error),
        status,
    )


@bp.post("/account/security/recovery-codes")
@reauth_required(return_to="/account/security")
@loads_customer
def regenerate_recovery_codes():
    try:
        codes = auth.regenerate_recovery_codes(signed_in_customer())
    except OtpNotEnrolled as exc:
        flash(m.message_for(exc), "error")
        return redirect(url_for("auth.security"))
    flash(m.RECOVERY_REGENERATED, "success")
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.get("/account/history")
@login_required
def history():
    page = events_of(current_user.id, page=parse_page(request.args.get("page")))
    return render_template("auth/history.html", page=page)
