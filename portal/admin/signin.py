"""Staff sign-in (PRODUCT.md §7): password, then a TOTP code for every account; staff sessions
with a 15-minute idle timeout; passwords that expire after 90 days and never repeat the last
five; re-authentication before destructive actions.

The rules are the customers' (one lockout counter, charge before compare, single-use OTP
steps, a pending login consumed once); only the tables differ. Staff and customer
credentials live in separate tables, so neither can pass the other's sign-in, and the staff
session has its own cookie: a customer's cookie opens nothing under ``/admin``.

Sign-ins, failures, locks and sign-outs go to the access log (접속기록), which the privacy
officer reviews, rather than to the customers' security events.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import delete, select

from portal.admin.messages import PASSWORD_REUSED
from portal.admin.models import Staff, StaffPasswordHistory, StaffPendingLogin, StaffSession
from portal.audit.access import record_access
from portal.auth import messages as am
from portal.auth.attempts import Counter
from portal.auth.errors import (
    AccountLocked,
    InvalidCredentials,
    OtpLocked,
    PasswordRejected,
    PendingLoginExpired,
    ReauthFailed,
    ReauthNeeded,
    SecondFactorError,
    TemporaryPasswordExpired,
)
from portal.auth.lockout import counted_password_check, unknown_login_check
from portal.auth.otp import accept_code
from portal.auth.passwords import (
    check_password,
    hash_password,
    password_problems,
    temporary_password_expired,
)
from portal.customers import validation as v
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.security import decrypt, keyed_hash

STAFF_PASSWORD = Counter(
    Staff.id,
    Staff.failed_logins,
    Staff.locked_until,
    "PORTAL_LOGIN_MAX_FAILURES",
    "PORTAL_LOCKOUT_SECONDS",
)
STAFF_OTP = Counter(
    Staff.id,
    Staff.otp_failed_attempts,
    Staff.otp_locked_until,
    "PORTAL_OTP_MAX_FAILURES",
    "PORTAL_OTP_LOCK_SECONDS",
)
# last_seen_at is written at most once a minute (as for customers).
TOUCH_INTERVAL = timedelta(seconds=60)


def note(staff: Staff | None, action: str, *, customer_id: int | None = None, fields=()) -> None:
    """An access-log record by ``staff`` (the one way the back office writes one)."""
    record_access(
        staff_id=staff.id if staff else None,
        actor=staff.login_id if staff else "-",
        action=action,
        customer_id=customer_id,
        fields=fields,
    )


def staff_by_login_id(login_id: str) -> Staff | None:
    """An active staff account by login ID (case-insensitive), or None."""
    try:
        login = v.login_id(login_id)
    except v.FieldInvalid:
        return None
    return db.session.scalars(
        select(Staff).where(Staff.login_id == login, Staff.active.is_(True))
    ).first()


def _check_password(staff: Staff, password: str, now: datetime, action: str) -> bool:
    return counted_password_check(
        STAFF_PASSWORD,
        staff.id,
        staff.password_hash,
        password,
        now=now,
        on_failure=lambda _detail: note(staff, action),
        on_lock=lambda: note(staff, "account_locked"),
    )


def begin_login(*, login_id: str, password: str, now: datetime | None = None) -> str:
    """Step 1: the password. Returns the pending-login token; nothing is signed in yet.

    Unknown or disabled accounts and wrong passwords get the same error after the same
    bcrypt work. The typed login ID of an unknown account is not logged: people type
    passwords into the wrong field.

    :raises InvalidCredentials: unknown or disabled account, or wrong password.
    :raises AccountLocked: the account is locked (or this attempt locked it).
    :raises TemporaryPasswordExpired: right, but a password set by another staff member
        and not replaced within ``PORTAL_TEMPORARY_PASSWORD_DAYS``.
    """
    now = now or utcnow()
    staff = staff_by_login_id(login_id) if len(login_id or "") <= 40 else None
    if staff is None:
        unknown_login_check(
            "staff", login_id, password, now=now, on_failure=lambda _d: note(None, "login_failure")
        )
    if not _check_password(staff, password, now, "login_failure"):
        raise InvalidCredentials()
    if staff.must_change_password and temporary_password_expired(staff.password_changed_at, now):
        note(staff, "login_failure")
        raise TemporaryPasswordExpired()
    db.session.execute(delete(StaffPendingLogin).where(StaffPendingLogin.staff_id == staff.id))
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffPendingLogin(token_hash=keyed_hash(token), staff_id=staff.id, created_at=now)
    )
    db.session.flush()
    return token


def pending_login(token: str | None, *, now: datetime | None = None) -> StaffPendingLogin:
    """This browser's pending staff login, within the step-2 window.

    :raises PendingLoginExpired: no step 1, or too long ago.
    """
    if not token or len(token) > 100:
        raise PendingLoginExpired()
    row = db.session.scalars(
        select(StaffPendingLogin).where(StaffPendingLogin.token_hash == keyed_hash(token))
    ).first()
    now = now or utcnow()
    if row is None:
        raise PendingLoginExpired()
    if now - row.created_at > timedelta(seconds=current_app.config["PORTAL_STEP2_SECONDS"]):
        db.session.delete(row)
        db.session.flush()
        raise PendingLoginExpired()
    return row


def verify_otp(pending: StaffPendingLogin, *, code: str, now: datetime | None = None) -> str:
    """Step 2: the TOTP code. Returns the new staff session's token.

    :raises OtpLocked, OtpReplay, WrongOtp: see :func:`portal.auth.otp.accept_code`.
    :raises PendingLoginExpired: a parallel request already completed this sign-in.
    """
    now = now or utcnow()
    staff = pending.staff
    try:
        accept_code(
            STAFF_OTP,
            Staff.otp_last_used_step,
            staff.id,
            decrypt(staff.otp_secret_encrypted),
            code,
            now,
        )
    except OtpLocked as exc:
        if exc.just_locked:
            note(staff, "otp_locked")
        raise
    except SecondFactorError:
        note(staff, "otp_failure")
        raise
    # Consumed once: of parallel requests that all passed, exactly one gets a session.
    consumed = db.session.execute(
        delete(StaffPendingLogin)
        .where(StaffPendingLogin.id == pending.id)
        .returning(StaffPendingLogin.id)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if consumed is None:
        raise PendingLoginExpired()
    db.session.expunge(pending)
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffSession(
            token_hash=keyed_hash(token),
            staff_id=staff.id,
            created_at=now,
            last_seen_at=now,
            authenticated_at=now,
            ip=(request.remote_addr or "")[:45],
        )
    )
    note(staff, "login")
    db.session.flush()
    return token


def load_session(token: str | None, *, now: datetime | None = None) -> StaffSession | None:
    """The live staff session of this cookie, or None (expired ones are deleted)."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalars(
        select(StaffSession).where(StaffSession.token_hash == keyed_hash(token))
    ).first()
    if row is None:
        return None
    now = now or utcnow()
    cfg = current_app.config
    idle = timedelta(seconds=cfg["PORTAL_STAFF_IDLE_SECONDS"])
    absolute = timedelta(seconds=cfg["PORTAL_STAFF_ABSOLUTE_SECONDS"])
    if not row.staff.active or now - row.last_seen_at > idle or now - row.created_at > absolute:
        db.session.delete(row)
        db.session.flush()
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return row


