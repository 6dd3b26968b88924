"""One page of a list, and the page number a query string asks for.

Lists that only go back and forth (a customer's history, inquiries, disclosures) need no
COUNT: :func:`paginate` fetches one row more than a page holds, and that row tells whether a
next page exists. ``templates/_macros/pager.html`` draws the links from ``page`` and
``has_next``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select

from portal.extensions import db

# Far past any real list; it keeps the OFFSET a query string can ask for bounded.
MAX_PAGE = 10_000

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """The rows of page ``page`` (1-based) and whether another page follows."""

    items: list[T]
    page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def parse_page(raw: str | None) -> int:
    """The page number of a query string: 1 when absent or not a whole number, else the
    number clamped to 1..MAX_PAGE (a list past its end is simply empty)."""
    try:
        page = int(raw) if raw is not None else 1
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGE)


def paginate(stmt: Select, *, page: int, per_page: int) -> Page:
    """Page ``page`` of ``stmt``'s rows (``stmt`` must be ordered, for stable pages)."""
    page = min(max(page, 1), MAX_PAGE)
    rows = list(db.session.scalars(stmt.limit(per_page + 1).offset((page - 1) * per_page)))
    return Page(items=rows[:per_page], page=page, has_next=len(rows) > per_page)


def paginate_rows(stmt: Select, *, page: int, per_page: int) -> Page:
    """:func:`paginate` for a statement of several columns: the items are row tuples
    (an entity and the columns joined to it, such as a request and its login ID)."""
    page = min(max(page, 1), MAX_PAGE)
    result = db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page))
    rows = [tuple(row) for row in result]
    return Page(items=rows[:per_page], page=page, has_next=len(rows) > per_page)
