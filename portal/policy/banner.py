"""The site-wide banner while a policy revision is announced but not yet in force.

This module owns the one query every page runs for the banner (the upcoming revision and the
label it replaces, together) and its per-process cache. Every page shows the banner, so
without the cache its query would run on every request. Revisions are announced at least 7
days ahead, so a few seconds' delay before other workers show a new one costs nothing: each
process keeps the answer for PORTAL_BANNER_CACHE_SECONDS (0 in tests), keyed by the KST date
so the midnight switch stays exact. An announcement made in this process clears it at once
(:func:`forget_banner`, called by :func:`~portal.policy.versions.announce_revision`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from time import time as wall_clock

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal.dbtypes import kst_today
from portal.extensions import db
from portal.policy.models import PolicyVersion


@dataclass(frozen=True)
class PolicyBanner:
    """What the site-wide banner needs while a revision is upcoming."""

    label: str
    effective_on: date
    previous_label: str | None


# Per database URI: (expires at, KST date, answer). Per process on purpose (see above).
_banner_cache: dict[str, tuple[float, date, PolicyBanner | None]] = {}


def forget_banner() -> None:
    """Drop this process's cached banner: a revision was just announced here."""
    _banner_cache.clear()


def policy_banner() -> PolicyBanner | None:
    """The upcoming revision and the label it replaces (cached briefly per process)."""
    ttl = current_app.config.get("PORTAL_BANNER_CACHE_SECONDS", 0)
    today = kst_today()
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    cached = _banner_cache.get(key)
    if ttl and cached and cached[0] > wall_clock() and cached[1] == today:
        return cached[2]
    banner = _query_banner(today)
    if ttl:
        _banner_cache[key] = (wall_clock() + ttl, today, banner)
    return banner


def _query_banner(today: date) -> PolicyBanner | None:
    """The upcoming revision and the label it replaces, in one query."""
    older = aliased(PolicyVersion)
    previous_label = (
        select(older.label)
        .where(older.document == "privacy", older.effective_on < PolicyVersion.effective_on)
        .order_by(older.effective_on.desc(), older.id.desc())
        .limit(1)
        .correlate(PolicyVersion)
        .scalar_subquery()
    )
    stmt = (
        select(PolicyVersion.label, PolicyVersion.effective_on, previous_label)
        # The site-wide banner announces the privacy policy; terms have their own notice.
        .where(PolicyVersion.document == "privacy", PolicyVersion.effective_on > today)
        .order_by(PolicyVersion.effective_on.asc(), PolicyVersion.id.asc())
        .limit(1)
    )
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    return PolicyBanner(label=row[0], effective_on=row[1], previous_label=row[2])
