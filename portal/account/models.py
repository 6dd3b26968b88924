"""Correction requests, third-party disclosures and inquiries (PRODUCT.md §3, §6).

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
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

# Retention categories of policy §3 (the retention package computes purge dates from them).
RETENTION_COMPLAINT = "complaint"


class Disclosure(db.Model):
    """One provision of the customer's data to a third party (policy §5 exceptions)."""

    __tablename__ = "disclosures"
    __table_args__ = (
        Index("ix_disclosures_customer_disclosed", "customer_id", "disclosed_on"),
        # The staff ledger: every provision, newest first.
        Index("ix_disclosures_disclosed", "disclosed_on", "id"),
    )

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
        # The staff queue: unanswered (NULL) oldest first, answered newest first.
        Index("ix_inquiries_answered_created", "answered_at", "created_at"),
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
