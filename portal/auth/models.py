"""Second factors and server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.customers.models import Customer
from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db


class SecurityCard(db.Model):
    """A security card (보안카드): a serial and N numbered 4-digit codes.

    The codes are encrypted with the data keys: a 4-digit code has only 10,000 values, so a
    hash would be reversed instantly by anyone holding the database. The pending challenge
    lives on the card row (not the browser) so that reloads and other tabs see the same one.
    """

    __tablename__ = "security_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    codes_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    challenge_first: Mapped[int | None] = mapped_column(Integer)
    challenge_last: Mapped[int | None] = mapped_column(Integer)

    customer: Mapped[Customer] = relationship()
    used_pairs: Mapped[list[CardUsedPair]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<SecurityCard {self.id}>"


class CardUsedPair(db.Model):
    """A (first, last) code pair answered correctly once; never asked again on that card."""

    __tablename__ = "card_used_pairs"
    __table_args__ = (UniqueConstraint("card_id", "first_index", "last_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("security_cards.id", ondelete="CASCADE"))
    first_index: Mapped[int] = mapped_column(Integer)
    last_index: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OtpCredential(db.Model):
    """A TOTP secret (encrypted); usable only after ``confirmed_at`` is set.

    A new secret waits in ``pending_secret_encrypted`` until a correct code confirms it, so a
    customer who abandons re-enrolment keeps the OTP that works.
    """

    __tablename__ = "otp_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    pending_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last accepted 30-second step: a code from that step (or older) is a replay.
    last_used_step: Mapped[int | None] = mapped_column(Integer)
    # When the pending secret was made: an enrolment left open expires (PORTAL_OTP_ENROL_SECONDS)
    # so a secret glimpsed on a forgotten screen cannot be confirmed days later.
    pending_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<OtpCredential {self.id}>"


class RecoveryCode(db.Model):
    """A single-use recovery code, stored only as a hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Which pepper of PORTAL_HASH_PEPPERS keyed code_hash, so that a new pepper (or a new
    # SECRET_KEY) leaves codes already handed out working. NULL: made before peppers, keyed
    # with SECRET_KEY (see migration 0013 and portal.security.peppered_hash).
    pepper_id: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PendingLogin(db.Model):
    """Step 1 passed, step 2 not yet: nothing is signed in while this row exists."""

    __tablename__ = "pending_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    method: Mapped[str] = mapped_column(String(8), default="card")
    # First login: the bcrypt hash of the customer's new password waits here and replaces the
    # staff-set one only when the second factor passes, so whoever holds the first password
    # (it travelled on paper) cannot take the account by choosing a new one.
    new_password_hash: Mapped[str | None] = mapped_column(String(100))
    # Rejected new passwords in this first-login sign-in (wrong recovery codes count on the
    # OTP's counter, account-wide); at the limit the
    # pending login is dropped and the password is asked again (which counts toward lockout).
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)

    customer: Mapped[Customer] = relationship()


class PasswordReset(db.Model):
    """A password-reset link sent by mail: only the keyed hash of its random token is kept.

    Single use: ``used_at`` is set by a conditional UPDATE (``WHERE used_at IS NULL``) whose
    row count says which of two parallel uses won. Valid PORTAL_RESET_SECONDS (30 minutes).
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()

    def __repr__(self) -> str:
        return f"<PasswordReset {self.id}>"


class UserSession(db.Model):
    """A signed-in session. The cookie carries a random token; only its hash is stored."""

    __tablename__ = "user_sessions"
    # The security page lists a customer's sessions, last used first.
    __table_args__ = (Index("ix_user_sessions_customer_seen", "customer_id", "last_seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the password was last typed in this session (re-authentication window).
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<UserSession {self.id}>"


class UnknownLogin(db.Model):
    """Password failures at a login ID that no account has, counted like an account's.

    Without this, five guesses would tell whether an ID exists: a real account locks and
    says so, an unknown one never would. The ID is kept only as a keyed hash (with its
    scope, ``customer`` or ``staff``), so the table holds no typed text; rows untouched for
    ``UNKNOWN_LOGIN_KEEP`` are deleted as new ones come.
    """

    __tablename__ = "unknown_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
