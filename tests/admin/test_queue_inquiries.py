"""The inquiry queue: unanswered and answered lists, a detail page, the answer form."""

from __future__ import annotations

import pytest

from portal.account.inquiries import submit_inquiry
from portal.account.models import Inquiry
from portal.customers.models import Customer
from portal.extensions import db
from tests.admin.queue_helpers import assert_no_values, fields_of, post_from, records
from tests.conftest import AuthActions

SUBJECT = "위치가 안 보입니다"
BODY = "어제부터 단말기 위치가 지도에 나타나지 않습니다."


@pytest.fixture
def question(make_customer):
    demo = make_customer(login_id="ask_me")
    row = submit_inquiry(db.session.get(Customer, demo.id), subject=SUBJECT, body=BODY)
    db.session.commit()
    demo.extra["inquiry_id"] = row.id
    return demo


@pytest.fixture
def support(make_staff, staff_auth):
    staff = make_staff("support", login_id="help_lee")
    staff_auth.login(staff)
    return staff


def _page(demo) -> str:
    return f"/admin/inquiries/{demo.extra['inquiry_id']}"


def test_unanswered_queue_detail_and_answer(client, app, support, question):
    html = client.get("/admin/inquiries").get_data(as_text=True)
    assert SUBJECT in html and f'href="{_page(question)}"' in html and "ask_me" not in html
    assert "문의·민원 (1)" in client.get("/admin/").get_data(as_text=True)
    assert SUBJECT not in client.get("/admin/inquiries?view=answered").get_data(as_text=True)
    detail = client.get(_page(question)).get_data(as_text=True)
    assert BODY in detail and "ask_me" in detail
    [view] = records("help_lee", "view")
    assert view.customer_id == question.id
    assert fields_of(view) == {"login_id", "subject", "body", "answer"}

    empty = post_from(client, _page(question), _page(question) + "/answer", {"body": " "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.get_data(as_text=True)
    answer = "단말기를 다시 켜 주세요. 그래도 안 되면 고객센터로 연락 주세요."
    response = post_from(client, _page(question), _page(question) + "/answer", {"body": answer})
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Inquiry, question.extra["inquiry_id"])
    assert row.answer == answer and row.answered_at is not None
    assert SUBJECT not in client.get("/admin/inquiries").get_data(as_text=True)
    assert SUBJECT in client.get("/admin/inquiries?view=answered").get_data(as_text=True)
    twice = post_from(client, _page(question), _page(question) + "/answer", {"body": "또"})
    assert twice.status_code == 409 and "이미 답변한 문의입니다." in twice.get_data(as_text=True)
    [log] = records("help_lee", "inquiry_answer")
    assert log.customer_id == question.id and fields_of(log) == {"answer"}
    assert_no_values(SUBJECT, BODY, answer, "ask_me")
    customer = app.test_client()
    AuthActions(customer).login(question)
    page = customer.get(f"/account/inquiries/{row.id}").get_data(as_text=True)
    assert answer in page


def test_answer_keeps_the_typed_text_when_too_long(client, support, question):
    text = "가" * 10001
    response = post_from(client, _page(question), _page(question) + "/answer", {"body": text})
    assert response.status_code == 400
    assert text in response.get_data(as_text=True)


def test_billing_is_refused_and_logged(client, make_staff, staff_auth, question):
    staff_auth.login(make_staff("billing", login_id="bill_kim"))
    assert client.get("/admin/inquiries").status_code == 403
    response = post_from(client, "/admin/", _page(question) + "/answer", {"body": "답"})
    assert response.status_code == 403
    assert db.session.get(Inquiry, question.extra["inquiry_id"]).answered_at is None
    assert [r.action for r in records("bill_kim", "denied")] == ["denied", "denied"]


def test_answer_without_csrf_changes_nothing(client, support, question):
    assert client.post(_page(question) + "/answer", data={"body": "답"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Inquiry, question.extra["inquiry_id"]).answered_at is None


def test_unknown_inquiry_is_404(client, support):
    assert client.get("/admin/inquiries/999999").status_code == 404