def end_session(row: StaffSession) -> None:
    """Sign out: the session row goes, so a copied cookie opens nothing."""
    note(row.staff, "logout")
    db.session.execute(delete(StaffSession).where(StaffSession.id == row.id))


def end_all_sessions(staff_id: int, *, keep: StaffSession | None = None) -> None:
    stmt = delete(StaffSession).where(StaffSession.staff_id == staff_id)
    if keep is not None:
        stmt = stmt.where(StaffSession.id != keep.id)
    db.session.execute(stmt.execution_options(synchronize_session=False))


def password_expired(staff: Staff, *, now: datetime | None = None) -> bool:
    """The password must be changed now: set by someone else, or older than the limit."""
    if staff.must_change_password:
        return True
    days = current_app.config["PORTAL_STAFF_PASSWORD_DAYS"]
    return (now or utcnow()) - staff.password_changed_at > timedelta(days=days)


def reauth_due(row: StaffSession, *, now: datetime | None = None) -> bool:
    window = timedelta(seconds=current_app.config["PORTAL_REAUTH_SECONDS"])
    return (now or utcnow()) - row.authenticated_at > window


def ensure_recent_password(row: StaffSession | None) -> None:
    """The service-side check behind every destructive staff action.

    :raises ReauthNeeded: no session, or its password entry is too old.
    """
    if row is None or reauth_due(row):
        raise ReauthNeeded()


