"""Correction requests, third-party disclosures and inquiries (SPEC §3, §6).

Every table here is a child of ``customers`` with ``ondelete="CASCADE"``: withdrawal destroys
the customer's personal data for good; what the law keeps moves to the retention store first.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

CORRECTABLE_FIELDS = ("name", "birth_date", "business_number")
CORRECTION_STATUSES = ("open", "approved", "rejected")
# Retention categories of policy §3 (the retention package computes purge dates from them).
RETENTION_COMPLAINT = "complaint"
RETENTION_YEARS = {RETENTION_COMPLAINT: 3}  # 전자상거래법: complaint and dispute records


class CorrectionRequest(db.Model):
    """A customer's request to correct an identity field, reviewed by staff.

    ``open_field`` equals ``field`` while the request is open and is NULL once resolved: the
    unique constraint on (customer_id, open_field) then allows at most one open request per
    field on every database (NULLs never collide), without dialect-specific partial indexes.
    """

    __tablename__ = "correction_requests"
    __table_args__ = (
        CheckConstraint("field IN ('name', 'birth_date', 'business_number')", name="field"),
        CheckConstraint("status IN ('open', 'approved', 'rejected')", name="status"),
        UniqueConstraint("customer_id", "open_field"),
        Index("ix_correction_requests_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(20))
    open_field: Mapped[str | None] = mapped_column(String(20))
    new_value: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_note: Mapped[str] = mapped_column(String(1000), default="")

    notifications: Mapped[list[CorrectionNotice]] = relationship(
        back_populates="correction",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CorrectionNotice.id",
    )

    @property
    def rejection_reason(self) -> str | None:
        """The staff's reason the customer is shown, for a rejected request only."""
        return (self.resolution_note or None) if self.status == "rejected" else None

    def __repr__(self) -> str:
        return f"<CorrectionRequest {self.id} {self.field} {self.status}>"


class CorrectionNotice(db.Model):
    """A "notify of correction" task: one recipient that had received the corrected data."""

    __tablename__ = "correction_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    correction_id: Mapped[int] = mapped_column(
        ForeignKey("correction_requests.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    correction: Mapped[CorrectionRequest] = relationship(back_populates="notifications")

    def __repr__(self) -> str:
        return f"<CorrectionNotice {self.id}{' done' if self.notified_at else ''}>"


class Disclosure(db.Model):
    """One provision of the customer's data to a third party (policy §5 exceptions)."""

    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_customer_disclosed", "customer_id", "disclosed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    disclosed_on: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(300))
    # Comma-separated item keys from portal.account.disclosures.ITEMS (a closed vocabulary,
    # so a correction can tell exactly which recipients received the corrected field).
    items: Mapped[str] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def item_keys(self) -> list[str]:
        return [item for item in self.items.split(",") if item]

    def __repr__(self) -> str:
        return f"<Disclosure {self.id}>"


class Inquiry(db.Model):
    """An inquiry or complaint (민원) and the staff answer; a complaint record (3 years)."""

    __tablename__ = "inquiries"
    __table_args__ = (
        CheckConstraint("retention_category IN ('complaint')", name="retention_category"),
        Index("ix_inquiries_customer_created", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Policy §3: complaint and dispute records are kept 3 years (전자상거래법). Stored on the
    # row so the retention store knows what to keep when the customer withdraws.
    retention_category: Mapped[str] = mapped_column(String(20), default=RETENTION_COMPLAINT)

    def __repr__(self) -> str:
        return f"<Inquiry {self.id}{' answered' if self.answered_at else ''}>"
