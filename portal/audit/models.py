"""Security events: the identity-verification records of policy §3 (kept 6 months)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
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


class AccessRecord(db.Model):
    """One staff touch of personal data (접속기록): who, when, from where, whose, what.

    ``fields`` names the fields touched, never their values. Records form a hash chain
    (:mod:`portal.audit.access`): ``seq`` is the position, ``prev_hash`` the hash of the
    record before, ``hash`` this record's own. No foreign key to ``customers``: the record
    outlives the customer (kept 2 years, withdrawal or not).
    """

    __tablename__ = "access_records"
    __table_args__ = (
        Index("ix_access_records_staff_created", "staff_id", "created_at"),
        Index("ix_access_records_customer_created", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # NULL for work done on the command line (``actor`` then says "cli").
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor: Mapped[str] = mapped_column(String(40))
    ip: Mapped[str] = mapped_column(String(45), default="")
    customer_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    fields: Mapped[str] = mapped_column(String(500), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AccessRecord {self.seq} {self.actor} {self.action}>"


class AccessChain(db.Model):
    """The head of the access-log chain (one row): the last record's position and hash, and
    the base the oldest kept record continues from (moved forward by the 2-year purge).

    Every new record updates this row first, which serialises writers on it: two records
    never claim the same predecessor.
    """

    __tablename__ = "access_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    base_seq: Mapped[int] = mapped_column(Integer, default=0)
    base_hash: Mapped[str] = mapped_column(String(64))


class RoleChange(db.Model):
    """A staff role granted, changed or revoked (권한 부여·변경·말소 기록, kept 3 years)."""

    __tablename__ = "role_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    # Who did it; NULL on the command line.
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(10))
    old_role: Mapped[str | None] = mapped_column(String(20))
    new_role: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str] = mapped_column(String(45), default="")

    __table_args__ = (
        CheckConstraint("kind IN ('grant', 'change', 'revoke', 'restore')", name="kind"),
    )


class AccessReview(db.Model):
    """A month of the access log reviewed by the privacy officer, with the chain head then."""

    __tablename__ = "access_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    comment: Mapped[str] = mapped_column(String(2000), default="")
    chain_seq: Mapped[int] = mapped_column(Integer, default=0)
    chain_hash: Mapped[str] = mapped_column(String(64), default="")
