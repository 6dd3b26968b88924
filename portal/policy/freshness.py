"""HTTP freshness of the public policy and notice pages: one fingerprint for ETag / 304.

This module owns what those pages depend on — the versions, the officers, the published
notices and the KST date (statuses, the banner and pins change at midnight) — summed up in
one query, so a browser revalidating its copy costs one query and no rendering. Anything
that changes a page must change :func:`content_state`; the views add the visitor's language
and sign-in to the ETag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import func, select

from portal.dbtypes import KST, kst_today, utcnow
from portal.extensions import db
from portal.policy.models import Notice, PolicyVersion, PrivacyOfficer
from portal.policy.notices import published


@dataclass(frozen=True)
class ContentState:
    """What public policy and notice pages depend on: changes whenever they would."""

    fingerprint: str
    last_modified: datetime


def content_state() -> ContentState:
    """A fingerprint and last-modified time of versions, officers and notices (one query)."""
    now = utcnow()
    is_published = published()
    stmt = select(
        select(func.count(PolicyVersion.id)).scalar_subquery(),
        select(func.max(PolicyVersion.created_at)).scalar_subquery(),
        select(func.count(PrivacyOfficer.id)).scalar_subquery(),
        select(func.max(PrivacyOfficer.updated_at)).scalar_subquery(),
        select(func.count(Notice.id)).where(is_published).scalar_subquery(),
        select(func.max(Notice.updated_at)).where(is_published).scalar_subquery(),
        select(func.max(Notice.id)).where(is_published).scalar_subquery(),
    )
    row = db.session.execute(stmt).one()
    today = kst_today()
    # The pages also change at midnight KST (status, banner, pins), so the day counts.
    midnight = datetime.combine(today, time.min, KST).astimezone(UTC)
    stamps = [_aware(value) for value in (row[1], row[3], row[5]) if value is not None]
    last_modified = min(max([midnight, *stamps]), now)
    raw = "|".join(str(value) for value in (*row, today.isoformat()))
    return ContentState(
        fingerprint=hashlib.sha256(raw.encode()).hexdigest()[:32], last_modified=last_modified
    )


def _aware(value: datetime) -> datetime:
    # max() over a UTCDateTime column comes back naive from SQLite: it is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
