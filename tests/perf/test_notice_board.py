"""The notice board reads a page, not the table (issue #15).

Pinned-first used to be an ``ORDER BY CASE …`` over every notice: a sequential scan and a
sort of the whole table for each page. The board now reads each group newest first along
the indexes and cuts it at the page's end. Checked on PostgreSQL with the planner's own
account (``EXPLAIN ANALYZE``), on both databases for the order.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import event, insert, text

from portal import pagecache
from portal.dbtypes import utcnow
from portal.policy import notices
from portal.policy.models import Notice

TOTAL = 10_000
PINNED = (17, 1234, 9999)  # positions (0 = newest) of the notices pinned today


@pytest.fixture
def board(app, db):
    now = utcnow()
    rows = [
        {
            "title": f"공지{i}",
            "body_md": "공지 본문입니다. " * 30,  # a short notice's size
            "published_at": now - timedelta(minutes=i + 1),
            "popup": False,
            "pinned_until": (
                date(2099, 1, 1)
                if i in PINNED
                else date(2020, 1, 1)  # pinned once, not any more
                if i % 7 == 0
                else None
            ),
            "author": "",
        }
        for i in range(TOTAL)
    ]
    db.session.execute(insert(Notice), rows)
    # One scheduled for tomorrow: on no page.
    db.session.execute(
        insert(Notice),
        [{"title": "예약", "body_md": "b", "published_at": now + timedelta(days=1), "author": ""}],
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE notices"
            )
    return rows


def _titles(page: int) -> list[str]:
    return [n.title for n in notices.notices_page(page).items]


def test_pages_list_pinned_first_then_newest(board):
    expected = [f"공지{i}" for i in PINNED] + [f"공지{i}" for i in range(TOTAL) if i not in PINNED]
    per = notices.NOTICES_PER_PAGE
    for page in (1, 2, 75, 150):
        assert _titles(page) == expected[(page - 1) * per : page * per], page
    result = notices.notices_page(1)
    assert result.pages == TOTAL // per
    assert result.pinned_ids == {n.id for n in result.items[: len(PINNED)]}


def _plans(db, run) -> list[dict]:
    """EXPLAIN ANALYZE of every statement ``run`` sends."""
    sent: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    db.session.rollback()
    plans = []
    with db.engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        for statement, parameters in sent:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
            plans.append(plan[0]["Plan"] if isinstance(plan, list) else json.loads(plan)[0])
        conn.rollback()
    return plans


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


@pytest.mark.parametrize("page", [1, 3])
def test_board_page_reads_the_page_not_the_table(app, db, board, database, page):
    if database[0] != "postgresql":
        pytest.skip("the planner's account is PostgreSQL's")
    # A cold worker: the page count is remembered per content version (pagecache), so the
    # first call sends it; the content version's own read touches no notice.
    pagecache.forget(app)
    plans = [
        plan
        for plan in _plans(db, lambda: notices.notices_page(page))
        if any(n.get("Relation Name") == "notices" for n in _nodes(plan))
    ]
    count_plan, page_plan = plans
    on_notices = [n for n in _nodes(page_plan) if n.get("Relation Name") == "notices"]
    assert on_notices
    assert not [n for n in on_notices if n["Node Type"] == "Seq Scan"], [
        (n["Node Type"], n.get("Index Name"), n.get("Filter"), n["Actual Rows"]) for n in on_notices
    ]
    # Rows taken from the table: each group up to the page's end, then the page itself.
    read = sum(n["Actual Rows"] * n["Actual Loops"] for n in on_notices)
    assert read <= 3 * page * notices.NOTICES_PER_PAGE + len(PINNED), read
    # The pager's count is answered by the index on published_at alone.
    count_scans = [n for n in _nodes(count_plan) if n.get("Relation Name") == "notices"]
    assert [n["Node Type"] for n in count_scans] == ["Index Only Scan"], count_plan


def test_home_popups_and_latest_read_few_rows(app, db, board, database):
    if database[0] != "postgresql":
        pytest.skip("the planner's account is PostgreSQL's")
    db.session.execute(text("UPDATE notices SET popup = true WHERE title IN ('공지3', '공지9')"))
    db.session.commit()
    for plan in _plans(
        db, lambda: (notices._latest_notice_heads(notices.LATEST_NOTICES), notices.active_popups())
    ):
        on_notices = [n for n in _nodes(plan) if n.get("Relation Name") == "notices"]
        assert not [n for n in on_notices if n["Node Type"] == "Seq Scan"], plan
        assert sum(n["Actual Rows"] for n in on_notices) <= 20, plan
