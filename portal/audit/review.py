"""The monthly review of the access log (접속기록 점검): counts, unusual volumes, the records,
and "month reviewed" with the chain head written down.

Months are calendar months in Korea (KST); records are stored in UTC, so a month is the UTC
interval between two KST midnights. Every aggregate is one GROUP BY query; the review page
never loads a month of records into Python (the drill-down list is paged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, Interval, cast, func, literal, select
from sqlalchemy.exc import IntegrityError

from portal.audit.access import chain_head
from portal.audit.models import AccessRecord, AccessReview
from portal.dbtypes import KST, kst_today, utcnow
from portal.extensions import db
from portal.pagination import MAX_PAGE, Page

MONTH_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
RECORDS_PER_PAGE = 50
# Sign-ins at these KST hours are flagged: 22:00 to 06:00.
NIGHT_STARTS, NIGHT_ENDS = 22, 6
DENIED = "denied"
LOGIN = "login"
# Korea keeps no daylight saving time: a KST calendar day is UTC + 9 hours, always.
KST_OFFSET = timedelta(hours=9)


class ReviewError(Exception):
    """Base of the review's refusals."""


class BadMonth(ReviewError):
    """The month is not YYYY-MM, or lies in the future."""


class AlreadyReviewed(ReviewError):
    """The month has been marked reviewed already (once per month)."""

    def __init__(self, review: AccessReview) -> None:
        super().__init__(review.month)
        self.review = review


class NotOver(ReviewError):
    """A month that has not ended cannot be marked reviewed."""


class CommentTooLong(ReviewError):
    """The reviewer's comment is longer than ``COMMENT_MAX``."""


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def shifted(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def start(self) -> datetime:
        """The month's first instant, in UTC."""
        return datetime.combine(self.first_day, time.min, KST).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The next month's first instant, in UTC (exclusive)."""
        return self.shifted(1).start

    def is_over(self) -> bool:
        return self.shifted(1).first_day <= kst_today()


def last_month() -> Month:
    today = kst_today()
    return Month(today.year, today.month).shifted(-1)


def parse_month(raw: str | None) -> Month:
    """``YYYY-MM`` (KST), default last month.

    :raises BadMonth: malformed, or a month after the current one.
    """
    if raw is None or raw == "":
        return last_month()
    match = MONTH_RE.fullmatch(raw.strip())
    if not match:
        raise BadMonth(raw)
    month = Month(int(match.group(1)), int(match.group(2)))
    today = kst_today()
    if month.first_day > today or month.year < 2000:
        raise BadMonth(raw)
    return month


def _in(month: Month):
    return (AccessRecord.created_at >= month.start, AccessRecord.created_at < month.end)


def _kst_day(dialect: str):
    """The KST calendar date of a record, in SQL (naive UTC stored on both engines)."""
    if dialect == "sqlite":
        return func.date(AccessRecord.created_at, "+9 hours")
    return cast(AccessRecord.created_at + literal(KST_OFFSET, Interval()), Date)


# --- counts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffCounts:
    staff_id: int | None
    actor: str
    actions: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.actions.values())


def counts(month: Month) -> list[StaffCounts]:
    """Records per staff member and action in ``month`` (one GROUP BY), busiest first."""
    stmt = (
        select(AccessRecord.staff_id, AccessRecord.actor, AccessRecord.action, func.count())
        .where(*_in(month))
        .group_by(AccessRecord.staff_id, AccessRecord.actor, AccessRecord.action)
    )
    by_staff: dict[tuple[int | None, str], dict[str, int]] = {}
    for staff_id, actor, action, n in db.session.execute(stmt):
        by_staff.setdefault((staff_id, actor), {})[action] = n
    rows = [
        StaffCounts(sid, actor, dict(sorted(a.items()))) for (sid, actor), a in by_staff.items()
    ]
    return sorted(rows, key=lambda r: (-r.total, r.actor))


