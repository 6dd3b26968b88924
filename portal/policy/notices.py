"""The notices board (공지사항) and the home page's popups.

This module owns what a notice is allowed to be (the title and body rules, shared with policy
announcements), when it shows (published, pinned until a KST date, popup until a KST date)
and how the board is paged. A notice whose publication time lies ahead (a policy revision
announced for a later day) stays invisible everywhere until then. "오늘 하루 이 창을 열지 않음"
is a cookie per popup that expires at the next midnight in Seoul, so hiding a popup needs no
account and no server state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, literal, select, union_all

from portal import pagecache
from portal.dbtypes import kst_today, utcnow
from portal.extensions import db
from portal.pagination import Page as PagerPage
from portal.pagination import paginate
from portal.policy.errors import (
    BodyRequired,
    BodyTooLong,
    EndDateInPast,
    PageNotFound,
    TitleRequired,
)
from portal.policy.models import Notice

NOTICES_PER_PAGE = 20
# The newest notices listed on the home page and the dashboard.
LATEST_NOTICES = 5
# The pager links to this many pages either side of the current one.
PAGER_SPAN = 4
MAX_POPUPS = 3
MAX_BODY_CHARS = 100_000
# "Pinned until further notice" (``flask notices post --pinned`` without an end date).
PINNED_INDEFINITELY = date(9999, 12, 31)
HIDE_COOKIE_PREFIX = "notice_hidden_"


def check_text(title: str, body_md: str) -> None:
    """The rules for a notice's (and a policy version's) title and Markdown body.

    :raises TitleRequired: empty or longer than 200 characters.
    :raises BodyRequired: empty or only whitespace.
    :raises BodyTooLong: longer than ``MAX_BODY_CHARS``.
    """
    if not title or len(title) > 200:
        raise TitleRequired()
    if not (body_md or "").strip():
        raise BodyRequired()
    if len(body_md) > MAX_BODY_CHARS:
        raise BodyTooLong(MAX_BODY_CHARS)


def post_notice(
    *,
    title: str,
    body_md: str,
    pinned_until: date | None = None,
    popup: bool = False,
    popup_until: date | None = None,
    author: str = "",
) -> Notice:
    """Publish a notice on the board now.

    :raises TitleRequired: empty or too long title.
    :raises BodyRequired: empty body.
    :raises BodyTooLong: body over ``MAX_BODY_CHARS``.
    :raises EndDateInPast: ``pinned_until`` or ``popup_until`` is before today (KST).
    """
    title = " ".join((title or "").split())
    check_text(title, body_md)
    today = kst_today()
    for until in (pinned_until, popup_until):
        if until is not None and until < today:
            raise EndDateInPast()
    notice = Notice(
        title=title,
        body_md=body_md,
        published_at=utcnow(),
        pinned_until=pinned_until,
        popup=popup,
        popup_until=popup_until if popup else None,
        author=author,
    )
    db.session.add(notice)
    db.session.flush()
    return notice


def published():
    """The SQL condition "its publication time has come" (scheduled notices stay hidden)."""
    return Notice.published_at <= utcnow()


def _is_pinned(today: date):
    return Notice.pinned_until.is_not(None) & (Notice.pinned_until >= today)


@dataclass(frozen=True)
class NoticeHead:
    """What a list of the newest notices shows of each: kept across requests, so no ORM row."""

    id: int
    title: str
    published_at: datetime


def latest_notice_heads(*, limit: int = LATEST_NOTICES) -> tuple[NoticeHead, ...]:
    """The newest published notices, for the home page and the dashboard.

    Public content: read once per content version and worker (:mod:`portal.pagecache`; a
    new notice bumps the version, a scheduled one bumps it when its time comes), so a
    signed-in page pays no query for it.
    """
    return pagecache.remembered(f"latest_notices:{limit}", lambda: _latest_notice_heads(limit))


def _latest_notice_heads(limit: int) -> tuple[NoticeHead, ...]:
    stmt = (
        select(Notice.id, Notice.title, Notice.published_at)
        .where(published())
        .order_by(Notice.published_at.desc(), Notice.id.desc())
        .limit(limit)
    )
    return tuple(NoticeHead(*row) for row in db.session.execute(stmt))


def notice_by_id(notice_id: int) -> Notice | None:
    """A published notice, or None (unknown, or scheduled for later)."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.published_at > utcnow():
        return None
    return notice


def is_pinned(notice: Notice) -> bool:
    """Whether ``notice`` is pinned today (KST)."""
    return notice.pinned_until is not None and notice.pinned_until >= kst_today()


