"""portal.pagination and the pager the customer's lists share."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from portal.audit.models import SecurityEvent
from portal.audit.services import EVENTS_PER_PAGE, record_event
from portal.pagination import MAX_PAGE, paginate, parse_page


@pytest.mark.parametrize(
    ("raw", "page"),
    [
        (None, 1),
        ("", 1),
        ("1", 1),
        ("3", 3),
        (" 3 ", 3),
        ("0", 1),
        ("-2", 1),
        ("abc", 1),
        ("2.5", 1),
        ("1e3", 1),
        (str(MAX_PAGE), MAX_PAGE),
        (str(MAX_PAGE + 1), MAX_PAGE),
        ("99999999999999999999", MAX_PAGE),
        ("9" * 5000, 1),  # past Python's int-parsing limit: not a number
    ],
)
def test_parse_page(raw, page):
    assert parse_page(raw) == page


def _events(db, customer_id: int, n: int) -> None:
    db.session.execute(delete(SecurityEvent).where(SecurityEvent.customer_id == customer_id))
    for _ in range(n):
        record_event("logout", customer_id=customer_id)
    db.session.commit()


def _stmt(customer_id: int):
    return (
        select(SecurityEvent)
        .where(SecurityEvent.customer_id == customer_id)
        .order_by(SecurityEvent.id)
    )


def test_paginate_knows_the_next_page_without_counting(app, db, customer):
    _events(db, customer.id, 5)
    ids = [e.id for e in db.session.scalars(_stmt(customer.id))]
    first = paginate(_stmt(customer.id), page=1, per_page=2)
    assert [e.id for e in first.items] == ids[:2] and first.has_next and not first.has_prev
    last = paginate(_stmt(customer.id), page=3, per_page=2)
    assert [e.id for e in last.items] == ids[4:] and not last.has_next and last.has_prev
    # Exactly full last page: the extra row is what says "no next page", not the page size.
    full = paginate(_stmt(customer.id), page=1, per_page=5)
    assert len(full.items) == 5 and not full.has_next
    past = paginate(_stmt(customer.id), page=9, per_page=2)
    assert past.items == [] and not past.has_next and past.page == 9
    assert paginate(_stmt(customer.id), page=0, per_page=2).page == 1


def test_history_pager_follows_the_rows_not_a_guess(client, auth, db, customer):
    auth.login(customer)
    _events(db, customer.id, EVENTS_PER_PAGE)  # exactly one full page
    html = client.get("/account/history").get_data(as_text=True)
    assert html.count("<tr><td data-label=") == EVENTS_PER_PAGE
    assert 'class="pager"' not in html and "/account/history?page=2" not in html

    _events(db, customer.id, EVENTS_PER_PAGE + 1)
    html = client.get("/account/history").get_data(as_text=True)
    assert '<a href="/account/history?page=2">다음</a>' in html and "1쪽" in html
    html = client.get("/account/history?page=2").get_data(as_text=True)
    assert html.count("<tr><td data-label=") == 1
    assert '<a href="/account/history?page=1">이전</a>' in html and "2쪽" in html
    assert "?page=3" not in html
