"""Sign-in views: parse, call one service, commit, flash, redirect."""

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
from flask_babel import get_locale
from flask_login import current_user, login_user, logout_user

from portal import pagecache
from portal.auth import bp, reset, signin
from portal.auth import messages as m
from portal.auth import services as auth
from portal.auth.errors import (
    AccountLocked,
    ActivationRequired,
    AuthError,
    CardLocked,
    EmailMalformed,
    InvalidCredentials,
    PasswordRejected,
    PendingLoginExpired,
    ResetLinkInvalid,
    SecondFactorError,
    TemporaryPasswordExpired,
)
from portal.auth.forms import (
    CardForm,
    ForgotIdForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    OtpForm,
    RecoveryForm,
)
from portal.auth.sessions import NotSignedIn, loads_customer
from portal.customers import messages as cm
from portal.extensions import limiter, login_manager
from portal.security import keyed_hash, safe_next_url

PENDING_KEY = "pending_login"
NEXT_KEY = "login_next"
# The reset link's token, moved from the address bar into the signed session cookie at once,
# so that it is not left in the history, in a Referer, or in the access logs of later pages.
RESET_KEY = "password_reset"


@bp.app_errorhandler(NotSignedIn)
def session_ended_meanwhile(_exc: NotSignedIn):
    """The session was ended while this request ran (a sign-out or password change in
    another tab): as for an expired session, sign in again."""
    logout_user()
    return login_manager.unauthorized()


def login_limit() -> str:
    """The sign-in forms' per-address limit (RATELIMIT_LOGIN); re-authentication too."""
    return current_app.config["RATELIMIT_LOGIN"]


def _forgot_account_limit() -> str:
    return current_app.config["RATELIMIT_FORGOT_ACCOUNT"]


def _forgot_account_key() -> str:
    """The per-account rate-limit key: the login ID or address typed (normalised, hashed),
    counted alike whether or not an account has it, so the limit itself tells nothing."""
    typed = (request.form.get("login_id") or request.form.get("email") or "").strip().lower()
    return "forgot:" + keyed_hash(typed)[:32]


def joined(messages: list) -> str:
    """Several field messages as one sentence for a form's single error line."""
    return " ".join(str(message) for message in messages)


