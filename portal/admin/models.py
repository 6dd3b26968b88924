"""Staff accounts (처리직원): few, least-privilege, each with a password and a mandatory TOTP."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

STAFF_ROLES = ("support", "billing", "privacy_officer", "admin")


class Staff(db.Model):
    """A staff account; signs in at /admin/login with a password and a mandatory TOTP.

    Never deleted (the access log and the role log name it for years): ``active`` False
    disables it.
    """

    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint("role IN ('support', 'billing', 'privacy_officer', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(100))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when someone else chose the password (an admin creating or resetting the account):
    # the first sign-in must replace it.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    otp_secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    otp_last_used_step: Mapped[int | None] = mapped_column(Integer)
    otp_failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    otp_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Staff {self.login_id} {self.role}>"


class StaffPasswordHistory(db.Model):
    """Every password a staff account has had (hashes): none of the last five again."""

    __tablename__ = "staff_password_history"
    __table_args__ = (Index("ix_staff_password_history_staff_created", "staff_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffPendingLogin(db.Model):
    """A correct staff password waiting for its TOTP code (nothing is signed in yet)."""

    __tablename__ = "staff_pending_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    staff: Mapped[Staff] = relationship()


class StaffSession(db.Model):
    """A signed-in staff browser: its own cookie and table, never a customer's session."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the password was last typed in this session (sign-in or re-authentication).
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")

    staff: Mapped[Staff] = relationship()

    def __repr__(self) -> str:
        return f"<StaffSession {self.id} staff={self.staff_id}>"
