"""The retention store (보존 기록): records the law keeps after a withdrawal.

A row names no one: ``subject_key`` is a keyed hash (HMAC under a pepper of
PORTAL_HASH_PEPPERS, named in ``subject_pepper_id``) of the login-ID register row, so records
of one former customer can be found together by whoever holds the pepper and the register
(:func:`portal.retention.store.of_subject`), but the table itself holds neither name nor
login ID. The pepper, not SECRET_KEY: the records outlive any SECRET_KEY rotation. The record itself
is ``payload_encrypted`` (Fernet with the data keys, re-encrypted by ``flask keys rotate``).
There is no foreign key to ``customers``: the rows outlive the customer by design.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db


class RetainedRecord(db.Model):
    __tablename__ = "retained_records"
    __table_args__ = (
        CheckConstraint(
            "category IN ('identity_verification', 'contract', 'payment_record', "
            "'complaint', 'e_invoice')",
            name="category",
        ),
        Index("ix_retained_records_purge_after", "purge_after"),
        Index("ix_retained_records_subject_key", "subject_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(30))
    legal_basis: Mapped[str] = mapped_column(String(100))
    subject_key: Mapped[str] = mapped_column(String(64))
    # NULL: written before peppers, keyed with SECRET_KEY (migration 0013).
    subject_pepper_id: Mapped[str | None] = mapped_column(String(16))
    # Where the record came from (a table name) — never a value.
    source: Mapped[str] = mapped_column(String(40))
    payload_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    record_date: Mapped[date] = mapped_column(Date)
    retained_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    purge_after: Mapped[date] = mapped_column(Date)

    def __repr__(self) -> str:
        return f"<RetainedRecord {self.id} {self.category}>"


class PurgeRun(db.Model):
    """One completed (not dry) ``flask retention purge``: a later ``--now`` may not go back."""

    __tablename__ = "retention_purges"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    destroyed: Mapped[int] = mapped_column(Integer, default=0)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
