"""The dashboard, and the SQL statement budget of /account and /account/profile."""

from __future__ import annotations

from datetime import date

import pytest

from portal.account.corrections import request_correction
from portal.account.disclosures import record_disclosure
from portal.account.inquiries import submit_inquiry
from portal.audit.services import record_event
from portal.billing.invoices import add_invoice, record_payment
from portal.billing.summary import balance_due
from portal.customers.models import Customer, ServiceLine
from portal.policy.models import Notice
from tests.account.conftest import count_statements

BUDGET = 4


def test_dashboard_shows_greeting_lines_balance_login_and_notices(app, db, signed_in, client):
    customer = db.session.get(Customer, signed_in.id)
    db.session.add(
        ServiceLine(
            customer_id=customer.id,
            service="anytrack",
            plan="애니트랙 베이직",
            device_label="차량 1",
            activated_on=date(2023, 3, 2),
        )
    )
    db.session.add(Notice(title="서비스 점검 안내", body_md="점검"))
    db.session.commit()
    html = client.get("/account").get_data(as_text=True)
    assert "길동님, 안녕하세요." in html
    assert "애니트랙 베이직" in html and "2023-03-02" in html
    # No invoice yet: the dashboard does not claim "nothing unpaid", it says there is no bill.
    assert 'id="no-invoices"' in html and "미납 요금이 없습니다" not in html
    assert 'id="balance-due"' not in html
    assert 'id="last-login"' in html
    assert "서비스 점검 안내" in html
    assert 'href="/account/profile"' in html


def test_nothing_due_is_said_only_once_billing_has_an_invoice(app, db, signed_in, client):
    invoice = add_invoice(db.session.get(Customer, signed_in.id), amount=11000, due=date.today())
    db.session.commit()
    html = client.get("/account").get_data(as_text=True)
    assert '<p class="amount" id="balance-due">11,000원</p>' in html
    assert "미납 요금이 없습니다" not in html
    record_payment(invoice.id, amount=11000)
    db.session.commit()
    html = client.get("/account").get_data(as_text=True)
    assert 'id="balance-due">0원' in html and "미납 요금이 없습니다" in html


def test_greeting_falls_back_to_the_name(app, db, signed_in, client):
    customer = db.session.get(Customer, signed_in.id)
    customer.username = ""
    db.session.commit()
    assert "<h1>홍길동님, 안녕하세요.</h1>" in client.get("/account").get_data(as_text=True)


def test_balance_due_is_zero_until_billing_exists(app, db, customer):
    assert balance_due(db.session.get(Customer, customer.id)) == 0


def _add_rows(db, customer_id: int, n: int) -> None:
    customer = db.session.get(Customer, customer_id)
    for i in range(n):
        db.session.add(
            ServiceLine(
                customer_id=customer_id,
                service="spot",
                plan=f"요금제{i}",
                device_label=f"단말{i}",
                activated_on=date(2024, 1, 1),
            )
        )
        record_event("login_success", customer_id=customer_id, detail="card")
        record_disclosure(customer, recipient=f"기관{i}", legal_basis="법", items="phone")
        submit_inquiry(customer, subject=f"문의{i}", body="b")
        db.session.add(Notice(title=f"공지{i}", body_md="b"))
    db.session.commit()


def _statements(db, client, url: str) -> list[str]:
    client.get(url)  # warm-up: template compilation, the once-a-minute session touch
    with count_statements(db.engine) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return statements


@pytest.mark.parametrize("url", ["/account", "/account/profile"])
def test_statement_budget_independent_of_data_size(app, db, signed_in, client, url):
    customer = db.session.get(Customer, signed_in.id)
    request_correction(customer, field="name", value="홍길순", reason="개명")
    db.session.commit()
    few = _statements(db, client, url)
    _add_rows(db, signed_in.id, 30)
    many = _statements(db, client, url)
    assert len(few) <= BUDGET, few
    assert len(many) == len(few), many


def test_previous_sign_in_and_no_lines(app, db, customer):
    from tests.conftest import AuthActions

    first = app.test_client()
    AuthActions(first).login(customer)
    html = first.get("/account").get_data(as_text=True)
    assert "이번이 첫 로그인입니다" in html and "등록된 회선이 없습니다" in html
    second = app.test_client()
    AuthActions(second).login(customer)
    html = second.get("/account").get_data(as_text=True)
    assert "이번이 첫 로그인입니다" not in html and "IP 127.0.0.1" in html
    assert "등록된 회선이 없습니다" in html


def test_dashboard_lists_every_line_in_order(app, db, signed_in, client):
    _add_rows(db, signed_in.id, 3)
    html = client.get("/account").get_data(as_text=True)
    assert html.index("요금제0") < html.index("요금제1") < html.index("요금제2")
