"""Failure counters that hold under concurrent requests.

Every guess at a secret (password, card code, OTP, recovery code) is *charged* before it is
compared: one ``UPDATE … SET n = n + 1 … WHERE <not locked> RETURNING n``. The database
serialises those updates on the row, so forty parallel guesses get forty distinct numbers,
only the first few (up to the limit) are ever compared, and the rest find the row locked.
Counting after the comparison (``obj.n += 1`` on a loaded object) let parallel requests all
read the same count, compare, and write back one increment between them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
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


@dataclass(frozen=True)
class Counter:
    """Where one kind of failure is counted: a row's key, its count and its lock.

    The customer's password, the customer's OTP and the staff account's password and OTP
    all follow the same rules (charge first, lock at the limit, only the request that closes
    an open row reports the lock), so they share this one implementation.
    """

    key: InstrumentedAttribute[int]
    failures: InstrumentedAttribute[int]
    locked_until: InstrumentedAttribute[Any]
    limit_setting: str
    lock_setting: str

    @property
    def limit(self) -> int:
        return current_app.config[self.limit_setting]

    @property
    def lock_seconds(self) -> int:
        return current_app.config[self.lock_setting]

    def open_row(self, row_id: int, now: datetime) -> tuple:
        """The WHERE clause of a row that is not locked at ``now``."""
        return (
            self.key == row_id,
            or_(self.locked_until.is_(None), self.locked_until <= now),
        )

    def charge(self, row_id: int, now: datetime) -> int | None:
        """Charge one attempt (committed); None when the row is locked."""
        return charge(self.failures, *self.open_row(row_id, now))

    def lock(self, row_id: int, now: datetime) -> bool:
        """Lock an open row; True for the one request that closed it."""
        return conditional_update(
            self.key.class_,
            *self.open_row(row_id, now),
            **{
                self.failures.key: 0,
                self.locked_until.key: now + timedelta(seconds=self.lock_seconds),
            },
        )

    def reset(self, row_id: int, now: datetime) -> None:
        """A right answer: the count restarts (on an open row only; a lock stays)."""
        conditional_update(self.key.class_, *self.open_row(row_id, now), **{self.failures.key: 0})

    def seconds_left(self, row_id: int, now: datetime) -> int:
        """Seconds until the lock opens (at least 1 while locked, 0 when open)."""
        until = db.session.scalar(select(self.locked_until).where(self.key == row_id))
        if until is None or until <= now:
            return 0
        return math.ceil((until - now).total_seconds())
