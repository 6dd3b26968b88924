"""TOTP second factor (RFC 6238: SHA1, 6 digits, 30 s, ±1 step) and recovery codes."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import NoReturn

import pyotp
from flask import current_app
from markupsafe import Markup
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from portal.auth.attempts import Counter, conditional_update
from portal.auth.errors import OtpLocked, OtpNotEnrolled, OtpReplay, WrongOtp, WrongRecoveryCode
from portal.auth.models import OtpCredential, RecoveryCode
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.security import decrypt, encrypt, newest_pepper_id, peppered_candidates, peppered_hash

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
    credential.pending_created_at = utcnow()
    db.session.flush()
    return secret


def _pending_is_fresh(credential: OtpCredential, now: datetime) -> bool:
    """An enrolment in progress, younger than PORTAL_OTP_ENROL_SECONDS.

    A pending secret is shown on screen; one left open for days could be confirmed by
    whoever photographed it, so it expires and the page draws a new one.
    """
    if credential.pending_secret_encrypted is None or credential.pending_created_at is None:
        return False
    window = timedelta(seconds=current_app.config["PORTAL_OTP_ENROL_SECONDS"])
    return now - credential.pending_created_at <= window


def pending_secret(customer_id: int, *, now: datetime | None = None) -> str | None:
    """The secret being enrolled, if still fresh (shown again on reload, not re-rolled)."""
    credential = otp_credential(customer_id)
    if credential is None or not _pending_is_fresh(credential, now or utcnow()):
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
    credential.pending_created_at = None
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
    # Imported here: only the OTP enrolment pages draw a QR code.
    import segno

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


OTP_FAILURES = Counter(
    OtpCredential.id,
    OtpCredential.failed_attempts,
    OtpCredential.locked_until,
    "PORTAL_OTP_MAX_FAILURES",
    "PORTAL_OTP_LOCK_SECONDS",
)


def lock_seconds_left(credential: OtpCredential | None, now: datetime | None = None) -> int:
    """Seconds until a locked OTP opens again (0 when not locked)."""
    now = now or utcnow()
    if credential is None or credential.locked_until is None or credential.locked_until <= now:
        return 0
    return int((credential.locked_until - now).total_seconds()) + 1


def charge_attempt(counter: Counter, row_id: int, now: datetime) -> int:
    """Charge one attempt before comparing (see :mod:`portal.auth.attempts`).

    :raises OtpLocked: locked now, or the limit was reached by parallel attempts.
    """
    failures = counter.charge(row_id, now)
    if failures is None:
        raise OtpLocked(max(counter.seconds_left(row_id, now), 1))
    if failures > counter.limit:
        lock(counter, row_id, now)
    return failures


def fail(counter: Counter, row_id: int, failures: int, now: datetime) -> NoReturn:
    """A charged attempt turned out wrong: lock at the limit, else say how many so far."""
    if failures >= counter.limit:
        lock(counter, row_id, now)
    raise WrongOtp(failures, counter.limit)


def lock(counter: Counter, row_id: int, now: datetime) -> NoReturn:
    # Only the request that moves the lock from open to closed reports it (one event).
    just_locked = counter.lock(row_id, now)
    raise OtpLocked(counter.lock_seconds, just_locked=just_locked)


def accept_code(
    counter: Counter,
    last_step: InstrumentedAttribute[int | None],
    row_id: int,
    secret: str,
    code: str,
    now: datetime,
) -> None:
    """Charge, compare and consume one TOTP code (customers' and staff's alike).

    A replayed code is counted like a wrong one: it was charged before the comparison, and
    someone sending a code that was already used is not the person typing a fresh one.

    :raises OtpLocked, OtpReplay, WrongOtp: see :func:`verify_otp`.
    """
    failures = charge_attempt(counter, row_id, now)
    step = _matching_step(secret, code, now)
    if step is None:
        fail(counter, row_id, failures, now)
    # Consume the step: a later step than any accepted before, decided by the database so
    # that of several parallel requests with the same code exactly one wins. Not conditional
    # on the lock: this attempt was charged within the limit, one of the few that may be
    # compared at all; a lock set meanwhile by attempts charged past the limit stops those.
    if not conditional_update(
        counter.key.class_,
        counter.key == row_id,
        or_(last_step.is_(None), last_step < step),
        **{last_step.key: step, counter.failures.key: 0},
    ):
        # Counted like a wrong code, so it locks like one at the limit: the fifth replay
        # closes the lock, as the fifth wrong code does (tests/concurrency).
        if failures >= counter.limit:
            lock(counter, row_id, now)
        raise OtpReplay()
    db.session.flush()


def verify_otp(credential: OtpCredential, code: str, *, now: datetime | None = None) -> None:
    """Accept ``code`` once for its time step; count failures and lock after the limit.

    :raises OtpNotEnrolled: the credential is not confirmed.
    :raises OtpLocked: too many failures recently.
    :raises OtpReplay: the code's step was already used (also by a parallel request).
    :raises WrongOtp: the code matches no step in the window.
    """
    now = now or utcnow()
    if credential.confirmed_at is None or credential.secret_encrypted is None:
        raise OtpNotEnrolled()
    accept_code(
        OTP_FAILURES, OtpCredential.last_used_step, credential.id, secret_of(credential), code, now
    )


def confirm_enrolment(credential: OtpCredential, code: str, *, now: datetime | None = None) -> None:
    """Activate the pending secret after one correct code (proves the app holds it).

    :raises OtpNotEnrolled: no enrolment is pending, or it expired.
    :raises WrongOtp: the code is wrong.
    :raises OtpLocked: too many wrong codes.
    """
    now = now or utcnow()
    if not _pending_is_fresh(credential, now):
        raise OtpNotEnrolled()
    failures = charge_attempt(OTP_FAILURES, credential.id, now)
    step = _matching_step(decrypt(credential.pending_secret_encrypted), code, now)
    if step is None:
        fail(OTP_FAILURES, credential.id, failures, now)
    credential.secret_encrypted = credential.pending_secret_encrypted
    credential.pending_secret_encrypted = None
    credential.pending_created_at = None
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
    pepper_id = newest_pepper_id()
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(_format_recovery(raw))
        db.session.add(
            RecoveryCode(
                customer_id=customer.id,
                code_hash=peppered_hash(raw, pepper_id),
                pepper_id=pepper_id,
            )
        )
    db.session.flush()
    return codes


def use_recovery_code(customer: Customer, code: str, *, now: datetime | None = None) -> int:
    """Consume one recovery code; returns how many remain.

    Codes are random 50-bit strings, so a keyed hash (not bcrypt) is enough: they cannot be
    brute-forced from the hash, and lookup stays a single indexed query. The key is the
    pepper the row records (PORTAL_HASH_PEPPERS), not SECRET_KEY, so rotating either leaves
    codes already handed out working: the typed code is hashed under every configured
    pepper and a row matches only under its own. A used code needs no rehash (it is spent);
    the unused ones cannot be rehashed (only their hashes are kept) and move to the newest
    pepper when the customer renews them; until then their pepper stays listed. Wrong codes are
    charged to the OTP failure counter (recovery codes exist only beside an OTP), so the
    account-wide limit and the 15-minute lock hold for them too.

    :raises OtpLocked: too many wrong OTP or recovery codes recently.
    :raises WrongRecoveryCode: unknown or already used.
    """
    now = now or utcnow()
    credential = otp_credential(customer.id)
    if credential is None:
        raise WrongRecoveryCode()
    failures = charge_attempt(OTP_FAILURES, credential.id, now)
    # Marking it used is the check: of parallel requests with one code, one updates the row.
    typed = _normalise_recovery(code)
    under_own_pepper = or_(
        *(
            and_(
                RecoveryCode.pepper_id.is_(None)
                if pepper_id is None
                else RecoveryCode.pepper_id == pepper_id,
                RecoveryCode.code_hash == code_hash,
            )
            for pepper_id, code_hash in peppered_candidates(typed)
        )
    )
    if not conditional_update(
        RecoveryCode,
        RecoveryCode.customer_id == customer.id,
        under_own_pepper,
        RecoveryCode.used_at.is_(None),
        used_at=now,
    ):
        if failures >= current_app.config["PORTAL_OTP_MAX_FAILURES"]:
            lock(OTP_FAILURES, credential.id, now)
        raise WrongRecoveryCode()
    conditional_update(OtpCredential, OtpCredential.id == credential.id, failed_attempts=0)
    db.session.flush()
    return remaining_recovery_codes(customer.id)


def remaining_recovery_codes(customer_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.customer_id == customer_id, RecoveryCode.used_at.is_(None))
    )
    return db.session.scalar(stmt) or 0
