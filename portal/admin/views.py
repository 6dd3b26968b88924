"""Back-office sign-in, the home page, the password change and re-authentication."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from portal.admin import bp, signin
from portal.admin import messages as m
from portal.admin.permissions import public, requires
from portal.auth import messages as am
from portal.auth.errors import (
    AccountLocked,
    InvalidCredentials,
    PasswordRejected,
    PendingLoginExpired,
    ReauthFailed,
    SecondFactorError,
    TemporaryPasswordExpired,
)
from portal.auth.forms import ChangePasswordForm, LoginForm, OtpForm, ReauthForm
from portal.customers import messages as cm
from portal.extensions import limiter
from portal.security import safe_next_url

PENDING_KEY = "staff_pending_login"


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _set_cookie(response, token: str):
    cfg = current_app.config
    response.set_cookie(
        cfg["PORTAL_STAFF_COOKIE_NAME"],
        token,
        httponly=True,
        secure=cfg["SESSION_COOKIE_SECURE"],
        # Staff never arrive from another site's link with a reason to be signed in.
        samesite="Strict",
        path="/",
    )
    return response


def _clear_cookie(response):
    cfg = current_app.config
    response.delete_cookie(
        cfg["PORTAL_STAFF_COOKIE_NAME"],
        path="/",
        secure=cfg["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    if g.staff is not None:
        return redirect(url_for("admin.index"))
    form = LoginForm(request.form)
    error = None
    status = 200
    if request.method == "POST":
        if not form.validate():
            error = am.BAD_CREDENTIALS if form.login_id.data else cm.REQUIRED
            status = 400 if not (form.login_id.data and form.password.data) else 200
        else:
            try:
                token = signin.begin_login(login_id=form.login_id.data, password=form.password.data)
            except (InvalidCredentials, AccountLocked) as exc:
                error = am.message_for(exc)
            except TemporaryPasswordExpired:
                error = m.TEMPORARY_PASSWORD_EXPIRED
            else:
                session[PENDING_KEY] = token
                return redirect(url_for("admin.verify"))
    return render_template("admin/login.html", form=form, error=error), status


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def verify():
    try:
        pending = signin.pending_login(session.get(PENDING_KEY))
    except PendingLoginExpired as exc:
        session.pop(PENDING_KEY, None)
        flash(am.message_for(exc), "error")
        return redirect(url_for("admin.login"))
    error = None
    status = 200
    if request.method == "POST":
        form = OtpForm(request.form)
        if not form.validate():
            error, status = m.OTP_FORMAT, 400
        else:
            try:
                token = signin.verify_otp(pending, code=form.otp.data)
            except PendingLoginExpired as exc:
                session.pop(PENDING_KEY, None)
                flash(am.message_for(exc), "error")
                return redirect(url_for("admin.login"))
            except SecondFactorError as exc:
                error = am.message_for(exc)
            else:
                # A fresh cookie session as well (no fixation of the CSRF/flash cookie).
                session.clear()
                flash(m.SIGNED_IN, "success")
                return _set_cookie(redirect(url_for("admin.index")), token)
    return render_template("admin/verify.html", error=error), status


@bp.post("/logout")
@requires("self")
def logout():
    signin.end_session(g.staff_session)
    session.clear()
    flash(m.SIGNED_OUT, "success")
    return _clear_cookie(redirect(url_for("admin.login")))


@bp.get("/")
@requires("home")
def index():
    return render_template("admin/index.html")


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@requires("self")
def change_password():
    errors: list = []
    status = 200
    if request.method == "POST":
        form = ChangePasswordForm(request.form)
        if not form.validate():
            errors, status = [cm.REQUIRED], 400
        else:
            try:
                signin.change_password(
                    g.staff_session,
                    current=form.current_password.data,
                    new=form.new_password.data,
                    confirm=form.new_password_confirm.data,
                )
            except ReauthFailed as exc:
                if exc.signed_out:
                    return _locked_out()
                errors = [am.message_for(exc)]
            except PasswordRejected as exc:
                errors = list(exc.problems)
            else:
                flash(m.PASSWORD_CHANGED, "success")
                return redirect(url_for("admin.index"))
    return (
        render_template(
            "admin/password.html",
            errors=errors,
            expired=signin.password_expired(g.staff),
            rules=am.PASSWORD_RULES,
        ),
        status,
    )


def _locked_out():
    session.clear()
    flash(am.message_for(AccountLocked(current_app.config["PORTAL_LOCKOUT_SECONDS"])), "error")
    return _clear_cookie(redirect(url_for("admin.login")))


@bp.route("/reauth", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@requires("self")
def reauth():
    next_url = safe_next_url(request.values.get("next"), default=url_for("admin.index"))
    if not next_url.startswith("/admin"):
        next_url = url_for("admin.index")
    error = None
    status = 200
    if request.method == "POST":
        form = ReauthForm(request.form)
        if not form.validate():
            error, status = cm.REQUIRED, 400
        else:
            try:
                signin.reauthenticate(g.staff_session, form.password.data)
            except ReauthFailed as exc:
                if exc.signed_out:
                    return _locked_out()
                error = am.message_for(exc)
            else:
                flash(m.REAUTH_DONE, "success")
                return redirect(next_url)
    return render_template("admin/reauth.html", error=error, next_url=next_url), status
