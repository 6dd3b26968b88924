"""Column types and time helpers shared by every model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator
from werkzeug.routing import IntegerConverter

KST = ZoneInfo("Asia/Seoul")


def utcnow() -> datetime:
    """The current time, aware, in UTC (what every timestamp column stores)."""
    return datetime.now(UTC)


def kst_today() -> date:
    """Today's calendar date in Korea (due dates, effective dates, popup days)."""
    return datetime.now(KST).date()


def next_kst_midnight(now: datetime | None = None) -> datetime:
    """The next 00:00 in Asia/Seoul, as an aware UTC datetime."""
    local = (now or utcnow()).astimezone(KST)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), KST)
    return midnight.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database.

    SQLite has no time-zone type and hands back naive values; storing naive UTC and
    re-attaching UTC on the way out keeps comparisons in Python correct on both engines.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# Every id column is an INTEGER: signed 32 bits on PostgreSQL (64 on SQLite). A larger number
# from a URL would make PostgreSQL raise "integer out of range" (a 500) instead of finding
# nothing. Raise this if the ids ever become BIGINT.
ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` for the whole app: only numbers an id column can hold match (else 404)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=ID_MAX, signed=False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
