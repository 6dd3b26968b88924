"""Staff accounts (처리직원): few, least-privilege."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

STAFF_ROLES = ("support", "billing", "privacy_officer", "admin")


class Staff(db.Model):
    """A staff account; signs in at /admin/login with a password and a mandatory TOTP."""

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
    otp_secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Staff {self.login_id} {self.role}>"
