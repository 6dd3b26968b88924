"""The outbox: every message the portal sends, written in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

STATUSES = ("pending", "sent", "failed")
# Lower goes first: a reset link is not kept waiting behind a policy mailing to everyone.
PRIORITY_TRANSACTIONAL = 0
PRIORITY_BULK = 1


class OutboxMessage(db.Model):
    """One email: pending until delivered, then sent (or failed after the last try).

    ``content_encrypted`` holds the recipient, subject, text and HTML (Fernet, data keys):
    a reset link is a credential for 30 minutes and an address is personal data, so neither
    sits in the table in clear. ``customer_id`` cascades: a withdrawn customer's messages go
    with the account; the withdrawal notice itself is written without a customer, and its
    content is erased once it is sent. ``last_error`` holds the server's reply or the
    connection error, never the message.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index("ix_mail_outbox_due", "status", "priority", "next_attempt_at"),
        Index("ix_mail_outbox_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="ko")
    priority: Mapped[int] = mapped_column(Integer, default=PRIORITY_TRANSACTIONAL)
    content_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"
