"""Notices and privacy-policy rules."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.policy.models import Notice


def latest_notices(*, limit: int = 5) -> list[Notice]:
    """The newest notices, for the home page and the dashboard."""
    stmt = select(Notice).order_by(Notice.published_at.desc(), Notice.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))
