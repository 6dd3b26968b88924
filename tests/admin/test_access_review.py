"""The monthly access-log review: counts, flags, the records, "month reviewed" once a month."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import func, select

from portal.audit.access import chain_head, record_access
from portal.audit.models import AccessRecord, AccessReview
from portal.dbtypes import KST
from portal.extensions import db
from tests.conftest import post_form

VIEWED_AT = datetime(2026, 3, 5, 12, 0, tzinfo=KST)


def kst(*args) -> datetime:
    return datetime(*args, tzinfo=KST)


@pytest.fixture
def config(config):
    config.RATELIMIT_LOGIN = "1000 per minute"
    config.PORTAL_ACCESS_REVIEW_DAILY_CUSTOMERS = 2
    return config


def _write(app, when: datetime, staff, action: str, *, customer_id=None, ip="10.0.0.1", n=1):
    with (
        time_machine.travel(when, tick=False),
        app.test_request_context(environ_base={"REMOTE_ADDR": ip}),
    ):
        for _ in range(n):
            record_access(
                staff_id=staff.id,
                actor=staff.login_id,
                action=action,
                customer_id=customer_id,
                fields=["name"] if customer_id else [],
            )
        db.session.commit()


@pytest.fixture
def seeded(app, make_staff):
    """February 2026 (KST) for two staff members, plus a record either side of it."""
    with time_machine.travel(kst(2026, 1, 2, 9, 0), tick=False):
        clerk = make_staff("support", login_id="clerk")
        other = make_staff("billing", login_id="other")
        officer = make_staff("privacy_officer", login_id="officer")
    _write(app, kst(2026, 1, 20, 10, 0), clerk, "login")
    _write(app, kst(2026, 1, 31, 23, 59), clerk, "customer_view", customer_id=9)
    _write(app, kst(2026, 2, 10, 14, 0), clerk, "login")
    _write(app, kst(2026, 2, 10, 14, 5), clerk, "customer_view", customer_id=1, n=2)
    _write(app, kst(2026, 2, 10, 14, 6), clerk, "customer_view", customer_id=2)
    _write(app, kst(2026, 2, 10, 23, 50), clerk, "customer_view", customer_id=3)
    _write(app, kst(2026, 2, 10, 15, 0), clerk, "customer_search")
    _write(app, kst(2026, 2, 11, 23, 30), clerk, "login", ip="10.0.0.2")
    _write(app, kst(2026, 2, 12, 9, 0), clerk, "denied", n=2)
    # 2026-02-11 00:10 KST is another day: clerk's first day stays at three customers.
    _write(app, kst(2026, 2, 11, 0, 10), clerk, "customer_view", customer_id=4)
    _write(app, kst(2026, 2, 10, 10, 0), other, "customer_view", customer_id=1)
    _write(app, kst(2026, 3, 1, 0, 0), other, "customer_view", customer_id=5)
    return clerk, other, officer


@pytest.fixture
def officer_client(app, client, staff_auth, seeded):
    traveller = time_machine.travel(VIEWED_AT, tick=True)
    traveller.start()
    staff_auth.login(seeded[2])
    yield client
    traveller.stop()


def _row(html: str, actor: str) -> str:
    match = re.search(rf"<tr>\s*<td>(?:<a [^>]*>)?{actor}(?:</a>)?</td>.*?</tr>", html, re.S)
    assert match, actor
    return match.group(0)


def test_review_page_counts_and_flags_last_month(officer_client, seeded):
    page = officer_client.get("/admin/access-log")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2026-02" in html
    counts = html.split('id="counts"')[1].split('id="flags"')[0]
    clerk_row = _row(counts, "clerk")
    assert "<td>10</td>" in clerk_row
    assert 'data-action="customer_view">customer_view 5' in clerk_row
    assert 'data-action="login">login 2' in clerk_row
    assert 'data-action="denied">denied 2' in clerk_row
    assert "<td>1</td>" in _row(counts, "other")
    assert "officer" not in counts  # signed in during March

    flags = html.split('id="flags"')[1].split('id="review"')[0]
    many = re.findall(r'<tr class="flag flag-many_customers">(.*?)</tr>', flags, re.S)
    assert len(many) == 1 and "clerk" in many[0] and "2026-02-10" in many[0]
    assert "고객 3명" in many[0]
    denied = re.findall(r'<tr class="flag flag-denied">(.*?)</tr>', flags, re.S)
    assert len(denied) == 1 and "2회" in denied[0]
    night = re.findall(r'<tr class="flag flag-night_login">(.*?)</tr>', flags, re.S)
    assert len(night) == 1 and "2026-02-11 23:30" in night[0]
    new_ip = re.findall(r'<tr class="flag flag-new_ip">(.*?)</tr>', flags, re.S)
    assert len(new_ip) == 1 and "10.0.0.2" in new_ip[0]

    assert "이상 없음" in html  # the chain verifies
    db.session.expire_all()
    logged = db.session.scalars(
        select(AccessRecord).where(
            AccessRecord.actor == "officer", AccessRecord.action == "access_log_view"
        )
    ).all()
    assert len(logged) == 1 and logged[0].customer_id is None


def test_an_earlier_month_and_bad_months(officer_client):
    january = officer_client.get("/admin/access-log?month=2026-01")
    html = january.get_data(as_text=True)
    assert january.status_code == 200 and "customer_view 1" in html
    for bad in ("2026-13", "26-02", "2031-01", "x" * 300):
        response = officer_client.get(f"/admin/access-log?month={bad}")
        assert response.status_code == 400, bad
        assert "월은 YYYY-MM 형식" in response.get_data(as_text=True)


def test_records_drill_down_filters_and_is_logged(officer_client, seeded):
    clerk = seeded[0]
    response = officer_client.get("/admin/access-log/records?month=2026-02&customer_id=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = re.findall(r"<tr><td>\d+</td>.*?</tr>", html, re.S)
    assert len(rows) == 3
    by_staff = officer_client.get(
        f"/admin/access-log/records?month=2026-02&staff_id={clerk.id}&action=login"
    )
    assert len(re.findall(r"<tr><td>\d+</td>", by_staff.get_data(as_text=True))) == 2
    bad = officer_client.get("/admin/access-log/records?month=2026-02&customer_id=abc")
    assert bad.status_code == 400 and "숫자로 입력해 주세요." in bad.get_data(as_text=True)
    db.session.expire_all()
    logged = db.session.scalars(
        select(AccessRecord)
        .where(AccessRecord.actor == "officer", AccessRecord.action == "access_log_view")
        .order_by(AccessRecord.seq)
    ).all()
    # The refused filter still showed a page of records (400, rolled back): logged too.
    assert [r.customer_id for r in logged] == [1, None, None]
    assert logged[0].fields == "customer_id,records"


def test_month_reviewed_is_saved_once(officer_client, seeded):
    officer = seeded[2]
    response = post_form(
        officer_client,
        "/admin/access-log/reviewed",
        {"month": "2026-02", "comment": "야간 로그인 본인 확인함"},
        page="/admin/access-log?month=2026-02",
    )
    assert response.status_code == 302
    db.session.expire_all()
    review = db.session.scalars(select(AccessReview)).one()
    assert review.month == "2026-02" and review.reviewed_by_id == officer.id
    assert review.comment == "야간 로그인 본인 확인함"
    # The head when it was saved (the page view before it is in the chain too).
    assert review.chain_seq <= chain_head()[0] and len(review.chain_hash) == 64
    page = officer_client.get("/admin/access-log?month=2026-02").get_data(as_text=True)
    assert "점검 완료" in page and "야간 로그인 본인 확인함" in page
    again = post_form(
        officer_client,
        "/admin/access-log/reviewed",
        {"month": "2026-02", "comment": "두 번째"},
        page="/admin/access-log?month=2026-01",
    )
    assert again.status_code == 400
    assert "이미 점검 완료로 기록되었습니다" in again.get_data(as_text=True)
    current = post_form(
        officer_client,
        "/admin/access-log/reviewed",
        {"month": "2026-03", "comment": ""},
        page="/admin/access-log?month=2026-01",
    )
    assert current.status_code == 400
    assert "끝나지 않은 달" in current.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AccessReview)) == 1


def test_review_needs_the_csrf_token(officer_client):
    response = officer_client.post("/admin/access-log/reviewed", data={"month": "2026-02"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(AccessReview)) == 0


@pytest.mark.parametrize("role", ["support", "billing"])
def test_other_roles_cannot_review(client, staff_auth, make_staff, role):
    staff = make_staff(role)
    staff_auth.login(staff)
    for path in ("/admin/access-log", "/admin/access-log/records"):
        assert client.get(path).status_code == 403
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AccessRecord)
            .where(AccessRecord.actor == staff.login_id, AccessRecord.action == "denied")
        )
        == 2
    )
