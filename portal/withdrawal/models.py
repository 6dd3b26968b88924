"""Withdrawal requests (탈퇴 신청) waiting for staff: a customer with payment or invoice history
is settled by staff before the withdrawal is completed (policy §4).

``open_customer_id`` equals ``customer_id`` while the request is open and is NULL once it is
cancelled, completed or rejected: the unique constraint allows at most one open request per
customer on every database (NULLs never collide), like ``correction_requests.open_field``. The
row is a child of ``customers`` (CASCADE): completing the withdrawal deletes it with the
customer, the contract and withdrawal record having been copied to the retention store first.
A rejected request stays with its reason, so the customer can read why (and ask again).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

STATUSES = ("open", "cancelled", "completed", "rejected")
# The longest reason staff give for a rejection (shown to the customer).
REJECTION_REASON_MAX = 1000


class WithdrawalRequest(db.Model):
    __tablename__ = "withdrawal_requests"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'cancelled', 'completed', 'rejected')", name="status"),
        UniqueConstraint("open_customer_id", name="uq_withdrawal_requests_open_customer_id"),
        # The staff queue: open requests, oldest first.
        Index("ix_withdrawal_requests_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    open_customer_id: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Staff's reason when they reject the request (the customer reads it on their page).
    rejection_reason: Mapped[str | None] = mapped_column(String(REJECTION_REASON_MAX))

    def __repr__(self) -> str:
        return f"<WithdrawalRequest {self.id} {self.status}>"


RIGHTS_KINDS = ("deletion", "suspension", "consent_withdrawal")
RIGHTS_STATUSES = ("open", "cancelled", "answered")


class RightsRequest(db.Model):
    """A request under policy §7 other than withdrawal and correction: deletion of an item
    (삭제), suspension of processing (처리정지) or withdrawal of consent (동의 철회). Answered
    by staff within the legal 10 days (``due_on``, a KST date)."""

    __tablename__ = "rights_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('deletion', 'suspension', 'consent_withdrawal')", name="kind"),
        CheckConstraint("status IN ('open', 'cancelled', 'answered')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<RightsRequest {self.id} {self.kind} {self.status}>"
