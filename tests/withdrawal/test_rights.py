"""Rights requests (policy §7): deletion of an item, 처리정지, consent withdrawal, each with
the 10-day answer deadline, visible with its status, cancellable while open, answered by staff."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from sqlalchemy import select

from portal.extensions import db as _db
from portal.withdrawal.models import RightsRequest
from tests.conftest import post_form


def _rows() -> list[RightsRequest]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(RightsRequest).order_by(RightsRequest.id)))


def test_submit_see_cancel_with_the_ten_day_deadline(auth, customer, client):
    # 23:30 in Seoul is still the 25th there (14:30 UTC): the deadline counts KST days.
    with time_machine.travel("2026-12-25 23:30:00+09:00", tick=False):
        auth.login(customer)
        response = post_form(
            client, "/account/rights", {"kind": "suspension", "detail": "마케팅 목적 처리 정지"}
        )
        assert response.status_code == 302
        (row,) = _rows()
        assert row.kind == "suspension" and row.status == "open"
        assert row.due_on == date(2026, 12, 25) + timedelta(days=10)
        html = client.get("/account/rights").get_data(as_text=True)
        assert "마케팅 목적 처리 정지" in html and "2027-01-04" in html
        assert 'data-status="open"' in html
        url = f"/account/rights/{row.id}/cancel"
        response = post_form(client, url, {}, page="/account/rights")
        assert response.status_code == 302
        assert _rows()[0].status == "cancelled"
        # Again: a message, no error, nothing changes.
        response = post_form(client, url, {}, page="/account/rights")
        assert response.status_code == 302 and _rows()[0].status == "cancelled"


def test_bad_input_is_refused_with_messages(auth, customer, client):
    auth.login(customer)
    response = post_form(client, "/account/rights", {"kind": "everything", "detail": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="e-kind"' in html and 'id="e-detail"' in html
    assert _rows() == []


def test_another_customers_request_is_404(auth, customer, make_customer, client):
    other = make_customer(login_id="someone_else")
    _db.session.add(
        RightsRequest(customer_id=other.id, kind="deletion", detail="x", due_on=date.today())
    )
    _db.session.commit()
    auth.login(customer)
    (row,) = _rows()
    response = post_form(client, f"/account/rights/{row.id}/cancel", {}, page="/account/rights")
    assert response.status_code == 404
    assert _rows()[0].status == "open"


def test_staff_list_and_answer(auth, customer, client, runner):
    auth.login(customer)
    post_form(client, "/account/rights", {"kind": "deletion", "detail": "주소 삭제"})
    (row,) = _rows()
    listed = runner.invoke(args=["rights", "list"])
    assert listed.exit_code == 0 and customer.login_id in listed.output
    result = runner.invoke(args=["rights", "answer", str(row.id), "--body", "삭제했습니다"])
    assert result.exit_code == 0, result.output
    assert _rows()[0].status == "answered"
    assert "삭제했습니다" in client.get("/account/rights").get_data(as_text=True)
    again = runner.invoke(args=["rights", "answer", str(row.id), "--body", "또"])
    assert again.exit_code != 0 and "Traceback" not in again.output
    missing = runner.invoke(args=["rights", "answer", "999", "--body", "x"])
    assert missing.exit_code != 0
    empty = runner.invoke(args=["rights", "answer", str(row.id), "--body", " "])
    assert empty.exit_code != 0
