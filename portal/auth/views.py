"""Sign-in views: parse, call one service, commit, flash, redirect."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from portal.account import messages as am
from portal.audit.services import events_of
from portal.auth import bp, otp
from portal.auth import messages as m
from portal.auth import services as auth
from portal.auth.errors import (
    AccountLocked,
    ActivationRequired,
    CardExhausted,
    CardLocked,
    CardMissing,
    InvalidCredentials,
    OtpLocked,
    OtpNotEnrolled,
    OtpReplay,
    PasswordRejected,
    PendingLoginExpired,
    ReauthFailed,
    SecondFactorError,
    StaleChallenge,
    WrongCardCode,
    WrongOtp,
    WrongRecoveryCode,
)
from portal.auth.forms import (
    CardForm,
    ChangePasswordForm,
    LoginForm,
    NewPasswordForm,
    OtpForm,
    ReauthForm,
    RecoveryForm,
)
from portal.auth.sessions import sessions_of
from portal.extensions import db, limiter, login_manager
from portal.security import reauth_required, safe_next_url

PENDING_KEY = "pending_login"
NEXT_KEY = "login_next"


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


@bp.before_app_request
def load_current_user() -> None:
    # Load (and touch) the server-side session before the view runs, so the loader's own
    # commit never carries a half-done change of the view.
    if request.endpoint and request.endpoint != "static":
        _ = current_user.is_authenticated


@login_manager.unauthorized_handler
def unauthorized():
    flash(m.SESSION_EXPIRED if g.get("session_expired") else m.LOGIN_FIRST, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _pending():
    try:
        return auth.pending_login(session.get(PENDING_KEY))
    except PendingLoginExpired:
        db.session.commit()  # an expired row was removed
        return None


def _finish_login(token: str, customer):
    """Swap in a brand-new cookie session (no fixation) and sign the customer in."""
    next_url = safe_next_url(session.get(NEXT_KEY), default=url_for("account.dashboard"))
    session.clear()
    customer.session_token = token
    login_user(customer)
    return redirect(next_url)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("account.dashboard"))
    form = LoginForm(request.form)
    error = None
    status = 200
    if request.method == "POST":
        if not form.validate():
            error = m.BAD_CREDENTIALS if form.login_id.data else am.REQUIRED
            status = 400 if not (form.login_id.data and form.password.data) else 200
        else:
            try:
                step = auth.begin_login(login_id=form.login_id.data, password=form.password.data)
            except InvalidCredentials:
                db.session.commit()  # failure counters and the event
                error = m.BAD_CREDENTIALS
            except AccountLocked as exc:
                db.session.commit()
                error = m.ACCOUNT_LOCKED % {"minutes": _minutes(exc.seconds_left)}
            else:
                db.session.commit()
                next_url = request.args.get("next") or request.form.get("next")
                session[PENDING_KEY] = step.token
                session[NEXT_KEY] = safe_next_url(next_url, default=url_for("account.dashboard"))
                if step.must_activate:
                    flash(m.ACTIVATE_FIRST, "info")
                    return redirect(url_for("auth.activate"))
                return redirect(url_for("auth.verify"))
    return (
        render_template(
            "auth/login.html",
            form=form,
            error=error,
            next_url=safe_next_url(request.args.get("next"), default=""),
        ),
        status,
    )


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def verify():
    pending = _pending()
    if pending is None:
        flash(m.STEP2_EXPIRED, "error")
        return redirect(url_for("auth.login"))
    if auth.needs_activation(pending):
        return redirect(url_for("auth.activate"))
    methods = auth.available_methods(pending.customer)
    method = pending.method if pending.method in methods else (methods[0] if methods else None)
    error = None
    status = 200
    if request.method == "POST" and method is not None:
        form = CardForm(request.form) if method == "card" else OtpForm(request.form)
        if not form.validate():
            error, status = form.format_message, 400
        else:
            try:
                if method == "card":
                    token = auth.verify_card(
                        pending,
                        code_first=form.code_first.data,
                        code_last=form.code_last.data,
                        shown=form.shown(),
                    )
                else:
                    token = auth.verify_otp(pending, code=form.otp.data)
            except WrongCardCode as exc:
                error = m.CARD_WRONG % {
                    "count": exc.failures,
                    "limit": current_app.config["PORTAL_CARD_MAX_FAILURES"],
                }
            except WrongOtp as exc:
                error = m.OTP_WRONG % {
                    "count": exc.failures,
                    "limit": current_app.config["PORTAL_OTP_MAX_FAILURES"],
                }
            except OtpReplay:
                error = m.OTP_REPLAY
            except StaleChallenge:
                error = m.CARD_STALE
            except (CardLocked, OtpLocked, CardMissing, CardExhausted, OtpNotEnrolled) as exc:
                error = _factor_message(exc)
            except ActivationRequired:
                return redirect(url_for("auth.activate"))
            except PendingLoginExpired:
                # A parallel request (a double click) completed this sign-in first.
                db.session.commit()
                flash(m.STEP2_EXPIRED, "error")
                return redirect(url_for("auth.login"))
            else:
                customer = pending.customer
                db.session.commit()
                flash(m.SIGNED_IN, "success")
                return _finish_login(token, customer)
            db.session.commit()  # counters, locks and events of the failure
            status = 200
            # Read again: a parallel request (another tab, a double click) may have
            # completed this sign-in meanwhile, consuming the pending login.
            pending = _pending()
            if pending is None:
                flash(m.STEP2_EXPIRED, "error")
                return redirect(url_for("auth.login"))
    challenge = None
    if method == "card":
        try:
            challenge = auth.card_challenge(pending)
        except (CardLocked, CardMissing, CardExhausted) as exc:
            error = error or _factor_message(exc)
        db.session.commit()  # the drawn challenge is pinned server-side
    elif method == "otp":
        seconds = otp.lock_seconds_left(otp.otp_credential(pending.customer_id))
        if seconds:
            error = error or m.OTP_LOCKED % {"minutes": _minutes(seconds)}
    if method is None:
        error = error or m.CARD_MISSING
    return (
        render_template(
            "auth/verify.html",
            method=method,
            methods=methods,
            challenge=challenge,
            error=error,
        ),
        status,
    )


def _factor_message(exc: SecondFactorError):
    if isinstance(exc, CardLocked):
        return m.CARD_LOCKED
    if isinstance(exc, OtpLocked):
        return m.OTP_LOCKED % {"minutes": _minutes(exc.seconds_left)}
    if isinstance(exc, CardExhausted):
        return m.CARD_EXHAUSTED
    if isinstance(exc, OtpNotEnrolled):
        return m.OTP_NOT_ENROLLED
    return m.CARD_MISSING


@bp.post("/login/verify/method")
def verify_method():
    pending = _pending()
    if pending is None:
        flash(m.STEP2_EXPIRED, "error")
        return redirect(url_for("auth.login"))
    try:
        auth.switch_method(pending, request.form.get("method", ""))
    except SecondFactorError:
        flash(m.METHOD_UNAVAILABLE, "error")
    else:
        db.session.commit()
    return redirect(url_for("auth.verify"))


@bp.route("/login/recovery", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def recovery():
    pending = _pending()
    if pending is None:
        flash(m.STEP2_EXPIRED, "error")
        return redirect(url_for("auth.login"))
    if auth.needs_activation(pending):
        return redirect(url_for("auth.activate"))
    error = None
    status = 200
    if request.method == "POST":
        form = RecoveryForm(request.form)
        if not form.validate():
            error, status = m.RECOVERY_WRONG, 400
        else:
            try:
                token, left = auth.use_recovery_code(pending, code=form.recovery_code.data)
            except WrongRecoveryCode:
                db.session.commit()
                error = m.RECOVERY_WRONG
            except OtpLocked as exc:
                db.session.commit()
                error = _factor_message(exc)
            except PendingLoginExpired:
                db.session.commit()
                flash(m.STEP2_EXPIRED, "error")
                return redirect(url_for("auth.login"))
            else:
                customer = pending.customer
                db.session.commit()
                flash(m.RECOVERY_USED % {"count": left}, "warning")
                return _finish_login(token, customer)
    return render_template("auth/recovery.html", error=error), status


@bp.route("/login/activate", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def activate():
    pending = _pending()
    if pending is None:
        flash(m.STEP2_EXPIRED, "error")
        return redirect(url_for("auth.login"))
    if not auth.needs_activation(pending):
        return redirect(url_for("auth.verify"))
    errors: list = []
    status = 200
    if request.method == "POST":
        form = NewPasswordForm(request.form)
        if not form.validate():
            errors, status = [am.REQUIRED], 400
        else:
            try:
                auth.activate(
                    pending,
                    password=form.password.data,
                    password_confirm=form.password_confirm.data,
                )
            except PasswordRejected as exc:
                db.session.commit()  # the rejection counts toward this sign-in's limit
                errors = exc.problems
            except PendingLoginExpired:
                db.session.commit()
                session.pop(PENDING_KEY, None)
                flash(m.STEP2_TOO_MANY, "error")
                return redirect(url_for("auth.login"))
            else:
                db.session.commit()
                flash(m.ACTIVATE_CONFIRM_FACTOR, "info")
                return redirect(url_for("auth.verify"))
    return (
        render_template("auth/activate.html", errors=errors, login_id=pending.customer.login_id),
        status,
    )


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        auth.logout(current_user.current_session, current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash(m.SIGNED_OUT, "success")
    return redirect(url_for("main.home"))


def _carry_rotated_token() -> None:
    """The service gave this session a new token: put it in this browser's cookie."""
    login_user(current_user._get_current_object())


