"""A signed-in customer's credentials (PRODUCT.md §2): sessions, re-authentication, password
change, OTP enrolment, recovery codes, and the staff's card reissue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import Integer, Row, bindparam, delete, func, select, update

from portal.audit.services import record_event
from portal.auth import cards, otp
from portal.auth.errors import CardChanged, OtpNotEnrolled
from portal.auth.lockout import check_new_password, check_signed_in_password
from portal.auth.models import (
    OtpCredential,
    PendingLogin,
    RecoveryCode,
    SecurityCard,
    UserSession,
)
from portal.auth.passwords import hash_password
from portal.auth.sessions import end_other_sessions, rotate_session_token, sessions_of
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.mail.services import alert


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
    check_signed_in_password(customer, password, event="reauth_failure")
    session_row.authenticated_at = utcnow()
    # A fresh token for the now more privileged session: a cookie copied before the
    # re-authentication does not carry it.
    rotate_session_token(customer, session_row)
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

    check_signed_in_password(customer, current_password, event="reauth_failure", current=True)
    check_new_password(customer, new_password, new_password_confirm)
    # One UPDATE by id, not the ORM's versioned one (as in signin.complete_login): the
    # customer's other browser may save a profile edit meanwhile, and a password change
    # must not fail with a 500 for that.
    db.session.execute(
        update(Customer)
        .where(Customer.id == customer.id)
        .values(password_hash=hash_password(new_password), password_changed_at=utcnow())
    )
    ended = end_other_sessions(customer, session_row)
    # A sign-in stopped after the password step was opened with the password just replaced
    # (perhaps because it leaked): without this it could still be finished with the second
    # factor for the rest of the step-2 window.
    db.session.execute(delete(PendingLogin).where(PendingLogin.customer_id == customer.id))
    if session_row is not None:
        session_row.authenticated_at = utcnow()
        rotate_session_token(customer, session_row)
    record_event("password_changed", customer_id=customer.id, detail=f"ended={ended}")
    alert(customer, "password_changed")
    db.session.flush()
    return ended


_ANY_CARD = object()


def reissue_card(
    customer: Customer, *, replacing: str | object | None = _ANY_CARD
) -> tuple[SecurityCard, list[str]]:
    """Staff reissue: revoke the old card (clearing its lock) and issue a new one.

    ``replacing``: the serial of the card the staff member saw (None: no card). When given,
    the reissue happens only if that is still the current card, so a form sent twice (a
    reload of the page that printed the new card) does not revoke the card just printed.

    :raises CardChanged: ``replacing`` is not the current card any more.
    """
    if replacing is not _ANY_CARD:
        current = cards.active_card(customer.id)
        if (current.serial if current is not None else None) != (replacing or None):
            raise CardChanged()
    card, codes = cards.issue_card(customer)
    record_event("card_issued", customer_id=customer.id, detail=f"serial={card.serial}")
    alert(customer, "second_factor_changed", change="card_issued")
    return card, codes


@dataclass
class OtpEnrolment:
    """The secret being enrolled, as text and as an inline-SVG QR code."""

    secret: str
    qr_svg: Markup
    # The same key as an otpauth:// link: on a phone the QR code cannot be scanned by the
    # phone showing it, but the link opens the authenticator app with the key filled in.
    uri: str = ""

    @property
    def secret_groups(self) -> list[str]:
        """The key in groups of four, as it is easiest to read and type."""
        return [self.secret[i : i + 4] for i in range(0, len(self.secret), 4)]


def otp_enrolment(customer: Customer) -> OtpEnrolment:
    """The pending OTP secret for /account/security/otp: the same one on every reload
    until it is confirmed or expires, then a new one."""
    secret = otp.pending_secret(customer.id) or otp.start_enrolment(customer)
    uri = otp.provisioning_uri(secret, customer.login_id)
    return OtpEnrolment(secret=secret, qr_svg=otp.qr_svg(uri), uri=uri)


def _factors_statement():
    customer_id = bindparam("customer_id", type_=Integer)
    card = (
        select(SecurityCard)
        .where(SecurityCard.customer_id == customer_id, SecurityCard.revoked_at.is_(None))
        .order_by(SecurityCard.id)
        .limit(1)
        .subquery()
    )
    # The card, the OTP and the recovery codes in one row (scalar subqueries, each by index).
    return select(
        select(card.c.serial).scalar_subquery(),
        select(card.c.issued_at).scalar_subquery(),
        select(card.c.locked_at).scalar_subquery(),
        select(OtpCredential.confirmed_at)
        .where(OtpCredential.customer_id == customer_id)
        .scalar_subquery(),
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.customer_id == customer_id, RecoveryCode.used_at.is_(None))
        .scalar_subquery(),
    )


# Built once: composing it on every /account/security cost more than running it.
_FACTORS = _factors_statement()


@dataclass
class SecurityOverview:
    """Everything /account/security shows, ready to print: the card (its serial's tail,
    issue date, lock), the OTP (when confirmed; None while not in use), recovery codes left,
    and the sessions."""

    card_serial_tail: str | None
    card_issued_at: datetime | None
    card_locked: bool
    otp_confirmed_at: datetime | None
    recovery_left: int
    sessions: list[Row]  # portal.auth.sessions.sessions_of
    current_session_id: int | None


def security_overview(customer_id: int, current_session_id: int | None) -> SecurityOverview:
    """The customer's second factors and sessions: two statements whatever the data."""
    factors = db.session.execute(_FACTORS, {"customer_id": customer_id}).one()
    serial, issued_at, locked_at, otp_confirmed_at, recovery_left = factors
    return SecurityOverview(
        card_serial_tail=cards.serial_tail(serial) if serial is not None else None,
        card_issued_at=issued_at,
        card_locked=serial is not None and locked_at is not None,
        otp_confirmed_at=otp_confirmed_at,
        recovery_left=recovery_left or 0,
        sessions=sessions_of(customer_id),
        current_session_id=current_session_id,
    )


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
    alert(customer, "second_factor_changed", change="otp_enrolled")
    return codes


def regenerate_recovery_codes(customer: Customer) -> list[str]:
    """Replace all recovery codes (shown once).

    :raises OtpNotEnrolled: recovery codes exist only beside a confirmed OTP.
    """
    if not otp.has_otp(customer.id):
        raise OtpNotEnrolled()
    codes = otp.regenerate_recovery_codes(customer)
    record_event("recovery_codes_generated", customer_id=customer.id)
    alert(customer, "second_factor_changed", change="recovery_codes_generated")
    return codes


@dataclass
class FactorStatus:
    """A customer's sign-in factors as staff see them on the record: the current card (full
    serial: staff match it with the card the customer holds), whether it, the OTP or the
    password is locked now."""

    card_serial: str | None
    card_issued_at: datetime | None
    card_locked: bool
    otp_enrolled: bool
    otp_locked: bool
    account_locked_until: datetime | None


def factor_status(customer: Customer, *, now: datetime | None = None) -> FactorStatus:
    """The card, OTP and password-lockout state of ``customer`` (for the staff record)."""
    now = now or utcnow()
    card = cards.active_card(customer.id)
    credential = otp.otp_credential(customer.id)
    locked_until = customer.locked_until
    return FactorStatus(
        card_serial=card.serial if card is not None else None,
        card_issued_at=card.issued_at if card is not None else None,
        card_locked=card is not None and card.locked_at is not None,
        otp_enrolled=credential is not None and credential.confirmed_at is not None,
        otp_locked=otp.lock_seconds_left(credential, now) > 0,
        account_locked_until=locked_until if locked_until and locked_until > now else None,
    )
