"""The correction queue: review, approve (with notification tasks) or reject, mark notified."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from portal.account.corrections import request_correction
from portal.account.disclosures import record_disclosure
from portal.admin.models import StaffSession
from portal.customers.models import CorrectionNotice, CorrectionRequest, Customer
from portal.dbtypes import utcnow
from portal.extensions import db
from tests.admin.queue_helpers import assert_no_values, fields_of, post_from, records
from tests.conftest import AuthActions

OLD_NAME = "홍길동"
NEW_NAME = "홍길순"


@pytest.fixture
def request_row(make_customer):
    """A customer whose name went to the police once, now asking to correct it."""
    demo = make_customer(login_id="fix_me")
    customer = db.session.get(Customer, demo.id)
    record_disclosure(
        customer,
        recipient="서울중부경찰서",
        legal_basis="형사소송법 제199조",
        items="name,phone",
        disclosed_on=date.today() - timedelta(days=30),
    )
    row = request_correction(
        customer, field="name", value=NEW_NAME, reason="개명 신고를 마쳤습니다"
    )
    db.session.commit()
    demo.extra["correction_id"] = row.id
    return demo


@pytest.fixture
def officer(make_staff, staff_auth):
    staff = make_staff("privacy_officer", login_id="priv_park")
    staff_auth.login(staff)
    return staff


def _page(demo) -> str:
    return f"/admin/corrections/{demo.extra['correction_id']}"


def _row(demo) -> CorrectionRequest:
    db.session.expire_all()
    return db.session.get(CorrectionRequest, demo.extra["correction_id"])


def test_queue_and_detail(client, officer, request_row):
    html = client.get("/admin/corrections").get_data(as_text=True)
    assert f'href="{_page(request_row)}"' in html and "성명" in html
    assert "fix_me" not in html  # masked in lists
    assert "정정 신청 (1)" in client.get("/admin/").get_data(as_text=True)
    detail = client.get(_page(request_row)).get_data(as_text=True)
    assert OLD_NAME in detail and NEW_NAME in detail and "개명 신고를 마쳤습니다" in detail
    [view] = records("priv_park", "view")
    assert view.customer_id == request_row.id and fields_of(view) == {"login_id", "name"}
    assert_no_values(OLD_NAME, NEW_NAME, "fix_me")


def test_approve_applies_and_opens_a_notice_task_marked_done(client, app, officer, request_row):
    response = post_from(client, _page(request_row), _page(request_row) + "/approve", {})
    assert response.status_code == 302
    assert _row(request_row).status == "approved"
    assert db.session.get(Customer, request_row.id).name == NEW_NAME
    notice = db.session.scalars(select(CorrectionNotice)).one()
    assert notice.recipient == "서울중부경찰서" and notice.notified_at is None
    # Approved but someone to tell: the "notify" view lists it.
    pending = client.get("/admin/corrections?view=notify").get_data(as_text=True)
    assert f'href="{_page(request_row)}"' in pending and "1 / 1 남음" in pending
    assert f'href="{_page(request_row)}"' not in client.get("/admin/corrections").get_data(
        as_text=True
    )
    done = post_from(client, _page(request_row), f"/admin/corrections/notices/{notice.id}/done", {})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(CorrectionNotice, notice.id).notified_at is not None
    again = post_from(
        client, _page(request_row), f"/admin/corrections/notices/{notice.id}/done", {}
    )
    assert again.status_code == 302
    assert "이미 통지 완료로 표시된 작업입니다" in client.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert "서울중부경찰서" not in client.get("/admin/corrections?view=notify").get_data(
        as_text=True
    )
    for action in ("correction_approve", "correction_notified"):
        [row] = records("priv_park", action)
        assert row.customer_id == request_row.id and fields_of(row) == {"name"}
    assert_no_values(OLD_NAME, NEW_NAME, "서울중부경찰서")
    # The customer sees the notice done on their page.
    customer = app.test_client()
    AuthActions(customer).login(request_row)
    assert "통지 완료" in customer.get("/account/corrections").get_data(as_text=True)


def test_approve_needs_a_recent_password(client, officer, request_row):
    db.session.execute(
        update(StaffSession).values(authenticated_at=utcnow() - timedelta(minutes=10))
    )
    db.session.commit()
    response = post_from(client, _page(request_row), _page(request_row) + "/approve", {})
    assert response.status_code == 302 and "/admin/reauth" in response.headers["Location"]
    assert _row(request_row).status == "open"
    post_from(
        client,
        "/admin/reauth",
        "/admin/reauth",
        {"password": officer.password, "next": _page(request_row)},
    )
    response = post_from(client, _page(request_row), _page(request_row) + "/approve", {})
    assert response.status_code == 302
    assert _row(request_row).status == "approved"


def test_reject_needs_a_reason_and_the_customer_reads_it(client, app, officer, request_row):
    empty = post_from(client, _page(request_row), _page(request_row) + "/reject", {"reason": ""})
    assert empty.status_code == 400
    assert "반려 사유를 입력해 주세요." in empty.get_data(as_text=True)
    assert _row(request_row).status == "open"
    reason = "가족관계증명서를 보내 주세요."
    response = post_from(
        client, _page(request_row), _page(request_row) + "/reject", {"reason": reason}
    )
    assert response.status_code == 302
    row = _row(request_row)
    assert (row.status, row.resolution_note) == ("rejected", reason)
    assert db.session.get(Customer, request_row.id).name == OLD_NAME
    [log] = records("priv_park", "correction_reject")
    assert log.customer_id == request_row.id and fields_of(log) == {"name"}
    # Deciding twice: a clear message.
    twice = post_from(client, _page(request_row), _page(request_row) + "/approve", {})
    assert twice.status_code == 409
    assert "이미 처리된 정정 신청입니다." in twice.get_data(as_text=True)
    customer = app.test_client()
    AuthActions(customer).login(request_row)
    assert reason in customer.get("/account/corrections").get_data(as_text=True)


def test_billing_is_refused_and_logged(client, make_staff, staff_auth, request_row):
    staff_auth.login(make_staff("billing", login_id="bill_kim"))
    assert client.get("/admin/corrections").status_code == 403
    assert client.get(_page(request_row)).status_code == 403
    response = post_from(client, "/admin/", _page(request_row) + "/approve", {})
    assert response.status_code == 403
    assert _row(request_row).status == "open"
    assert len(records("bill_kim", "denied")) == 3


def test_approve_without_csrf_changes_nothing(client, officer, request_row):
    assert client.post(_page(request_row) + "/approve").status_code == 400
    assert _row(request_row).status == "open"


def test_unknown_ids_are_404(client, officer):
    assert client.get("/admin/corrections/999999").status_code == 404
    assert post_from(client, "/admin/", "/admin/corrections/999999/approve", {}).status_code == 404
    response = post_from(client, "/admin/", "/admin/corrections/notices/999999/done", {})
    assert response.status_code == 302  # a message on the queue, as the command says
