"""Sign-in rules (SPEC §2): password step, second factor, activation, sessions, re-auth."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from portal.account.models import Customer
from portal.account.services import customer_by_login_id
from portal.audit.services import record_event
from portal.auth import cards, otp
from portal.auth import messages as m
from portal.auth.errors import (
    AccountLocked,
    ActivationRequired,
    CardLocked,
    CardMissing,
    InvalidCredentials,
    OtpLocked,
    OtpNotEnrolled,
    PasswordRejected,
    PendingLoginExpired,
    ReauthFailed,
    SecondFactorError,
    StaleChallenge,
    WrongRecoveryCode,
)
from portal.auth.models import PendingLogin, SecurityCard, UserSession
from portal.auth.passwords import check_password, dummy_check, hash_password, password_problems
from portal.auth.sessions import create_session, end_other_sessions
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.security import keyed_hash

METHODS = ("card", "otp")
MAX_INPUT = 128  # longest password accepted; anything longer is refused before bcrypt


@dataclass
class StepOne:
    """Result of a correct password: the pending-login token and where to go next."""

    token: str
    must_activate: bool


def begin_login(*, login_id: str, password: str, now: datetime | None = None) -> StepOne:
    """Step 1: check the password. Nothing is signed in yet.

    Unknown IDs and wrong passwords raise the same error after the same bcrypt work; a
    locked account is revealed only to someone who typed the right password.

    :raises InvalidCredentials: unknown login ID or wrong password.
    :raises AccountLocked: right password, but the account is locked.
    """
    now = now or utcnow()
    customer = customer_by_login_id(login_id) if len(login_id or "") <= 40 else None
    if customer is None:
        dummy_check()
        record_event("login_failure", customer_id=None, detail="unknown_login_id")
        raise InvalidCredentials()
    locked = customer.locked_until is not None and customer.locked_until > now
    if not check_password(password or "", customer.password_hash):
        if not locked:
            _count_password_failure(customer, now, event="login_failure")
        else:
            record_event("login_failure", customer_id=customer.id, detail="while locked")
        db.session.flush()
        raise InvalidCredentials()
    if locked:
        assert customer.locked_until is not None
        record_event("login_failure", customer_id=customer.id, detail="locked")
        raise AccountLocked(int((customer.locked_until - now).total_seconds()) + 1)
    customer.failed_logins = 0
    customer.locked_until = None
    # One pending login per customer: a new step 1 replaces older ones.
    db.session.execute(delete(PendingLogin).where(PendingLogin.customer_id == customer.id))
    token = secrets.token_urlsafe(32)
    methods = available_methods(customer)
    preferred = customer.second_factor if customer.second_factor in methods else None
    db.session.add(
        PendingLogin(
            token_hash=keyed_hash(token),
            customer_id=customer.id,
            created_at=now,
            method=preferred or (methods[0] if methods else "card"),
        )
    )
    db.session.flush()
    return StepOne(token=token, must_activate=customer.must_activate)


def _count_password_failure(customer: Customer, now: datetime, *, event: str) -> bool:
    """Count one wrong password (sign-in, re-auth or password change alike): the lockout
    must not be dodged by guessing through another form. Returns True when it locks."""
    cfg = current_app.config
    customer.failed_logins += 1
    record_event(
        event, customer_id=customer.id, detail=f"password failures={customer.failed_logins}"
    )
    if customer.failed_logins < cfg["PORTAL_LOGIN_MAX_FAILURES"]:
        return False
    customer.failed_logins = 0
    customer.locked_until = now + timedelta(seconds=cfg["PORTAL_LOCKOUT_SECONDS"])
    record_event("account_locked", customer_id=customer.id)
    return True


def _wrong_password_while_signed_in(customer: Customer, *, event: str) -> ReauthFailed:
    """A signed-in session typed a wrong password: count it, and when that locks the
    account, end every session — whoever keeps guessing may hold a stolen cookie."""
    locked = _count_password_failure(customer, utcnow(), event=event)
    if locked:
        end_other_sessions(customer, None)
    db.session.flush()
    return ReauthFailed(signed_out=locked)


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

    :raises SecondFactorError: the method is unknown or not enrolled.
    """
    if method not in METHODS or method not in available_methods(pending.customer):
        raise SecondFactorError(method)
    pending.method = method
    db.session.flush()


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
    """
    try:
        left = otp.use_recovery_code(pending.customer, code)
    except WrongRecoveryCode:
        record_event("second_factor_failure", customer_id=pending.customer_id, detail="recovery")
        raise
    record_event("recovery_code_used", customer_id=pending.customer_id, detail=f"left={left}")
    return complete_login(pending, method="recovery"), left


def complete_login(pending: PendingLogin, *, method: str) -> str:
    """Both steps passed: open a new session (fresh token: no fixation).

    :raises ActivationRequired: first login and the new password is not set yet.
    """
    customer = pending.customer
    if needs_activation(pending):
        raise ActivationRequired()
    if customer.must_activate and pending.password_replaced:
        customer.must_activate = False
        record_event("account_activated", customer_id=customer.id)
    db.session.delete(pending)
    token = create_session(customer)
    customer.last_login_at = utcnow()
    customer.last_login_ip = customer.current_session.ip if customer.current_session else ""
    record_event("login_success", customer_id=customer.id, detail=method)
    db.session.flush()
    return token


def _check_new_password(customer: Customer, password: str, confirm: str) -> None:
    """The rules for a new password: SPEC §2, typed twice alike, not the current one.

    :raises PasswordRejected: with every problem found.
    """
    problems = list(password_problems(password or "", login_id=customer.login_id))
    if not problems and password != confirm:
        problems.append(m.PASSWORD_MISMATCH)
    if not problems and check_password(password, customer.password_hash):
        problems.append(m.PASSWORD_SAME)
    if problems:
        raise PasswordRejected(problems)


def activate(pending: PendingLogin, *, password: str, password_confirm: str) -> None:
    """First login: the customer replaces the staff-set password, then proves the factor.

    :raises PasswordRejected: the new password breaks a rule or does not match.
    """

    customer = pending.customer
    _check_new_password(customer, password, password_confirm)
    customer.password_hash = hash_password(password)
    customer.password_changed_at = utcnow()
    # The account flag itself clears only after step 2 proves the second factor.
    pending.password_replaced = True
    record_event("password_changed", customer_id=customer.id, detail="first login")
    db.session.flush()


def needs_activation(pending: PendingLogin) -> bool:
    """First login and the new password not yet set: /login/activate comes first."""
    return pending.customer.must_activate and not pending.password_replaced


def logout(session_row: UserSession | None, customer: Customer) -> None:
    """End this session: delete the row so a copied cookie is dead."""
    if session_row is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == session_row.id))
    record_event("logout", customer_id=customer.id)
    db.session.flush()


def end_session_of(customer: Customer, session_id: int) -> bool:
    """End one of the customer's own sessions (the list at /account/security)."""
    result = db.session.execute(
        delete(UserSession).where(
            UserSession.id == session_id, UserSession.customer_id == customer.id
        )
    )
    if result.rowcount:
        record_event("session_ended", customer_id=customer.id, detail=f"session={session_id}")
        db.session.flush()
        return True
    return False


