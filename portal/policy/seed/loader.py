"""The seed loader: the 2023-09-15 policy and the §9 officers, for databases made without
the migrations.

This module owns writing the frozen seed data of :mod:`portal.policy.seed` into a database
built with ``create_all`` (the tests) or loaded by ``flask demo load``; migration 0002 inserts
the same rows in a migrated database. It lives next to the data and apart from it, so the
migration imports the data without the models and the session.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.policy.models import PolicyVersion, PrivacyOfficer
from portal.policy.seed import (
    SEED_ANNOUNCED_ON,
    SEED_AUTHOR,
    SEED_EFFECTIVE_ON,
    SEED_LABEL,
    SEED_OFFICERS,
    SEED_TITLE,
    TERMS_SEED_LABEL,
    TERMS_SEED_TITLE,
    seed_markdown,
    terms_seed_markdown,
)


def ensure_seed() -> bool:
    """Insert the seed policy (2023-09-15) and the §9 officers if missing; True if it did.

    Idempotent. Migration 0002 inserts the same data in a migrated database; this serves
    databases made with ``create_all`` (tests) and ``flask demo load``. The seed is the one
    version not made by :func:`~portal.policy.versions.announce_revision`: it was announced
    in 2023, before this portal, so the "not in the past" rule cannot apply to it.
    """
    changed = False
    seed = select(PolicyVersion.id).where(
        PolicyVersion.document == "privacy", PolicyVersion.label == SEED_LABEL
    )
    if db.session.scalar(seed) is None:
        db.session.add(
            PolicyVersion(
                label=SEED_LABEL,
                title=SEED_TITLE,
                body_md=seed_markdown(),
                announced_on=SEED_ANNOUNCED_ON,
                effective_on=SEED_EFFECTIVE_ON,
                material=False,
                author=SEED_AUTHOR,
            )
        )
        changed = True
    if db.session.scalar(select(func.count(PrivacyOfficer.id))) == 0:
        db.session.add_all(PrivacyOfficer(**officer) for officer in SEED_OFFICERS)
        changed = True
    if changed:
        db.session.flush()
    return changed


def ensure_terms_seed() -> bool:
    """Insert the first terms of use if missing; True if it did (idempotent).

    Migration 0009 inserts the same row in a migrated database. Announced with the seed
    policy in 2023, before this portal, like it.
    """
    seed = select(PolicyVersion.id).where(
        PolicyVersion.document == "terms", PolicyVersion.label == TERMS_SEED_LABEL
    )
    if db.session.scalar(seed) is not None:
        return False
    db.session.add(
        PolicyVersion(
            document="terms",
            label=TERMS_SEED_LABEL,
            title=TERMS_SEED_TITLE,
            body_md=terms_seed_markdown(),
            announced_on=SEED_ANNOUNCED_ON,
            effective_on=SEED_EFFECTIVE_ON,
            material=False,
            author=SEED_AUTHOR,
        )
    )
    db.session.flush()
    return True
