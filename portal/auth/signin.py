"""Signing in (PRODUCT.md §2): the password step, the pending login, the second factor (card, OTP
or a recovery code), the first-login password, and the new session.

Nothing is signed in until :func:`complete_login` consumes the pending login; every failure
is counted before it is compared (:mod:`portal.auth.attempts`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from portal.audit.models import SecurityEvent
from portal.audit.services import record_event
from portal.auth import cards, otp
from portal.auth.attempts import charge
from portal.auth.errors import (
    ActivationRequired,
    CardExhausted,
    CardLocked,
    CardMissing,
    InvalidCredentials,
    MethodUnavailable,
    OtpLocked,
    OtpNotEnrolled,
    PasswordRejected,
    PendingLoginExpired,
    SecondFactorError,
    StaleChallenge,
    TemporaryPasswordExpired,
    WrongRecoveryCode,
)
from portal.auth.lockout import check_new_password, check_password_counted, unknown_login_check
from portal.auth.models import PendingLogin, SecurityCard
from portal.auth.passwords import hash_password, temporary_password_expired
from portal.auth.sessions import client_agent, create_session, end_other_sessions
from portal.customers.models import Customer
from portal.customers.services import customer_by_login_id
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.mail.services import alert
from portal.security import keyed_hash

METHODS = ("card", "otp")


@dataclass
class StepOne:
    """Result of a correct password: the pending-login token and where to go next."""

    token: str
    must_activate: bool


def begin_login(*, login_id: str, password: str, now: datetime | None = None) -> StepOne:
    """Step 1: check the password. Nothing is signed in yet.

    Unknown IDs and wrong passwords raise the same error after the same bcrypt work, and an
    unknown ID locks after as many failures as an account (:func:`unknown_login_check`), so
    neither the answers nor the lock tell whether the ID exists. While the account is
    locked every attempt, right password or wrong, gets the same answer with the time it
    unlocks, so the lock tells a guesser nothing about the password.

    :raises InvalidCredentials: unknown login ID or wrong password.
    :raises AccountLocked: the account is locked (or this attempt locked it).
    :raises TemporaryPasswordExpired: right, but a temporary password past its days.
    """
    now = now or utcnow()
    customer = customer_by_login_id(login_id) if len(login_id or "") <= 40 else None
    if customer is None:
        unknown_login_check(
            "customer",
            login_id,
            password,
            now=now,
            on_failure=lambda _detail: record_event(
                "login_failure", customer_id=None, detail="unknown_login_id"
            ),
        )
    if not check_password_counted(customer, password, now=now, event="login_failure"):
        raise InvalidCredentials()
    if customer.must_activate and temporary_password_expired(customer.password_changed_at, now):
        record_event("login_failure", customer_id=customer.id, detail="temporary_password_expired")
        raise TemporaryPasswordExpired()
    # One pending login per customer: a new step 1 replaces older ones.
    db.session.execute(delete(PendingLogin).where(PendingLogin.customer_id == customer.id))
    token = secrets.token_urlsafe(32)
    method = effective_method(customer.second_factor, available_methods(customer))
    db.session.add(
        PendingLogin(
            token_hash=keyed_hash(token),
            customer_id=customer.id,
            created_at=now,
            method=method or "card",
        )
    )
    db.session.flush()
    return StepOne(token=token, must_activate=customer.must_activate)


def pending_login(token: str | None, *, now: datetime | None = None) -> PendingLogin:
    """The pending login of this browser, if still within the step-2 window.

    :raises PendingLoginExpired: no step 1, or it was too long ago.
    """
    if not token or len(token) > 100:
        raise PendingLoginExpired()
    row = db.session.scalars(
        select(PendingLogin).where(PendingLogin.token_hash == keyed_hash(token))
    ).first()
    if row is None:
        raise PendingLoginExpired()
    now = now or utcnow()
    if now - row.created_at > timedelta(seconds=current_app.config["PORTAL_STEP2_SECONDS"]):
        db.session.delete(row)
        db.session.flush()
        raise PendingLoginExpired()
    return row


def _count_step2_failure(pending: PendingLogin) -> None:
    """A rejected new password in this first-login sign-in. At the limit the
    pending login is dropped: the password has to be typed again, which counts toward the
    account lockout, so no one can try without end on the strength of one correct password.

    :raises PendingLoginExpired: the limit is reached (``too_many``).
    """
    failures = charge(PendingLogin.failed_attempts, PendingLogin.id == pending.id)
    if failures is None or failures >= current_app.config["PORTAL_STEP2_MAX_FAILURES"]:
        db.session.execute(delete(PendingLogin).where(PendingLogin.id == pending.id))
        record_event(
            "second_factor_failure", customer_id=pending.customer_id, detail="step 2 abandoned"
        )
        raise PendingLoginExpired(too_many=True)


def available_methods(customer: Customer) -> list[str]:
    """The second factors this customer can use now, in a stable order."""
    methods = []
    if cards.active_card(customer.id) is not None:
        methods.append("card")
    if otp.has_otp(customer.id):
        methods.append("otp")
    return methods


def switch_method(pending: PendingLogin, method: str) -> None:
    """Choose the factor for step 2 (when both are enrolled).

    :raises MethodUnavailable: the method is unknown or not enrolled.
    """
    if method not in METHODS or method not in available_methods(pending.customer):
        raise MethodUnavailable(method)
    pending.method = method
    db.session.flush()


def effective_method(wanted: str | None, methods: list[str]) -> str | None:
    """The factor to ask: the one wanted if it is enrolled, else the first enrolled one
    (card before OTP), else None. The one rule for step 1 and step 2 alike."""
    if wanted in methods:
        return wanted
    return methods[0] if methods else None


@dataclass
class StepTwo:
    """What the second step asks now: the factor, the alternatives, the card's pinned pair,
    and why the factor cannot be answered (``problem``: locked, missing, exhausted)."""

    method: str | None
    methods: list[str]
    challenge: tuple[int, int] | None = None
    problem: SecondFactorError | None = None

    @property
    def switch_to(self) -> str | None:
        """The other factor the page offers, when the customer has both."""
        if len(self.methods) < 2:
            return None
        return "otp" if self.method == "card" else "card"

    @property
    def recovery_offered(self) -> bool:
        """Recovery codes stand in for an OTP app, so they are offered beside OTP only."""
        return "otp" in self.methods

    @property
    def stuck(self) -> bool:
        """Nothing on this page can get the customer in now: the factor cannot be answered
        (locked, missing, used up) and no other factor or recovery code is on offer. The
        page then says what to do instead (the customer centre), never "use another"."""
        return self.problem is not None and self.switch_to is None and not self.recovery_offered


def step_two_minutes() -> int:
    """The time allowed for step 2 in whole minutes, rounded down (never more than it is)."""
    return current_app.config["PORTAL_STEP2_SECONDS"] // 60


def step_two(pending: PendingLogin, *, now: datetime | None = None) -> StepTwo:
    """The state of step 2 for this pending login (draws and pins the card pair if needed)."""
    methods = available_methods(pending.customer)
    state = StepTwo(method=effective_method(pending.method, methods), methods=methods)
    if state.method is None:
        state.problem = CardMissing()
    elif state.method == "card":
        try:
            state.challenge = card_challenge(pending)
        except (CardLocked, CardMissing, CardExhausted) as exc:
            state.problem = exc
    else:
        seconds = otp.lock_seconds_left(otp.otp_credential(pending.customer_id), now)
        if seconds:
            state.problem = OtpLocked(seconds)
    return state


def answer_step_two(
    pending: PendingLogin,
    *,
    method: str,
    code_first: str = "",
    code_last: str = "",
    shown: tuple[int, int] | None = None,
    otp_code: str = "",
) -> str:
    """Step 2 with the factor the page asked (``method``); returns the session token.

    :raises SecondFactorError: see :func:`verify_card` and :func:`verify_otp`.
    :raises ActivationRequired, PendingLoginExpired: see :func:`complete_login`.
    """
    if method == "card":
        return verify_card(pending, code_first=code_first, code_last=code_last, shown=shown)
    if method == "otp":
        return verify_otp(pending, code=otp_code)
    raise MethodUnavailable(method)


def card_for(pending: PendingLogin) -> SecurityCard:
    """The active card for step 2.

    :raises CardMissing: no active card.
    """
    card = cards.active_card(pending.customer_id)
    if card is None:
        raise CardMissing()
    return card


def card_challenge(pending: PendingLogin) -> tuple[int, int]:
    """The pinned challenge of the customer's card (drawn once, kept until answered).

    :raises CardMissing: no active card.
    :raises CardLocked: the card is locked.
    :raises CardExhausted: every pair has been used.
    """
    return cards.current_challenge(card_for(pending))


def verify_card(
    pending: PendingLogin,
    *,
    code_first: str,
    code_last: str,
    shown: tuple[int, int] | None = None,
) -> str:
    """Step 2 with the card; on success the customer is signed in (returns the token).

    ``shown`` is the challenge the form displayed, when it says so: an answer to another
    pair is refused as stale without counting it.

    :raises StaleChallenge: ``shown`` is not the pinned challenge.
    :raises CardMissing, CardLocked, CardExhausted, WrongCardCode: see :mod:`cards`.
    """
    card = card_for(pending)
    if shown is not None and shown != cards.current_challenge(card):
        raise StaleChallenge()
    try:
        cards.verify_card(card, code_first, code_last)
    except CardLocked as exc:
        if exc.just_locked:
            record_event("card_locked", customer_id=pending.customer_id)
        raise
    except SecondFactorError:
        record_event("second_factor_failure", customer_id=pending.customer_id, detail="card")
        raise
    return complete_login(pending, method="card")


def verify_otp(pending: PendingLogin, *, code: str, now: datetime | None = None) -> str:
    """Step 2 with OTP; on success the customer is signed in (returns the token).

    :raises OtpNotEnrolled, OtpLocked, OtpReplay, WrongOtp: see :mod:`otp`.
    """
    credential = otp.otp_credential(pending.customer_id)
    if credential is None:
        raise OtpNotEnrolled()
    try:
        otp.verify_otp(credential, code, now=now)
    except OtpLocked as exc:
        if exc.just_locked:
            record_event("otp_locked", customer_id=pending.customer_id)
        raise
    except SecondFactorError:
        record_event("second_factor_failure", customer_id=pending.customer_id, detail="otp")
        raise
    return complete_login(pending, method="otp")


def use_recovery_code(pending: PendingLogin, *, code: str) -> tuple[str, int]:
    """Step 2 with a recovery code; returns (session token, codes left).

    :raises WrongRecoveryCode: unknown or used.
    :raises OtpLocked: too many wrong OTP or recovery codes (the same account-wide count).
    """
    try:
        left = otp.use_recovery_code(pending.customer, code)
    except OtpLocked as exc:
        if exc.just_locked:
            record_event("otp_locked", customer_id=pending.customer_id)
        raise
    except WrongRecoveryCode:
        record_event("second_factor_failure", customer_id=pending.customer_id, detail="recovery")
        raise
    record_event("recovery_code_used", customer_id=pending.customer_id, detail=f"left={left}")
    token = complete_login(pending, method="recovery")
    alert(pending.customer, "recovery_code_used", left=left)
    return token, left


def complete_login(pending: PendingLogin, *, method: str) -> str:
    """Both steps passed: open a new session (fresh token: no fixation).

    The pending login is consumed by a ``DELETE … RETURNING``: of parallel requests that all
    passed step 2 (a double click, a replayed form), exactly one gets a session.

    :raises ActivationRequired: first login and the new password is not set yet.
    :raises PendingLoginExpired: a parallel request already completed this sign-in.
    """
    customer = pending.customer
    if needs_activation(pending):
        raise ActivationRequired()
    # Lock order, customer row first and its pending logins second, as in begin_login (its
    # counter reset updates the row before it deletes the pending logins): the other order
    # here deadlocked on PostgreSQL when the customer's other browser began a sign-in at
    # the same moment (seen under bench/load.py). SQLite ignores FOR UPDATE; its single
    # writer cannot deadlock.
    db.session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    consumed = db.session.execute(
        delete(PendingLogin)
        .where(PendingLogin.id == pending.id)
        .returning(PendingLogin.new_password_hash)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if consumed is None:
        raise PendingLoginExpired()
    db.session.expunge(pending)
    new_hash = consumed.new_password_hash
    # The customer's row is written with one UPDATE by id, not through the ORM: the ORM's
    # UPDATE carries "WHERE version = :seen", and the other browser of the same customer
    # may save a profile edit (bumping the version) between our read and this write; a
    # sign-in must not fail with a 500 for that (seen under bench/load.py). The version
    # counts edits of the customer's data, which sign-in bookkeeping is not.
    now = utcnow()
    values: dict[str, object] = {}
    if customer.must_activate and new_hash is not None:
        # First login: the password chosen at /login/activate takes effect only now that
        # the second factor has proved who chose it.
        values.update(password_hash=new_hash, password_changed_at=now, must_activate=False)
        record_event("password_changed", customer_id=customer.id, detail="first login")
        record_event("account_activated", customer_id=customer.id)
    elif new_hash is not None:
        # A password reset by mail (portal.auth.reset): written only now that the second
        # factor passed; every session ends, and the lockout is lifted (mail and factor
        # together prove more than a password would).
        values.update(
            password_hash=new_hash, password_changed_at=now, failed_logins=0, locked_until=None
        )
        ended = end_other_sessions(customer, None)
        record_event("password_reset", customer_id=customer.id, detail=f"ended={ended}")
        alert(customer, "password_changed")
    new_browser = _is_new_browser(customer)
    token = create_session(customer)
    values.update(
        last_login_at=now,
        last_login_ip=customer.current_session.ip if customer.current_session else "",
    )
    # synchronize_session: the loaded object gets the new values too (alerts read them).
    db.session.execute(update(Customer).where(Customer.id == customer.id).values(**values))
    if new_browser:
        alert(
            customer,
            "new_browser_signin",
            ip=customer.last_login_ip or "-",
            agent=_browser_label(client_agent()),
        )
    record_event("login_success", customer_id=customer.id, detail=method)
    db.session.flush()
    return token


def _is_new_browser(customer: Customer) -> bool:
    """A sign-in from a browser (user agent) this customer has not signed in with during the
    events' retention (6 months). The first sign-in of an account is no news to anyone."""
    agent = client_agent()
    seen = db.session.execute(
        select(SecurityEvent.user_agent)
        .where(SecurityEvent.customer_id == customer.id, SecurityEvent.kind == "login_success")
        .order_by(SecurityEvent.id.desc())
        .limit(200)
    ).scalars()
    agents = set(seen)
    return bool(agents) and agent not in agents


def _browser_label(agent: str) -> str:
    """The user agent as a mail shows it: trimmed, one line."""
    text = " ".join(agent.split())
    return (text[:120] + "…") if len(text) > 120 else (text or "-")


def activate(pending: PendingLogin, *, password: str, password_confirm: str) -> None:
    """First login: the customer chooses a new password, then proves the second factor.

    The new hash waits on the pending login; :func:`complete_login` writes it. Until then
    the staff-set password stays the account's password.

    :raises PasswordRejected: the new password breaks a rule or does not match.
    :raises PendingLoginExpired: too many rejected passwords in this sign-in (``too_many``).
    """
    try:
        check_new_password(pending.customer, password, password_confirm)
    except PasswordRejected:
        _count_step2_failure(pending)
        raise
    pending.new_password_hash = hash_password(password)
    db.session.flush()


def needs_activation(pending: PendingLogin) -> bool:
    """First login and the new password not yet chosen: /login/activate comes first."""
    return pending.customer.must_activate and pending.new_password_hash is None
