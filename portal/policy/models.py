"""Privacy-policy versions, privacy officers and notices (공지사항). Tables only, no rules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db
from portal.pagecache import watch


class PolicyVersion(db.Model):
    """One version of a published document — the privacy policy (``privacy``) or the terms
    of use (``terms``, 이용약관); created only by ``versions.announce_revision``.

    ``announced_on`` and ``effective_on`` are calendar dates in Korea (KST). The version in
    force is computed from ``effective_on`` on every request, so no job has to switch it.
    Each document has its own history: labels are unique per document.
    """

    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("document", "label", name="uq_policy_versions_document_label"),
        Index("ix_policy_versions_document_effective_on", "document", "effective_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document: Mapped[str] = mapped_column(String(10), default="privacy", server_default="privacy")
    label: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text)
    announced_on: Mapped[date] = mapped_column(Date)
    effective_on: Mapped[date] = mapped_column(Date)
    material: Mapped[bool] = mapped_column(default=False)
    author: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<PolicyVersion {self.document} {self.label} effective {self.effective_on}>"


class PrivacyOfficer(db.Model):
    """A privacy officer or contact of policy §9, listed on ``/privacy/officers``."""

    __tablename__ = "privacy_officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    role: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(60), default="")
    name: Mapped[str] = mapped_column(String(60), default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<PrivacyOfficer {self.id} {self.role}>"


class Notice(db.Model):
    """A notice on the board; optionally pinned until a KST date and shown as a popup.

    A notice published by a policy announcement points at its version, so the board can link
    to the new text and to the diff.
    """

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_published_at", "published_at"),
        Index("ix_notices_popup_published", "popup", "published_at"),
        Index("ix_notices_pinned_until", "pinned_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pinned_until: Mapped[date | None] = mapped_column(Date)
    popup: Mapped[bool] = mapped_column(default=False)
    popup_until: Mapped[date | None] = mapped_column(Date)
    author: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    policy_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("policy_versions.id"), index=True
    )

    policy_version: Mapped[PolicyVersion | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Notice {self.id}>"


def _next_publication(session, now: datetime) -> datetime | None:
    # A notice scheduled for later (an announcement for a coming day) changes the public
    # pages when its time comes, without any write: the content version records when.
    return session.connection().scalar(
        select(func.min(Notice.published_at)).where(Notice.published_at > now)
    )


# Every change to these rows changes a public page: the shared content version follows.
watch(PolicyVersion, PrivacyOfficer, Notice, upcoming=_next_publication)
