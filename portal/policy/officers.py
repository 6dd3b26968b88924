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


def fill_officer_contact(
    role: str, *, name: str, department: str, phone: str, email: str
) -> PrivacyOfficer | None:
    """Fill the blank contact fields of the officer listed under ``role``; None if no such row.

    Only blanks are filled: a name or number someone has already set is never overwritten,
    so running it again (``flask demo load`` is idempotent) changes nothing.
    """
    officer = db.session.scalars(select(PrivacyOfficer).where(PrivacyOfficer.role == role)).first()
    if officer is None:
        return None
    for attribute, value in (
        ("name", name),
        ("department", department),
        ("phone", phone),
        ("email", email),
    ):
        if not getattr(officer, attribute):
            setattr(officer, attribute, value)
    db.session.flush()
    return officer