def _locked_out():
    """Too many wrong passwords from a signed-in session: the account is locked and every
    session (this one too) has been ended."""
    logout_user()
    session.clear()
    minutes = _minutes(current_app.config["PORTAL_LOCKOUT_SECONDS"])
    flash(m.ACCOUNT_LOCKED % {"minutes": minutes}, "error")
    return redirect(url_for("auth.login"))


@bp.route("/reauth", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@login_required
def reauth():
    next_url = safe_next_url(request.values.get("next"), default=url_for("account.dashboard"))
    error = None
    status = 200
    if request.method == "POST":
        form = ReauthForm(request.form)
        if not form.validate():
            error, status = am.REQUIRED, 400
        else:
            try:
                auth.reauthenticate(
                    current_user, current_user.current_session, password=form.password.data
                )
            except ReauthFailed as exc:
                db.session.commit()
                if exc.signed_out:
                    return _locked_out()
                error = m.REAUTH_WRONG
            else:
                db.session.commit()
                _carry_rotated_token()
                return redirect(next_url)
    return render_template("auth/reauth.html", error=error, next_url=next_url), status


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@reauth_required
def change_password():
    errors: list = []
    status = 200
    if request.method == "POST":
        form = ChangePasswordForm(request.form)
        if not form.validate():
            errors, status = [am.REQUIRED], 400
        else:
            try:
                auth.change_password(
                    current_user,
                    current_user.current_session,
                    current_password=form.current_password.data,
                    new_password=form.new_password.data,
                    new_password_confirm=form.new_password_confirm.data,
                )
            except ReauthFailed as exc:
                db.session.commit()
                if exc.signed_out:
                    return _locked_out()
                errors = [m.CURRENT_PASSWORD_WRONG]
            except PasswordRejected as exc:
                errors = exc.problems
            else:
                db.session.commit()
                _carry_rotated_token()
                flash(m.PASSWORD_CHANGED, "success")
                return redirect(url_for("auth.security"))
    return render_template("auth/change_password.html", errors=errors), status


@bp.get("/account/security")
@login_required
def security():
    customer = current_user
    credential = otp.otp_credential(customer.id)
    return render_template(
        "auth/security.html",
        methods=auth.available_methods(customer),
        card=auth.cards.active_card(customer.id),
        otp_credential=credential,
        recovery_left=otp.remaining_recovery_codes(customer.id),
        sessions=sessions_of(customer.id),
        current_session_id=customer.current_session.id if customer.current_session else None,
    )


@bp.post("/account/security/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    if not auth.end_session_of(current_user, session_id):
        abort(404)
    db.session.commit()
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
def enrol_otp():
    customer = current_user
    error = None
    status = 200
    recovery_codes = None
    if request.method == "POST":
        form = OtpForm(request.form)
        if not form.validate():
            error, status = m.OTP_FORMAT, 400
        else:
            try:
                recovery_codes = auth.confirm_otp_enrolment(customer, code=form.otp.data)
            except OtpNotEnrolled:
                error = m.OTP_NOT_ENROLLED
            except WrongOtp as exc:
                error = m.OTP_WRONG % {
                    "count": exc.failures,
                    "limit": current_app.config["PORTAL_OTP_MAX_FAILURES"],
                }
            except OtpLocked as exc:
                error = m.OTP_LOCKED % {"minutes": _minutes(exc.seconds_left)}
            db.session.commit()
            if recovery_codes is not None:
                flash(m.OTP_ENROLLED, "success")
                # Shown once, on this response only; never stored in the session cookie.
                return render_template("auth/recovery_codes.html", codes=recovery_codes)
    secret = otp.pending_secret(customer.id)
    if secret is None:
        secret = auth.start_otp_enrolment(customer)
        db.session.commit()
    uri = otp.provisioning_uri(secret, customer.login_id)
    return (
        render_template("auth/enrol_otp.html", secret=secret, qr_svg=otp.qr_svg(uri), error=error),
        status,
    )


@bp.post("/account/security/recovery-codes")
@reauth_required(return_to="/account/security")
def regenerate_recovery_codes():
    if not otp.has_otp(current_user.id):
        flash(m.OTP_NOT_ENROLLED, "error")
        return redirect(url_for("auth.security"))
    codes = auth.regenerate_recovery_codes(current_user)
    db.session.commit()
    flash(m.RECOVERY_REGENERATED, "success")
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.get("/account/history")
@login_required
def history():
    page = request.args.get("page", 1, type=int) or 1
    page = min(max(page, 1), 10_000)
    return render_template(
        "auth/history.html", events=events_of(current_user.id, page=page), page=page
    )