@dataclass(frozen=True)
class Page:
    items: list[Notice]
    page: int
    pages: int
    # The items pinned today (KST), shown with the "중요" badge.
    pinned_ids: frozenset[int] = frozenset()

    @property
    def numbers(self) -> range:
        """The page numbers the pager links to: up to ``PAGER_SPAN`` either side."""
        return range(max(1, self.page - PAGER_SPAN), min(self.pages, self.page + PAGER_SPAN) + 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def parse_page(raw: str | None) -> int:
    """Page numbers from a query string: 1 when absent, else a positive integer.

    :raises PageNotFound: not a positive integer of at most 9 digits.
    """
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise PageNotFound(raw)
    return int(raw)


def _published_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Notice).where(published())) or 0


def notices_page(page: int) -> Page:
    """One page of the board: pinned notices first, then newest first.

    :raises PageNotFound: ``page`` is past the last page (page 1 always exists).
    """
    today = kst_today()
    # Counted once per content version and worker (a new or scheduled notice bumps it), not
    # per request: counting reads every published notice.
    total = pagecache.remembered("published_notices", _published_count)
    pages = max(1, -(-total // NOTICES_PER_PAGE))
    if page < 1 or page > pages:
        raise PageNotFound(str(page))
    items = list(db.session.scalars(_board_page_query(today, page)))
    pinned_ids = frozenset(
        notice.id
        for notice in items
        if notice.pinned_until is not None and notice.pinned_until >= today
    )
    return Page(items=items, page=page, pages=pages, pinned_ids=pinned_ids)


def _board_page_query(today: date, page: int):
    """The page's notices, pinned first, then newest first, in one statement.

    Sorting every notice by "pinned today" cannot use an index (the day changes): it read
    and sorted the whole table for each page. Instead each group is read newest first
    along ix_notices_published_at (the pinned ones, few, through ix_notices_pinned_until)
    and cut at the end of the page, and only those rows are sorted.
    """
    offset = (page - 1) * NOTICES_PER_PAGE
    newest_first = (Notice.published_at.desc(), Notice.id.desc())
    pinned = _is_pinned(today)
    # Each group as a subquery of its own: SQLite takes ORDER BY/LIMIT only there.
    groups = [
        select(
            select(Notice.id, Notice.published_at, literal(rank).label("rank"))
            .where(published(), condition)
            .order_by(*newest_first)
            .limit(offset + NOTICES_PER_PAGE)
            .subquery()
        )
        for rank, condition in ((0, pinned), (1, ~pinned))
    ]
    both = union_all(*groups).subquery()
    order = (both.c.rank, both.c.published_at.desc(), both.c.id.desc())
    # The page is cut from the ids before whole rows are read: a deep page joins its 20.
    page_rows = select(both).order_by(*order).offset(offset).limit(NOTICES_PER_PAGE).subquery()
    return (
        select(Notice)
        .join(page_rows, page_rows.c.id == Notice.id)
        .order_by(page_rows.c.rank, page_rows.c.published_at.desc(), page_rows.c.id.desc())
    )


def staff_notices_page(page: int, *, per_page: int = NOTICES_PER_PAGE) -> PagerPage:
    """Every notice for the back office, scheduled ones included, newest first."""
    stmt = select(Notice).order_by(Notice.published_at.desc(), Notice.id.desc())
    return paginate(stmt, page=page, per_page=per_page)


def hide_cookie_name(notice_id: int) -> str:
    """The cookie that hides popup ``notice_id`` for the rest of the KST day."""
    return f"{HIDE_COOKIE_PREFIX}{int(notice_id)}"


def active_popups(hidden: set[int] | None = None) -> list[Notice]:
    """Popup notices for the home page, minus those hidden today by cookie."""
    today = kst_today()
    stmt = (
        select(Notice)
        .where(
            published(),
            Notice.popup.is_(True),
            Notice.popup_until.is_(None) | (Notice.popup_until >= today),
        )
        .order_by(Notice.published_at.desc(), Notice.id.desc())
        .limit(MAX_POPUPS + len(hidden or ()))
    )
    shown = [n for n in db.session.scalars(stmt) if n.id not in (hidden or set())]
    return shown[:MAX_POPUPS]


def hidden_popup_ids(cookies) -> set[int]:
    """Notice ids hidden today, from the request cookies."""
    hidden: set[int] = set()
    for name, value in cookies.items():
        if name.startswith(HIDE_COOKIE_PREFIX) and value == "1":
            suffix = name[len(HIDE_COOKIE_PREFIX) :]
            if suffix.isascii() and suffix.isdigit() and len(suffix) < 12:
                hidden.add(int(suffix))
    return hidden