@login_manager.unauthorized_handler
def unauthorized():
    flash(m.SESSION_EXPIRED if g.get("session_expired") else m.LOGIN_FIRST, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _pending():
    """This browser's pending login, or None (expired, abandoned or completed)."""
    try:
        return signin.pending_login(session.get(PENDING_KEY))
    except PendingLoginExpired:
        return None


def _back_to_login(exc: PendingLoginExpired | None = None):
    session.pop(PENDING_KEY, None)
    flash(m.message_for(exc or PendingLoginExpired()), "error")
    return redirect(url_for("auth.login"))


def _finish_login(token: str, customer, message, category: str = "success"):
    """Swap in a brand-new cookie session (no fixation) and sign the customer in; the
    message is flashed into the new session (one flashed before the clear would vanish)."""
    next_url = safe_next_url(session.get(NEXT_KEY), default=url_for("account.dashboard"))
    session.clear()
    customer.session_token = token
    login_user(customer)
    flash(message, category)
    return redirect(next_url)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("account.dashboard"))
    form = LoginForm(request.form)
    error = None
    status = 200
    if request.method == "POST":
        if not form.validate():
            missing = m.missing_fields(form)
            # An empty field is named; anything else refused in shape (an over-long ID)
            # gets the usual answer, which tells nothing about the account.
            error = joined(missing) if missing else m.BAD_CREDENTIALS
            status = 400 if missing else 200
        else:
            try:
                step = signin.begin_login(login_id=form.login_id.data, password=form.password.data)
            except (InvalidCredentials, AccountLocked, TemporaryPasswordExpired) as exc:
                error = m.message_for(exc)
            else:
                next_url = request.args.get("next") or request.form.get("next")
                session[PENDING_KEY] = step.token
                session[NEXT_KEY] = safe_next_url(next_url, default=url_for("account.dashboard"))
                if step.must_activate:
                    flash(m.ACTIVATE_FIRST, "info")
                    return redirect(url_for("auth.activate"))
                return redirect(url_for("auth.verify"))
    page = pagecache.render_cached(
        (request.full_path, str(get_locale() or "ko")),
        lambda: render_template(
            "auth/login.html",
            form=form,
            error=error,
            # None leaves ?next= out of the form's address.
            next_url=safe_next_url(request.args.get("next"), default="") or None,
        ),
        # Only the empty form is shared (with each visitor's own CSRF token put back in).
        cache=request.method == "GET" and pagecache.is_anonymous_view(),
    )
    return page, status


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def verify():
    pending = _pending()
    if pending is None:
        return _back_to_login()
    if signin.needs_activation(pending):
        return redirect(url_for("auth.activate"))
    state = signin.step_two(pending)
    error = None
    status = 200
    if request.method == "POST" and state.method is not None:
        form = CardForm(request.form) if state.method == "card" else OtpForm(request.form)
        if not form.validate():
            error, status = form.format_message, 400
        else:
            try:
                token = signin.answer_step_two(pending, method=state.method, **form.answer())
            except ActivationRequired:
                return redirect(url_for("auth.activate"))
            except PendingLoginExpired as exc:
                # A parallel request (a double click) completed this sign-in first.
                return _back_to_login(exc)
            except SecondFactorError as exc:
                state = signin.step_two(pending)
                error = _step_two_message(exc, state)
            else:
                return _finish_login(token, pending.customer, m.SIGNED_IN)
    if error is None and state.problem is not None:
        error = _step_two_message(state.problem, state)
    return (
        render_template(
            "auth/verify.html",
            method=state.method,
            challenge=state.challenge,
            switch_to=state.switch_to,
            recovery_offered=state.recovery_offered,
            stuck=state.stuck,
            minutes=signin.step_two_minutes(),
            error=error,
        ),
        status,
    )


def _step_two_message(exc: SecondFactorError, state: signin.StepTwo):
    """A locked card with nothing else to offer must not suggest "another method"."""
    if isinstance(exc, CardLocked) and state.stuck:
        return m.CARD_LOCKED_ONLY
    return m.message_for(exc)


@bp.post("/login/verify/method")
def verify_method():
    pending = _pending()
    if pending is None:
        return _back_to_login()
    try:
        signin.switch_method(pending, request.form.get("method", ""))
    except SecondFactorError as exc:
        flash(m.message_for(exc), "error")
    return redirect(url_for("auth.verify"))


