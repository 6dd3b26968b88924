"""Correction requests: request, freeze while open, staff approve/reject, notify recipients."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.account.corrections import (
    approve_correction,
    reject_correction,
    request_correction,
)
from portal.account.disclosures import record_disclosure
from portal.account.errors import CorrectionAlreadyOpen, CorrectionNotOpen
from portal.account.messages import message_for
from portal.account.services import field_sources
from portal.audit.models import SecurityEvent
from portal.customers.errors import UnderCorrection, ValidationFailed
from portal.customers.models import CorrectionNotice, CorrectionRequest, Customer
from portal.customers.services import ensure_not_under_correction
from tests.account.conftest import fresh
from tests.conftest import post_form

URL = "/account/corrections"


def _customer(db, demo) -> Customer:
    return db.session.get(Customer, demo.id)


# --- service -------------------------------------------------------------------------


def test_request_opens_one_per_field(app, db, customer):
    row = _customer(db, customer)
    req = request_correction(row, field="name", value=" 홍길순 ", reason="개명")
    db.session.commit()
    assert (req.status, req.new_value, req.open_field) == ("open", "홍길순", "name")
    with pytest.raises(CorrectionAlreadyOpen):
        request_correction(row, field="name", value="홍길자", reason="다시")
    db.session.rollback()
    # Another field is independent.
    request_correction(row, field="birth_date", value="1990-01-02", reason="오기")
    db.session.commit()
    kinds = db.session.scalars(
        select(SecurityEvent.detail).where(SecurityEvent.kind == "correction_requested")
    ).all()
    assert sorted(kinds) == ["birth_date", "name"]  # field names only, never values


@pytest.mark.parametrize(
    ("field", "value", "reason", "error_field"),
    [
        ("status", "x", "r", "field"),
        ("business_number", "1248100998", "r", "field"),  # an individual has none
        ("name", "", "r", "value"),
        ("name", "가" * 101, "r", "value"),
        ("name", "홍길동", "r", "value"),  # the value already held
        ("birth_date", "1990-13-01", "r", "value"),
        ("birth_date", "2999-01-01", "r", "value"),
        ("birth_date", "1990-01-01", "r", "value"),  # already held
        ("name", "홍길순", "", "reason"),
        ("name", "홍길순", "x" * 1001, "reason"),
    ],
)
def test_request_refuses_bad_input(app, db, customer, field, value, reason, error_field):
    with pytest.raises(ValidationFailed) as info:
        request_correction(_customer(db, customer), field=field, value=value, reason=reason)
    assert error_field in info.value.errors
    db.session.rollback()
    assert db.session.scalar(select(CorrectionRequest.id)) is None


def test_business_number_check_digit(app, db, business):
    row = _customer(db, business)
    with pytest.raises(ValidationFailed) as info:
        request_correction(row, field="business_number", value="1248100999", reason="오기")
    assert "검증번호" in str(info.value.errors["value"])
    with pytest.raises(ValidationFailed):
        request_correction(row, field="birth_date", value="1990-01-01", reason="x")
    req = request_correction(row, field="business_number", value="220-81-62517", reason="오기")
    assert req.new_value == "2208162517"


def test_freeze_while_open_and_release_on_resolution(app, db, customer):
    row = _customer(db, customer)
    ensure_not_under_correction(row, ["name", "email"])  # nothing open: fine
    req = request_correction(row, field="name", value="홍길순", reason="개명")
    db.session.commit()
    with pytest.raises(UnderCorrection) as info:
        ensure_not_under_correction(row, ["email", "name"])
    assert info.value.fields == ["name"]
    assert "성명" in message_for(info.value)
    ensure_not_under_correction(row, ["birth_date", "email"])  # other fields are usable
    # Providing the frozen field to a third party is refused; other items are not.
    with pytest.raises(UnderCorrection):
        record_disclosure(row, recipient="경찰서", legal_basis="형사소송법", items="name,phone")
    record_disclosure(row, recipient="경찰서", legal_basis="형사소송법", items="phone")
    reject_correction(req.id, reason="증빙 서류가 없습니다")
    db.session.commit()
    ensure_not_under_correction(row, ["name"])


def test_approve_applies_value_bumps_version_and_notifies_recipients(app, db, customer):
    row = _customer(db, customer)
    record_disclosure(
        row,
        recipient="서울경찰청",
        legal_basis="수사",
        items="name,phone",
        disclosed_on="2025-01-02",
    )
    record_disclosure(
        row, recipient="서울경찰청", legal_basis="수사", items="name", disclosed_on="2025-03-02"
    )
    record_disclosure(row, recipient="신용정보사", legal_basis="신용조회", items="birth_date")
    record_disclosure(row, recipient="결제대행사", legal_basis="결제", items="name,email")
    req = request_correction(row, field="name", value="홍길순", reason="개명")
    db.session.commit()
    approved = approve_correction(req.id)
    db.session.commit()
    stored = fresh(customer.id)
    assert stored.name == "홍길순"
    assert stored.version == 2
    assert field_sources(stored)["name"] == "correction"
    assert approved.status == "approved" and approved.open_field is None
    recipients = [n.recipient for n in approved.notifications]
    # One task per recipient that had received the NAME (not the birth-date recipient).
    assert recipients == ["서울경찰청", "결제대행사"]
    ensure_not_under_correction(stored, ["name"])
    with pytest.raises(CorrectionNotOpen):
        approve_correction(req.id)
    with pytest.raises(CorrectionNotOpen):
        reject_correction(req.id, reason="x")


def test_approve_birth_date_stores_a_date(app, db, customer):
    req = request_correction(
        _customer(db, customer), field="birth_date", value="1990-02-03", reason="오기"
    )
    db.session.commit()
    approve_correction(req.id)
    db.session.commit()
    assert fresh(customer.id).birth_date == date(1990, 2, 3)


def test_reject_needs_reason_and_keeps_data(app, db, customer):
    req = request_correction(_customer(db, customer), field="name", value="홍길순", reason="개명")
    db.session.commit()
    with pytest.raises(ValidationFailed):
        reject_correction(req.id, reason="  ")
    reject_correction(req.id, reason="서류 미제출")
    db.session.commit()
    assert fresh(customer.id).name == "홍길동"


# --- views ---------------------------------------------------------------------------


def test_page_lists_only_applicable_fields(signed_in, client):
    html = client.get(URL).get_data(as_text=True)
    assert 'value="name"' in html and 'value="birth_date"' in html
    assert 'value="business_number"' not in html
    assert "정정 신청 내역이 없습니다" in html


def test_customer_requests_and_profile_shows_under_correction(signed_in, client, db):
    response = post_form(client, URL, {"field": "name", "value": "홍길순", "reason": "개명"})
    assert response.status_code == 302
    html = client.get(URL).get_data(as_text=True)
    assert "정정 신청을 접수했습니다" in html and "정정 중" in html
    profile = client.get("/account/profile").get_data(as_text=True)
    assert 'id="frozen-name"' in profile and "정정 중" in profile
    assert 'id="frozen-birth_date"' not in profile
    # The export to the customer themself is not refused while the correction is open.
    response = post_form(client, "/account/export", {}, page="/account/profile")
    assert response.status_code == 200
    assert response.get_json()["profile"]["name"] == "홍길동"


def test_second_request_for_same_field_is_refused(signed_in, client):
    post_form(client, URL, {"field": "name", "value": "홍길순", "reason": "개명"})
    response = post_form(client, URL, {"field": "name", "value": "홍길자", "reason": "다시"})
    assert response.status_code == 409
    assert "이미 정정 신청이 진행 중입니다" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"field": "name", "value": "", "reason": "r"}, "바꿀 내용을 입력해 주세요"),
        ({"field": "birth_date", "value": "01/02/1990", "reason": "r"}, "YYYY-MM-DD"),
        ({"field": "business_number", "value": "1248100998", "reason": "r"}, "해당하지 않는"),
        ({"field": "name", "value": "홍길순", "reason": ""}, "신청 사유를 입력해 주세요"),
        ({"field": "name", "value": "x" * 10_240, "reason": "r"}, "입력 형식"),
        ({"field": "<script>", "value": "x", "reason": "r"}, "정정할 항목"),
    ],
)
def test_bad_requests_are_refused(signed_in, client, db, data, message):
    response = post_form(client, URL, {**data, "status": "approved", "customer_id": "2"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert "<script>" not in html
    assert db.session.scalar(select(CorrectionRequest.id)) is None


def test_business_customer_bad_check_digit_view(auth, business, client):
    auth.login(business)
    response = post_form(
        client, URL, {"field": "business_number", "value": "124-81-00999", "reason": "오기"}
    )
    assert response.status_code == 400
    assert "검증번호 불일치" in response.get_data(as_text=True)


def test_customer_sees_resolution_and_notification_status(app, db, signed_in, client, runner):
    row = _customer(db, signed_in)
    record_disclosure(row, recipient="<b>서울경찰청</b>", legal_basis="수사", items="name")
    db.session.commit()
    post_form(client, URL, {"field": "name", "value": "홍길순", "reason": "<i>개명</i>"})
    req_id = db.session.scalar(select(CorrectionRequest.id))

    result = runner.invoke(args=["corrections", "list"])
    assert result.exit_code == 0 and f"#{req_id} hong_gildong name" in result.output
    result = runner.invoke(args=["corrections", "approve", str(req_id)])
    assert result.exit_code == 0, result.output
    assert "notify task" in result.output
    html = client.get(URL).get_data(as_text=True)
    assert "승인" in html and "통지 예정" in html
    assert "&lt;b&gt;서울경찰청&lt;/b&gt;" in html and "&lt;i&gt;개명&lt;/i&gt;" in html
    assert "홍길순" in client.get("/account/profile").get_data(as_text=True)

    db.session.expire_all()
    task_id = db.session.scalar(select(CorrectionNotice.id))
    result = runner.invoke(args=["corrections", "notified", str(task_id)])
    assert result.exit_code == 0, result.output
    assert "통지 완료" in client.get(URL).get_data(as_text=True)
    result = runner.invoke(args=["corrections", "notified", str(task_id)])
    assert result.exit_code != 0 and "이미 통지 완료" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_reject_and_errors(app, db, customer, runner):
    req = request_correction(_customer(db, customer), field="name", value="홍길순", reason="개명")
    db.session.commit()
    result = runner.invoke(args=["corrections", "reject", str(req.id), "--reason", "   "])
    assert result.exit_code != 0 and "반려 사유" in result.output
    result = runner.invoke(args=["corrections", "reject", str(req.id), "--reason", "서류 없음"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["corrections", "approve", str(req.id)])
    assert result.exit_code != 0 and "이미 처리된" in result.output
    result = runner.invoke(args=["corrections", "approve", "999"])
    assert result.exit_code != 0 and "찾을 수 없습니다" in result.output
    result = runner.invoke(args=["corrections", "notified", "999"])
    assert result.exit_code != 0
    result = runner.invoke(args=["corrections", "list", "--all", "--json"])
    assert result.exit_code == 0 and '"status": "rejected"' in result.output


def test_pending_correction_makes_open_edit_form_stale(app, db, signed_in, client, runner):
    from tests.account.conftest import version_from

    html = client.get("/account/profile/edit").get_data(as_text=True)
    req = request_correction(_customer(db, signed_in), field="name", value="홍길순", reason="r")
    db.session.commit()
    runner.invoke(args=["corrections", "approve", str(req.id)])
    response = post_form(
        client,
        "/account/profile/edit",
        {
            "email": "x@example.kr",
            "phone": "010-1111-2222",
            "postal_code": "12345",
            "address": "서울",
            "username": "u",
            "version": version_from(html),
        },
        page="/account/profile/edit",
    )
    assert response.status_code == 409


def test_provision_made_before_the_request_can_still_be_recorded(app, db, customer):
    """A past provision is history: recording it is allowed, and its recipient notified."""
    from datetime import timedelta

    from portal.dbtypes import kst_today

    row = _customer(db, customer)
    req = request_correction(row, field="name", value="홍길순", reason="개명")
    db.session.commit()
    yesterday = kst_today() - timedelta(days=1)
    record_disclosure(
        row, recipient="지난 수신처", legal_basis="법", items="성명, 연락처", disclosed_on=yesterday
    )
    with pytest.raises(UnderCorrection):
        record_disclosure(row, recipient="오늘 수신처", legal_basis="법", items="name")
    with pytest.raises(UnderCorrection):
        ensure_not_under_correction(row, ["name"], on=kst_today())
    ensure_not_under_correction(row, ["name"], on=yesterday)
    approve_correction(req.id)
    db.session.commit()
    assert [n.recipient for n in req.notifications] == ["지난 수신처"]


def test_racing_second_request_hits_the_unique_pair(app, db, customer, monkeypatch):
    """Two submits past the in-Python check: the database lets only one in."""
    from portal.account import corrections

    row = _customer(db, customer)
    request_correction(row, field="name", value="홍길순", reason="개명")
    db.session.commit()
    monkeypatch.setattr(corrections, "open_correction_fields", lambda customer_id: set())
    with pytest.raises(CorrectionAlreadyOpen):
        request_correction(row, field="name", value="홍길자", reason="동시")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CorrectionRequest)) == 1


def test_approval_racing_a_profile_edit_is_refused_cleanly(app, db, customer, runner):
    from sqlalchemy import update

    from portal.account.errors import CorrectionConflict

    req = request_correction(_customer(db, customer), field="name", value="홍길순", reason="r")
    db.session.commit()
    # Loaded (and held, so the identity map keeps it) at version 1, as approve would have it
    # between its SELECT and its UPDATE.
    held = _customer(db, customer)
    assert held.version == 1
    with db.engine.begin() as conn:  # the customer saves their profile meanwhile
        conn.execute(update(Customer.__table__).values(email="race@example.kr", version=2))
    with pytest.raises(CorrectionConflict):
        approve_correction(req.id)
    db.session.rollback()
    stored = fresh(customer.id)
    assert (stored.name, stored.email) == ("홍길동", "race@example.kr")
    result = runner.invoke(args=["corrections", "approve", str(req.id)])
    assert result.exit_code == 0, result.output
    assert fresh(customer.id).name == "홍길순"


def test_page_shows_the_reason_of_a_rejection_only(app, db, signed_in, client):
    row = _customer(db, signed_in)
    rejected = request_correction(row, field="name", value="홍길순", reason="개명")
    db.session.commit()
    reject_correction(rejected.id, reason="증빙 서류가 없습니다")
    pending = request_correction(row, field="birth_date", value="1990-02-02", reason="오타")
    db.session.commit()
    pending.resolution_note = "확인함"  # on an open request: not a rejection reason
    db.session.commit()
    assert rejected.rejection_reason == "증빙 서류가 없습니다"
    assert pending.rejection_reason is None
    html = client.get("/account/corrections").get_data(as_text=True)
    assert "<p>반려 사유: 증빙 서류가 없습니다</p>" in html
    assert "확인함" not in html and html.count("반려 사유:") == 1