def reauthenticate(row: StaffSession, password: str) -> None:
    """Type the password again; counted on the same lockout as the sign-in.

    :raises ReauthFailed: wrong (``signed_out`` when that locked the account: every session
        of the account ends).
    """
    now = utcnow()
    _confirm_password(row.staff, password, now)
    row.authenticated_at = now
    db.session.flush()


def _confirm_password(staff: Staff, password: str, now: datetime, *, current: bool = False) -> None:
    """The signed-in staff member's own password, asked again (re-auth, password change).

    :raises ReauthFailed: wrong; ``signed_out`` when this attempt locked the account, for
        whoever keeps guessing may hold a stolen cookie: every session of the account ends.
    """
    try:
        right = _check_password(staff, password, now, "reauth_failure")
    except AccountLocked:
        end_all_sessions(staff.id)
        raise ReauthFailed(signed_out=True, current=current) from None
    if not right:
        raise ReauthFailed(current=current)


def _recent_hashes(staff: Staff) -> list[str]:
    keep = current_app.config["PORTAL_STAFF_PASSWORD_HISTORY"]
    stmt = (
        select(StaffPasswordHistory.password_hash)
        .where(StaffPasswordHistory.staff_id == staff.id)
        .order_by(StaffPasswordHistory.created_at.desc(), StaffPasswordHistory.id.desc())
        .limit(keep)
    )
    hashes = list(db.session.scalars(stmt))
    return hashes if staff.password_hash in hashes else [staff.password_hash, *hashes][:keep]


def set_password(staff: Staff, password: str, *, must_change: bool = False) -> None:
    """Store a new password (and remember it: none of the last five again)."""
    now = utcnow()
    staff.password_hash = hash_password(password)
    staff.password_changed_at = now
    staff.must_change_password = must_change
    db.session.add(
        StaffPasswordHistory(staff_id=staff.id, password_hash=staff.password_hash, created_at=now)
    )
    db.session.flush()


def change_password(row: StaffSession, *, current: str, new: str, confirm: str) -> None:
    """The staff member's own password change (forced when expired).

    The current password counts on the lockout; the new one follows the customers' rules,
    is typed twice alike and is none of the last five. Other sessions of the account end.

    :raises ReauthFailed: the current password is wrong (``current`` set).
    :raises PasswordRejected: with every problem found.
    """
    staff = row.staff
    _confirm_password(staff, current, utcnow(), current=True)
    problems = list(password_problems(new or "", login_id=staff.login_id))
    if not problems and new != confirm:
        problems.append(am.PASSWORD_MISMATCH)
    if not problems and any(check_password(new, h) for h in _recent_hashes(staff)):
        problems.append(PASSWORD_REUSED)
    if problems:
        raise PasswordRejected(problems)
    set_password(staff, new)
    row.authenticated_at = utcnow()
    end_all_sessions(staff.id, keep=row)
    # A sign-in stopped after the password step was opened with the password just replaced:
    # it must not be finished with the OTP afterwards.
    db.session.execute(delete(StaffPendingLogin).where(StaffPendingLogin.staff_id == staff.id))
    note(staff, "password_changed")
    db.session.flush()
