"""Failure counters that hold under concurrent requests.

Every guess at a secret (password, card code, OTP, recovery code) is *charged* before it is
compared: one ``UPDATE … SET n = n + 1 … WHERE <not locked> RETURNING n``. The database
serialises those updates on the row, so forty parallel guesses get forty distinct numbers,
only the first few (up to the limit) are ever compared, and the rest find the row locked.
Counting after the comparison (``obj.n += 1`` on a loaded object) let parallel requests all
read the same count, compare, and write back one increment between them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute

from portal.database import commit_security_write
from portal.extensions import db


def charge(counter: InstrumentedAttribute[int], *where: Any) -> int | None:
    """Add one to ``counter`` on the rows matching ``where``; return the new count.

    None means no row matched (typically: it is locked, or the challenge moved on).
    """
    model = counter.class_
    stmt = (
        update(model)
        .where(*where)
        .values({counter.key: counter + 1})
        .returning(counter)
        .execution_options(synchronize_session="fetch")
    )
    count = db.session.execute(stmt).scalar_one_or_none()
    # Durable before the comparison: parallel requests see it, and neither an error page
    # nor a crash refunds it.
    commit_security_write()
    return count


def conditional_update(model: type, *where: Any, **values: Any) -> bool:
    """``UPDATE model SET values WHERE where``; True when a row matched (this request won)."""
    stmt = (
        update(model).where(*where).values(**values).execution_options(synchronize_session="fetch")
    )
    return bool(db.session.execute(stmt).rowcount)
