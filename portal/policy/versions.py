"""Versions of the published documents — the privacy policy and the terms of use (이용약관):
announcing a revision, and which version is in force (PRODUCT.md §5).

This module owns the rules of each document's history; every function takes the document
kind (``privacy`` | ``terms``, default ``privacy``), and each document has its own labels,
dates and version in force. Terms are held to the same notice: the 약관규제법 and the
standard terms of Korean telecoms announce a change at least 7 days ahead (30 for a change
against the customer). A revision is announced with at least 7
days' notice (30 for a material change, as policy §10 promises), takes effect on a later
date than every version before it (so "the newest whose date has come" is never ambiguous),
and is published in the same transaction as its pinned announcement notice. The version in
force is computed from the KST date on every call, so no job has to switch it at midnight.
Functions flush, never commit: the caller (a view or a command) commits once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import force_locale
from sqlalchemy import func, select

from portal.customers.models import Customer
from portal.dbtypes import KST, kst_today, utcnow
from portal.extensions import db
from portal.mail.services import enqueue_bulk
from portal.policy import messages as m
from portal.policy.banner import forget_banner
from portal.policy.errors import (
    AnnouncedInPast,
    InvalidLabel,
    LabelTaken,
    OutOfOrder,
    TooSoon,
)
from portal.policy.models import Notice, PolicyVersion
from portal.policy.notices import check_text

# Policy §10 promises at least 7 days' notice; a material change gets 30 (PRODUCT.md §5).
NOTICE_DAYS = 7
MATERIAL_NOTICE_DAYS = 30
LABEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
PRIVACY = "privacy"
TERMS = "terms"
DOCUMENTS = (PRIVACY, TERMS)
# The mail each customer gets when a revision of the document is announced.
_MAIL_KIND = {PRIVACY: "policy_revision", TERMS: "terms_revision"}


def earliest_effective_date(announced_on: date, *, material: bool) -> date:
    """The first allowed effective date for an announcement on ``announced_on``."""
    return announced_on + timedelta(days=MATERIAL_NOTICE_DAYS if material else NOTICE_DAYS)


def announce_revision(
    *,
    label: str,
    title: str,
    body_md: str,
    effective_on: date,
    announced_on: date | None = None,
    material: bool = False,
    author: str = "",
    document: str = PRIVACY,
) -> PolicyVersion:
    """Create a version of ``document`` and, in the same transaction, its pinned
    announcement notice.

    The only way to add a version (the seed loader aside). The notice is pinned until the
    effective date and links to the new text and the diff.

    :raises InvalidLabel: malformed label.
    :raises TitleRequired: empty or too long title.
    :raises BodyRequired: empty body.
    :raises BodyTooLong: body over ``MAX_BODY_CHARS``.
    :raises AnnouncedInPast: ``announced_on`` is before today (KST).
    :raises TooSoon: ``effective_on`` is less than 7 days (30 when ``material``) later.
    :raises OutOfOrder: an existing version takes effect on or after ``effective_on``.
    :raises LabelTaken: the label is in use.
    :raises ValueError: ``document`` is not one of :data:`DOCUMENTS` (a programming error).
    """
    if document not in DOCUMENTS:
        raise ValueError(document)
    today = kst_today()
    announced_on = announced_on or today
    label = (label or "").strip()
    title = " ".join((title or "").split())
    if not LABEL_RE.fullmatch(label):
        raise InvalidLabel()
    check_text(title, body_md)
    if announced_on < today:
        raise AnnouncedInPast(announced_on, today)
    earliest = earliest_effective_date(announced_on, material=material)
    if effective_on < earliest:
        days = MATERIAL_NOTICE_DAYS if material else NOTICE_DAYS
        raise TooSoon(effective_on, earliest, days)
    latest = db.session.scalar(
        select(func.max(PolicyVersion.effective_on)).where(PolicyVersion.document == document)
    )
    if latest is not None and effective_on <= latest:
        # One version per effective date, in order: "the newest whose date has come" must
        # never be ambiguous.
        raise OutOfOrder(effective_on, latest)
    if db.session.scalar(
        select(PolicyVersion.id).where(
            PolicyVersion.document == document, PolicyVersion.label == label
        )
    ):
        raise LabelTaken(label)

    version = PolicyVersion(
        document=document,
        label=label,
        title=title,
        body_md=body_md,
        announced_on=announced_on,
        effective_on=effective_on,
        material=material,
        author=author,
    )
    db.session.add(version)
    db.session.flush()
    _publish_announcement(version)
    _mail_customers(version)
    forget_banner()
    return version


def _mail_customers(version: PolicyVersion) -> int:
    """One email per customer on the books (withdrawn customers are gone), queued at bulk
    priority in this transaction: a revision refused or rolled back mails no one."""
    recipients = db.session.execute(
        select(Customer.id, Customer.email, Customer.name).order_by(Customer.id)
    )
    return enqueue_bulk(
        _MAIL_KIND[version.document],
        (tuple(row) for row in recipients),
        label=version.label,
        effective=version.effective_on.isoformat(),
    )


def _publish_announcement(version: PolicyVersion) -> Notice:
    """The notice that announces ``version``: pinned until it takes effect."""
    # Stored text is Korean whatever the language of the staff member's screen.
    texts = m.ANNOUNCEMENT_TEXTS[version.document]
    with force_locale("ko"):
        title = str(texts.title % {"effective": version.effective_on.isoformat()})
        body = str(
            texts.body
            % {
                "effective": version.effective_on.isoformat(),
                "announced": version.announced_on.isoformat(),
            }
        )
        if version.material:
            body += "\n\n" + str(m.ANNOUNCEMENT_MATERIAL)
    notice = Notice(
        title=title,
        body_md=body,
        published_at=_publish_time(version.announced_on),
        pinned_until=version.effective_on,
        popup=False,
        author=version.author,
        policy_version_id=version.id,
    )
    db.session.add(notice)
    db.session.flush()
    return notice


def announcement_notice(version: PolicyVersion) -> Notice:
    """The notice that announced ``version``.

    :raises LookupError: the version has none (only the seed, announced before the portal).
    """
    notice = db.session.scalars(
        select(Notice).where(Notice.policy_version_id == version.id).order_by(Notice.id)
    ).first()
    if notice is None:
        raise LookupError(version.label)
    return notice


def _publish_time(announced_on: date) -> datetime:
    """Now for an announcement today; 00:00 KST of a later announcement date."""
    if announced_on <= kst_today():
        return utcnow()
    return datetime.combine(announced_on, time.min, KST).astimezone(UTC)


def current_version(document: str = PRIVACY) -> PolicyVersion | None:
    """The version in force: the newest whose effective date (KST) has come."""
    stmt = (
        select(PolicyVersion)
        .where(PolicyVersion.document == document, PolicyVersion.effective_on <= kst_today())
        .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.id.desc())
        .limit(1)
    )
    return db.session.scalars(stmt).first()


def upcoming_version(document: str = PRIVACY) -> PolicyVersion | None:
    """The next version to take effect, if one has been announced."""
    stmt = (
        select(PolicyVersion)
        .where(PolicyVersion.document == document, PolicyVersion.effective_on > kst_today())
        .order_by(PolicyVersion.effective_on.asc(), PolicyVersion.id.asc())
        .limit(1)
    )
    return db.session.scalars(stmt).first()


def version_by_label(label: str | None, document: str = PRIVACY) -> PolicyVersion | None:
    """The version of ``document`` called ``label``, or None (also for malformed labels)."""
    if not label or not LABEL_RE.fullmatch(label):
        return None
    return db.session.scalars(
        select(PolicyVersion).where(
            PolicyVersion.document == document, PolicyVersion.label == label
        )
    ).first()


def has_revisions() -> bool:
    """True once there are two versions to compare (the diff page has nothing to show before)."""
    return (db.session.scalar(select(func.count()).select_from(PolicyVersion)) or 0) > 1


def previous_version(version: PolicyVersion) -> PolicyVersion | None:
    """The version that ``version`` replaces (of the same document)."""
    stmt = (
        select(PolicyVersion)
        .where(
            PolicyVersion.document == version.document,
            PolicyVersion.effective_on < version.effective_on,
        )
        .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.id.desc())
        .limit(1)
    )
    return db.session.scalars(stmt).first()


@dataclass(frozen=True)
class VersionRow:
    version: PolicyVersion
    status: str  # "in_force" | "upcoming" | "past"


def list_versions(document: str = PRIVACY) -> list[VersionRow]:
    """Every version of ``document``, newest effective date first, with its status today."""
    today = kst_today()
    versions = list(
        db.session.scalars(
            select(PolicyVersion)
            .where(PolicyVersion.document == document)
            .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.id.desc())
        )
    )
    rows: list[VersionRow] = []
    in_force_seen = False
    for version in versions:
        if version.effective_on > today:
            status = "upcoming"
        elif not in_force_seen:
            status, in_force_seen = "in_force", True
        else:
            status = "past"
        rows.append(VersionRow(version, status))
    return rows


def version_status(version: PolicyVersion) -> str:
    """``in_force``, ``upcoming`` or ``past`` for one version."""
    if version.effective_on > kst_today():
        return "upcoming"
    current = current_version(version.document)
    return "in_force" if current is not None and current.id == version.id else "past"
