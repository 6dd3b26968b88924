"""The privacy officers and contacts of policy §9, as the "/privacy/officers" page lists them.

They are rows, not text in the policy, so a new phone number is an update of one row rather
than a policy revision; the seed loader (:mod:`portal.policy.seed.loader`) and migration 0002
insert the first two.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.policy.models import PrivacyOfficer


def list_officers() -> list[PrivacyOfficer]:
    """The privacy officers and contacts of policy §9, in display order."""
    stmt = select(PrivacyOfficer).order_by(PrivacyOfficer.sort_order, PrivacyOfficer.id)
    return list(db.session.scalars(stmt))
