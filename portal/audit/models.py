"""Security events: the identity-verification records of policy §3 (kept 6 months)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db


class SecurityEvent(db.Model):
    """One sign-in, failure, lock, factor change, recovery-code use or session end.

    ``detail`` holds field names and counters only, never a secret or a personal-data value.
    """

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(500), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<SecurityEvent {self.id} {self.kind}>"
