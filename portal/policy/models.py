"""Notices (공지사항). Policy versions join them with the policy feature."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db


class Notice(db.Model):
    """A notice on the board; optionally pinned until a KST date and shown as a popup."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_published_at", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pinned_until: Mapped[date | None] = mapped_column(Date)
    popup: Mapped[bool] = mapped_column(default=False)
    author: Mapped[str] = mapped_column(String(100), default="")

    def __repr__(self) -> str:
        return f"<Notice {self.id}>"
