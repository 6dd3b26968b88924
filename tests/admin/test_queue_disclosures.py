"""The disclosures ledger: record a provision through record_disclosure, list it paged."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.account.corrections import request_correction
from portal.account.disclosures import record_disclosure
from portal.account.models import Disclosure
from portal.customers.models import Customer
from portal.extensions import db
from tests.admin.queue_helpers import assert_no_values, fields_of, post_from, records
from tests.conftest import AuthActions

RECIPIENT = "서울중부경찰서"
BASIS = "형사소송법 제199조"


@pytest.fixture
def officer(make_staff, staff_auth):
    staff = make_staff("privacy_officer", login_id="priv_park")
    staff_auth.login(staff)
    return staff


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Disclosure))


def _record(client, **data):
    return post_from(client, "/admin/disclosures", "/admin/disclosures", data)


def test_record_lists_and_the_customer_sees_it(client, app, officer, customer):
    when = (date.today() - timedelta(days=3)).isoformat()
    response = _record(
        client,
        login_id=customer.login_id,
        recipient=RECIPIENT,
        basis=BASIS,
        items=["name", "phone"],
        date=when,
    )
    assert response.status_code == 302
    row = db.session.scalars(select(Disclosure)).one()
    assert (row.customer_id, row.recipient, row.legal_basis) == (customer.id, RECIPIENT, BASIS)
    assert row.item_keys == ["name", "phone"] and row.disclosed_on.isoformat() == when
    html = client.get("/admin/disclosures").get_data(as_text=True)
    assert RECIPIENT in html and "성명, 연락처" in html and when in html
    assert customer.login_id not in html  # masked in the ledger
    [log] = records("priv_park", "disclosure_record")
    assert log.customer_id == customer.id and fields_of(log) == {"name", "phone"}
    assert_no_values(customer.login_id, "홍길동", RECIPIENT)
    browser = app.test_client()
    AuthActions(browser).login(customer)
    assert RECIPIENT in browser.get("/account/disclosures").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"login_id": "nobody_here"}, "login_id", "이 아이디의 고객이 없습니다."),
        ({"recipient": ""}, "recipient", None),
        ({"basis": ""}, "basis", None),
        ({"items": []}, "items", "제공 항목이 올바르지 않습니다"),
        ({"items": ["password"]}, "items", "제공 항목이 올바르지 않습니다"),
        ({"date": "2999-01-01"}, "date", "제공일은 YYYY-MM-DD"),
        ({"date": "어제"}, "date", "제공일은 YYYY-MM-DD"),
    ],
)
def test_bad_input_is_shown_next_to_the_field(client, officer, customer, data, field, message):
    form = {
        "login_id": customer.login_id,
        "recipient": RECIPIENT,
        "basis": BASIS,
        "items": ["name"],
        "date": "",
        **data,
    }
    response = _record(client, **form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="e-{field}"' in html
    if message:
        assert message in html
    if field != "recipient":
        assert RECIPIENT in html  # what was typed stays
    assert _count() == 0
    assert records("priv_park", "disclosure_record") == []


def test_an_item_under_correction_is_refused(client, officer, customer):
    request_correction(
        db.session.get(Customer, customer.id), field="name", value="홍길순", reason="개명"
    )
    db.session.commit()
    response = _record(
        client, login_id=customer.login_id, recipient=RECIPIENT, basis=BASIS, items=["name"]
    )
    assert response.status_code == 409
    assert "정정 신청이 처리 중인 정보(성명)" in response.get_data(as_text=True)
    assert _count() == 0
    # Another item may still be provided.
    ok = _record(
        client, login_id=customer.login_id, recipient=RECIPIENT, basis=BASIS, items=["phone"]
    )
    assert ok.status_code == 302 and _count() == 1


def test_ledger_is_paged(client, officer, customer):
    row = db.session.get(Customer, customer.id)
    for n in range(21):
        record_disclosure(row, recipient=f"기관{n:02d}", legal_basis=BASIS, items="phone")
    db.session.commit()
    first = client.get("/admin/disclosures").get_data(as_text=True)
    second = client.get("/admin/disclosures?page=2").get_data(as_text=True)
    assert first.count('<tr id="disclosure-') == 20 and second.count('<tr id="disclosure-') == 1
    assert 'href="/admin/disclosures?page=2"' in first


def test_support_is_refused_and_logged(client, make_staff, staff_auth, customer):
    staff_auth.login(make_staff("support", login_id="help_lee"))
    assert client.get("/admin/disclosures").status_code == 403
    response = post_from(
        client,
        "/admin/",
        "/admin/disclosures",
        {"login_id": customer.login_id, "recipient": RECIPIENT, "basis": BASIS, "items": "name"},
    )
    assert response.status_code == 403
    assert _count() == 0
    assert len(records("help_lee", "denied")) == 2


def test_record_without_csrf_changes_nothing(client, officer, customer):
    data = {"login_id": customer.login_id, "recipient": RECIPIENT, "basis": BASIS, "items": "name"}
    assert client.post("/admin/disclosures", data=data).status_code == 400
    assert _count() == 0