def reauthenticate(customer: Customer, session_row: UserSession, *, password: str) -> None:
    """Password again for sensitive actions; refreshes the session's re-auth time.

    :raises ReauthFailed: wrong password, counted like a sign-in failure; ``signed_out``
        when it locked the account and ended every session.
    """
    if not check_password(password or "", customer.password_hash):
        raise _wrong_password_while_signed_in(customer, event="reauth_failure")
    customer.failed_logins = 0
    session_row.authenticated_at = utcnow()
    record_event("reauth_success", customer_id=customer.id)
    db.session.flush()


def change_password(
    customer: Customer,
    session_row: UserSession | None,
    *,
    current_password: str,
    new_password: str,
    new_password_confirm: str,
) -> int:
    """Change the password and end every other session; returns how many ended.

    :raises ReauthFailed: the current password is wrong.
    :raises PasswordRejected: the new password breaks a rule or does not match.
    """

    if not check_password(current_password or "", customer.password_hash):
        raise _wrong_password_while_signed_in(customer, event="reauth_failure")
    _check_new_password(customer, new_password, new_password_confirm)
    customer.password_hash = hash_password(new_password)
    customer.password_changed_at = utcnow()
    ended = end_other_sessions(customer, session_row)
    if session_row is not None:
        session_row.authenticated_at = utcnow()
    record_event("password_changed", customer_id=customer.id, detail=f"ended={ended}")
    db.session.flush()
    return ended


def reissue_card(customer: Customer) -> tuple[SecurityCard, list[str]]:
    """Staff reissue: revoke the old card (clearing its lock) and issue a new one."""
    card, codes = cards.issue_card(customer)
    record_event("card_issued", customer_id=customer.id, detail=f"serial={card.serial}")
    return card, codes


def start_otp_enrolment(customer: Customer) -> str:
    """A new pending OTP secret for /account/security/otp (shown as QR and text)."""
    return otp.start_enrolment(customer)


def confirm_otp_enrolment(customer: Customer, *, code: str) -> list[str]:
    """Activate the pending secret with a correct code; returns fresh recovery codes.

    :raises OtpNotEnrolled: nothing pending.
    :raises WrongOtp, OtpLocked: wrong code.
    """
    credential = otp.otp_credential(customer.id)
    if credential is None:
        raise OtpNotEnrolled()
    otp.confirm_enrolment(credential, code)
    record_event("otp_enrolled", customer_id=customer.id)
    codes = otp.regenerate_recovery_codes(customer)
    record_event("recovery_codes_generated", customer_id=customer.id)
    return codes


def regenerate_recovery_codes(customer: Customer) -> list[str]:
    """Replace all recovery codes (shown once)."""
    codes = otp.regenerate_recovery_codes(customer)
    record_event("recovery_codes_generated", customer_id=customer.id)
    return codes