@bp.route("/login/recovery", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def recovery():
    pending = _pending()
    if pending is None:
        return _back_to_login()
    if signin.needs_activation(pending):
        return redirect(url_for("auth.activate"))
    error = None
    status = 200
    if request.method == "POST":
        form = RecoveryForm(request.form)
        if not form.validate():
            error, status = joined(m.missing_fields(form)) or m.RECOVERY_WRONG, 400
        else:
            try:
                token, left = signin.use_recovery_code(pending, code=form.recovery_code.data)
            except PendingLoginExpired as exc:
                return _back_to_login(exc)
            except AuthError as exc:
                error = m.message_for(exc)
            else:
                message = m.RECOVERY_USED % {"count": left}
                return _finish_login(token, pending.customer, message, "warning")
    return render_template("auth/recovery.html", error=error), status


@bp.route("/login/activate", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def activate():
    pending = _pending()
    if pending is None:
        return _back_to_login()
    if not signin.needs_activation(pending):
        return redirect(url_for("auth.verify"))
    errors: list = []
    status = 200
    if request.method == "POST":
        form = NewPasswordForm(request.form)
        if not form.validate():
            errors, status = m.missing_fields(form) or [cm.REQUIRED], 400
        else:
            try:
                signin.activate(
                    pending,
                    password=form.password.data,
                    password_confirm=form.password_confirm.data,
                )
            except PasswordRejected as exc:
                errors = exc.problems
            except PendingLoginExpired as exc:
                return _back_to_login(exc)
            else:
                flash(m.ACTIVATE_CONFIRM_FACTOR, "info")
                return redirect(url_for("auth.verify"))
    return (
        render_template(
            "auth/activate.html",
            errors=errors,
            login_id=pending.customer.login_id,
            password_rules=m.PASSWORD_RULES,
        ),
        status,
    )


@bp.route("/login/forgot-password", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@limiter.limit(_forgot_account_limit, key_func=_forgot_account_key, methods=["POST"])
def forgot_password():
    """The same page, status and cookies whether or not the account exists (and the same
    work: see portal.auth.reset)."""
    error = sent = None
    status = 200
    if request.method == "POST":
        form = ForgotPasswordForm(request.form)
        if not form.validate():
            error, status = m.FORGOT_PASSWORD_REQUIRED, 400
        else:
            reset.request_reset(identifier=form.login_id.data)
            sent = m.FORGOT_PASSWORD_SENT % {"minutes": reset.reset_minutes()}
    return render_template("auth/forgot_password.html", error=error, sent=sent), status


@bp.route("/login/forgot-id", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@limiter.limit(_forgot_account_limit, key_func=_forgot_account_key, methods=["POST"])
def forgot_id():
    """The login ID goes only to the address typed; the page never shows it."""
    error = sent = None
    status = 200
    email = ""
    if request.method == "POST":
        form = ForgotIdForm(request.form)
        email = form.email.data or ""
        if not form.validate():
            error, status = m.EMAIL_REQUIRED, 400
        else:
            try:
                reset.send_login_ids(email=email)
            except EmailMalformed as exc:
                error, status = m.message_for(exc), 400
            else:
                sent, email = m.FORGOT_ID_SENT, ""
    return render_template("auth/forgot_id.html", error=error, sent=sent, email=email), status


def _reset_invalid(exc: ResetLinkInvalid):
    session.pop(RESET_KEY, None)
    status = 400 if exc.reason == "unknown" else 410
    return render_template("auth/reset_invalid.html", message=m.message_for(exc)), status


@bp.get("/login/reset/<token>")
@limiter.limit(login_limit)
def reset_link(token: str):
    """The link in the mail: checked, then moved into the session (see RESET_KEY)."""
    try:
        reset.reset_for_token(token)
    except ResetLinkInvalid as exc:
        return _reset_invalid(exc)
    session[RESET_KEY] = token
    return redirect(url_for("auth.reset_password"))


@bp.route("/login/reset", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def reset_password():
    token = session.get(RESET_KEY)
    try:
        row = reset.reset_for_token(token)
    except ResetLinkInvalid as exc:
        return _reset_invalid(exc)
    errors: list = []
    status = 200
    if request.method == "POST":
        form = NewPasswordForm(request.form)
        if not form.validate():
            errors, status = m.missing_fields(form) or [cm.REQUIRED], 400
        else:
            try:
                pending_token = reset.choose_new_password(
                    token,
                    password=form.password.data,
                    password_confirm=form.password_confirm.data,
                )
            except ResetLinkInvalid as exc:
                return _reset_invalid(exc)
            except PasswordRejected as exc:
                errors = exc.problems
            else:
                # From here on exactly a sign-in after its password step: the second factor.
                session.pop(RESET_KEY, None)
                session[PENDING_KEY] = pending_token
                session[NEXT_KEY] = url_for("account.dashboard")
                flash(m.RESET_CONFIRM_FACTOR, "info")
                return redirect(url_for("auth.verify"))
    return (
        render_template(
            "auth/reset_password.html",
            errors=errors,
            login_id=row.customer.login_id,
            password_rules=m.PASSWORD_RULES,
        ),
        status,
    )


@bp.post("/logout")
@loads_customer
def logout():
    if current_user.is_authenticated:
        row = current_user.current_session
        if row is not None:  # None: ended meanwhile (a sign-out in another tab)
            auth.logout(row, row.customer)
    logout_user()
    session.clear()
    flash(m.SIGNED_OUT, "success")
    return redirect(url_for("main.home"))