# --- flags ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """Something the reviewer should look at: ``kind`` is ``many_customers``, ``denied``,
    ``night_login`` or ``new_ip``."""

    kind: str
    actor: str
    staff_id: int | None
    when: date | datetime | None
    count: int = 0
    ip: str = ""


def _many_customers(month: Month, limit: int) -> list[Flag]:
    day = _kst_day(db.session.get_bind().dialect.name)
    stmt = (
        select(
            AccessRecord.staff_id,
            AccessRecord.actor,
            day.label("day"),
            func.count(func.distinct(AccessRecord.customer_id)),
        )
        .where(*_in(month), AccessRecord.customer_id.is_not(None))
        .group_by(AccessRecord.staff_id, AccessRecord.actor, day)
        .having(func.count(func.distinct(AccessRecord.customer_id)) > limit)
        .order_by(day, AccessRecord.actor)
    )
    flags = []
    for staff_id, actor, when, n in db.session.execute(stmt):
        when = date.fromisoformat(when) if isinstance(when, str) else when
        flags.append(Flag("many_customers", actor, staff_id, when, count=n))
    return flags


def _denied(month: Month) -> list[Flag]:
    stmt = (
        select(
            AccessRecord.staff_id,
            AccessRecord.actor,
            func.count(),
            func.max(AccessRecord.created_at),
        )
        .where(*_in(month), AccessRecord.action == DENIED)
        .group_by(AccessRecord.staff_id, AccessRecord.actor)
        .order_by(AccessRecord.actor)
    )
    return [
        Flag("denied", actor, staff_id, _aware(last), count=n)
        for staff_id, actor, n, last in db.session.execute(stmt)
    ]


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates bypass the column type: SQLite's max() hands back naive UTC (or text).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _night_logins(month: Month) -> list[Flag]:
    # Staff sign in a few times a day: a month of sign-ins is small enough to look at the
    # hour in Python, which is the same on both engines.
    stmt = (
        select(AccessRecord.staff_id, AccessRecord.actor, AccessRecord.created_at, AccessRecord.ip)
        .where(*_in(month), AccessRecord.action == LOGIN)
        .order_by(AccessRecord.seq)
    )
    flags = []
    for staff_id, actor, created_at, ip in db.session.execute(stmt):
        hour = created_at.astimezone(KST).hour
        if hour >= NIGHT_STARTS or hour < NIGHT_ENDS:
            flags.append(Flag("night_login", actor, staff_id, created_at, ip=ip))
    return flags


def _new_ips(month: Month) -> list[Flag]:
    """Sign-ins this month from an IP the staff member had never signed in from before."""
    first = func.min(AccessRecord.created_at)
    stmt = (
        select(AccessRecord.staff_id, AccessRecord.actor, AccessRecord.ip, first)
        .where(
            AccessRecord.action == LOGIN,
            AccessRecord.staff_id.is_not(None),
            AccessRecord.created_at < month.end,
        )
        .group_by(AccessRecord.staff_id, AccessRecord.actor, AccessRecord.ip)
        .having(first >= month.start)
        .order_by(AccessRecord.actor, AccessRecord.ip)
    )
    return [
        Flag("new_ip", actor, staff_id, _aware(when), ip=ip)
        for staff_id, actor, ip, when in db.session.execute(stmt)
    ]


def flags(month: Month, *, daily_customers: int) -> list[Flag]:
    """Unusual activity in ``month``: more than ``daily_customers`` distinct customers in
    one KST day, refusals, sign-ins at night (KST 22–06) and from a new IP."""
    return [
        *_many_customers(month, daily_customers),
        *_denied(month),
        *_night_logins(month),
        *_new_ips(month),
    ]


# --- the records ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFilter:
    staff_id: int | None = None
    action: str | None = None
    customer_id: int | None = None


def records_page(month: Month, where: RecordFilter, *, page: int) -> Page:
    """One page of the month's records (oldest first, as they were chained)."""
    page = min(max(page, 1), MAX_PAGE)
    stmt = select(AccessRecord).where(*_in(month))
    if where.staff_id is not None:
        stmt = stmt.where(AccessRecord.staff_id == where.staff_id)
    if where.action:
        stmt = stmt.where(AccessRecord.action == where.action)
    if where.customer_id is not None:
        stmt = stmt.where(AccessRecord.customer_id == where.customer_id)
    stmt = stmt.order_by(AccessRecord.seq).limit(RECORDS_PER_PAGE + 1)
    rows = list(db.session.scalars(stmt.offset((page - 1) * RECORDS_PER_PAGE)))
    return Page(items=rows[:RECORDS_PER_PAGE], page=page, has_next=len(rows) > RECORDS_PER_PAGE)


def actions_in(month: Month) -> list[str]:
    """The actions recorded in ``month`` (for the filter's choices)."""
    stmt = select(AccessRecord.action).where(*_in(month)).distinct().order_by(AccessRecord.action)
    return list(db.session.scalars(stmt))


def last_sign_ins() -> dict[int, datetime]:
    """Each staff member's latest sign-in in the (kept) access log (one GROUP BY)."""
    stmt = (
        select(AccessRecord.staff_id, func.max(AccessRecord.created_at))
        .where(AccessRecord.action == LOGIN, AccessRecord.staff_id.is_not(None))
        .group_by(AccessRecord.staff_id)
    )
    return {staff_id: _aware(when) for staff_id, when in db.session.execute(stmt)}


# --- "month reviewed" -------------------------------------------------------------------

COMMENT_MAX = 2000


def review_of(month: Month) -> AccessReview | None:
    return db.session.scalars(select(AccessReview).where(AccessReview.month == month.label)).first()


def mark_reviewed(month: Month, *, staff_id: int, comment: str) -> AccessReview:
    """Record that ``month`` was reviewed, with the chain head now (once per month).

    The chain head is written down with the review so that a chain rewritten later no
    longer matches what the reviewer saw.

    :raises NotOver: the month has not ended yet (KST).
    :raises AlreadyReviewed: someone already marked it.
    :raises CommentTooLong: the comment is longer than ``COMMENT_MAX``.
    """
    if not month.is_over():
        raise NotOver(month.label)
    existing = review_of(month)
    if existing is not None:
        raise AlreadyReviewed(existing)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise CommentTooLong(COMMENT_MAX)
    seq, digest = chain_head()
    review = AccessReview(
        month=month.label,
        reviewed_by_id=staff_id,
        reviewed_at=utcnow(),
        comment=comment,
        chain_seq=seq,
        chain_hash=digest,
    )
    try:
        with db.session.begin_nested():
            db.session.add(review)
            db.session.flush()
    except IntegrityError:
        # Two reviewers at the same moment: the unique month keeps one.
        raise AlreadyReviewed(review_of(month) or review) from None
    return review
