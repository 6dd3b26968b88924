"""What the queue tests share: access-log reads and the "no values in the log" check."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.extensions import db
from tests.conftest import csrf_from

RECORD_COLUMNS = ("actor", "ip", "action", "fields")


def records(login_id: str, *actions: str) -> list[AccessRecord]:
    """The staff member's access records (optionally of some actions), oldest first."""
    db.session.expire_all()
    stmt = select(AccessRecord).where(AccessRecord.actor == login_id).order_by(AccessRecord.seq)
    rows = list(db.session.scalars(stmt))
    return [r for r in rows if not actions or r.action in actions]


def fields_of(record: AccessRecord) -> set[str]:
    return set(record.fields.split(",")) if record.fields else set()


def assert_no_values(*values: str) -> None:
    """No access record holds any of these values in any column (names only, never data)."""
    db.session.expire_all()
    for row in db.session.scalars(select(AccessRecord)):
        for column in RECORD_COLUMNS:
            text = str(getattr(row, column) or "")
            for value in values:
                assert value not in text, (row.action, column, value)


def post_from(client, page: str, url: str, data: dict):
    """GET ``page`` for its CSRF token, then POST ``data`` to ``url``."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})
