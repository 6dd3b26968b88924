"""TOTP second factor (RFC 6238: SHA1, 6 digits, 30 s, ±1 step) and recovery codes."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, select

from portal.account.models import Customer
from portal.auth.errors import OtpLocked, OtpNotEnrolled, OtpReplay, WrongOtp, WrongRecoveryCode
from portal.auth.models import OtpCredential, RecoveryCode
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.security import decrypt, encrypt, keyed_hash

ISSUER = "AnyTrack Portal"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10


def start_enrolment(customer: Customer) -> str:
    """Make a new secret server-side, pending until confirmed; returns it for the QR code."""
    credential = otp_credential(customer.id)
    if credential is None:
        credential = OtpCredential(customer_id=customer.id)
        db.session.add(credential)
    secret = pyotp.random_base32()
    credential.pending_secret_encrypted = encrypt(secret)
    db.session.flush()
    return secret


def pending_secret(customer_id: int) -> str | None:
    """The secret being enrolled, if any (shown again on reload, not re-rolled)."""
    credential = otp_credential(customer_id)
    if credential is None or credential.pending_secret_encrypted is None:
        return None
    return decrypt(credential.pending_secret_encrypted)


def enrol_confirmed(customer: Customer) -> str:
    """Give a staff-registered customer a confirmed secret at once (printed on the form)."""
    credential = otp_credential(customer.id)
    if credential is None:
        credential = OtpCredential(customer_id=customer.id)
        db.session.add(credential)
    secret = pyotp.random_base32()
    credential.secret_encrypted = encrypt(secret)
    credential.pending_secret_encrypted = None
    credential.confirmed_at = utcnow()
    credential.last_used_step = None
    db.session.flush()
    return secret


def has_otp(customer_id: int) -> bool:
    credential = otp_credential(customer_id)
    return credential is not None and credential.confirmed_at is not None


def otp_credential(customer_id: int) -> OtpCredential | None:
    stmt = select(OtpCredential).where(OtpCredential.customer_id == customer_id)
    return db.session.scalars(stmt).first()


def secret_of(credential: OtpCredential) -> str:
    if credential.secret_encrypted is None:
        raise OtpNotEnrolled()
    return decrypt(credential.secret_encrypted)


def provisioning_uri(secret: str, login_id: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=login_id, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """The provisioning URI as an inline SVG (no external image, CSP-safe).

    Marked safe because segno writes the SVG itself: only path data and colours we chose,
    never text from the request (the URI is encoded as modules, not embedded as text).
    """
    qr = segno.make(uri, error="m")
    return Markup(qr.svg_inline(scale=4, dark="#111", light="#fff", omitsize=True))  # noqa: S704


def _timecode(when: datetime) -> int:
    return int(when.timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (now −1, 0, +1) whose code equals ``code``, or None."""
    totp = pyotp.TOTP(secret)
    current = _timecode(now)
    found = None
    for step in (current - 1, current, current + 1):
        # Compare every candidate (no early exit) in constant time.
        if hmac.compare_digest(totp.generate_otp(step).encode(), code.encode()):
            found = step
    return found


def lock_seconds_left(credential: OtpCredential | None, now: datetime | None = None) -> int:
    """Seconds until a locked OTP opens again (0 when not locked)."""
    now = now or utcnow()
    if credential is None or credential.locked_until is None or credential.locked_until <= now:
        return 0
    return int((credential.locked_until - now).total_seconds()) + 1


def _check_lock(credential: OtpCredential, now: datetime) -> None:
    if credential.locked_until and credential.locked_until > now:
        raise OtpLocked(int((credential.locked_until - now).total_seconds()) + 1)


def verify_otp(credential: OtpCredential, code: str, *, now: datetime | None = None) -> None:
    """Accept ``code`` once for its time step; count failures and lock after the limit.

    :raises OtpNotEnrolled: the credential is not confirmed.
    :raises OtpLocked: too many failures recently.
    :raises OtpReplay: the code's step was already used.
    :raises WrongOtp: the code matches no step in the window.
    """
    now = now or utcnow()
    if credential.confirmed_at is None or credential.secret_encrypted is None:
        raise OtpNotEnrolled()
    _check_lock(credential, now)
    step = _matching_step(secret_of(credential), code, now)
    if (
        step is not None
        and credential.last_used_step is not None
        and step <= credential.last_used_step
    ):
        raise OtpReplay()
    if step is None:
        _count_failure(credential, now)
    credential.failed_attempts = 0
    credential.locked_until = None
    credential.last_used_step = step
    db.session.flush()


def _count_failure(credential: OtpCredential, now: datetime) -> None:
    credential.failed_attempts += 1
    cfg = current_app.config
    if credential.failed_attempts >= cfg["PORTAL_OTP_MAX_FAILURES"]:
        credential.failed_attempts = 0
        credential.locked_until = now + timedelta(seconds=cfg["PORTAL_OTP_LOCK_SECONDS"])
        db.session.flush()
        raise OtpLocked(cfg["PORTAL_OTP_LOCK_SECONDS"], just_locked=True)
    db.session.flush()
    raise WrongOtp(credential.failed_attempts)


def confirm_enrolment(credential: OtpCredential, code: str, *, now: datetime | None = None) -> None:
    """Activate the pending secret after one correct code (proves the app holds it).

    :raises OtpNotEnrolled: no enrolment is pending.
    :raises WrongOtp: the code is wrong.
    :raises OtpLocked: too many wrong codes.
    """
    now = now or utcnow()
    if credential.pending_secret_encrypted is None:
        raise OtpNotEnrolled()
    _check_lock(credential, now)
    step = _matching_step(decrypt(credential.pending_secret_encrypted), code, now)
    if step is None:
        _count_failure(credential, now)
    credential.secret_encrypted = credential.pending_secret_encrypted
    credential.pending_secret_encrypted = None
    credential.confirmed_at = now
    credential.last_used_step = step
    credential.failed_attempts = 0
    db.session.flush()


def _format_recovery(raw: str) -> str:
    return f"{raw[:5]}-{raw[5:]}"


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def regenerate_recovery_codes(customer: Customer) -> list[str]:
    """Replace every recovery code with 10 new ones; returns them to be shown once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.customer_id == customer.id))
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed by hand
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(_format_recovery(raw))
        db.session.add(RecoveryCode(customer_id=customer.id, code_hash=keyed_hash(raw)))
    db.session.flush()
    return codes


def use_recovery_code(customer: Customer, code: str) -> int:
    """Consume one recovery code; returns how many remain.

    Codes are random 50-bit strings, so a keyed hash (not bcrypt) is enough: they cannot be
    brute-forced from the hash, and lookup stays a single indexed query.

    :raises WrongRecoveryCode: unknown or already used.
    """
    digest = keyed_hash(_normalise_recovery(code))
    stmt = select(RecoveryCode).where(
        RecoveryCode.customer_id == customer.id,
        RecoveryCode.code_hash == digest,
        RecoveryCode.used_at.is_(None),
    )
    row = db.session.scalars(stmt).first()
    if row is None:
        raise WrongRecoveryCode()
    row.used_at = utcnow()
    db.session.flush()
    return remaining_recovery_codes(customer.id)


def remaining_recovery_codes(customer_id: int) -> int:
    stmt = select(RecoveryCode).where(
        RecoveryCode.customer_id == customer_id, RecoveryCode.used_at.is_(None)
    )
    return len(list(db.session.scalars(stmt)))
