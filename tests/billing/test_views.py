"""Billing pages: the overview, the payment-method form (re-auth, masking), IDOR, documents."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from portal.account.corrections import request_correction
from portal.auth.models import UserSession
from portal.billing.invoices import add_invoice, record_payment
from portal.billing.methods import payment_method_of
from portal.customers.models import ServiceLine
from portal.dbtypes import utcnow
from tests.billing.conftest import ACCOUNT, ACCOUNT_DIGITS, customer_row
from tests.conftest import AuthActions, post_form

FORM = "/billing/payment-method"


def _form(**overrides) -> dict:
    data = {
        "kind": "auto_debit",
        "holder_name": "홍길동",
        "holder_birth_date": "1990-01-01",
        "bank_code": "088",
        "account_number": ACCOUNT,
        "phone": "010-1234-5678",
        "email": "pay@example.kr",
    }
    data.update(overrides)
    return data


def _invoice(db, demo, amount=33000, due="2026-12-25", period="2026-11"):
    row = add_invoice(customer_row(demo), amount=amount, due=due, period=period)
    db.session.commit()
    return row.id


def test_overview_shows_balance_invoices_payments(app, db, signed_in, client):
    first = _invoice(db, signed_in, 33000, "2026-10-25", "2026-09")
    _invoice(db, signed_in, 22000, "2026-11-25", "2026-10")
    record_payment(first, amount=13000, paid_on=date(2026, 10, 20))
    db.session.commit()
    html = client.get("/billing").get_data(as_text=True)
    assert '<p class="amount" id="balance-due">42,000원</p>' in html
    assert html.index("2026-10") < html.index("2026-09")  # newest first
    assert "13,000원" in html and "무통장입금" in html
    assert 'href="/billing/payment-method"' in html
    dashboard = client.get("/account").get_data(as_text=True)
    assert "42,000원" in dashboard and 'href="/billing"' in dashboard


def test_overview_pages(app, db, signed_in, client):
    for month in range(1, 23):
        _invoice(
            db,
            signed_in,
            1000,
            f"2025-{(month - 1) % 12 + 1:02d}-10",
            f"20{24 + month // 13}-{(month - 1) % 12 + 1:02d}",
        )
    first = client.get("/billing").get_data(as_text=True)
    assert "?page=2" in first and first.count('data-status="') == 20
    second = client.get("/billing?page=2").get_data(as_text=True)
    assert second.count('data-status="') == 2


def test_set_auto_debit_masks_everywhere(app, db, signed_in, client, caplog):
    caplog.set_level(logging.DEBUG)
    response = post_form(client, FORM, _form())
    assert response.status_code == 302 and response.headers["Location"] == "/billing"
    pages = [
        client.get(url).get_data(as_text=True)
        for url in ("/billing", FORM, "/account/profile", "/account/history")
    ]
    assert "***-****-8901" in pages[0] and "신한은행" in pages[0]
    assert "결제 정보 변경" in pages[3]
    export = post_form(client, "/account/export", {}, page="/account/profile").get_data(
        as_text=True
    )
    for text in [*pages, export, caplog.text]:
        assert (
            ACCOUNT_DIGITS not in text
            and ACCOUNT not in text
            and "1990-01-01" not in text.replace('"birth_date": "1990-01-01"', "")
        )
    assert "***-****-8901" in export


def test_failed_post_does_not_echo_the_account_number(app, db, signed_in, client):
    response = post_form(client, FORM, _form(email="nope"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert ACCOUNT not in html and ACCOUNT_DIGITS not in html
    assert "보안을 위해 계좌번호는 다시 입력해 주세요" in html
    assert "올바른 이메일 주소가 아닙니다" in html
    assert payment_method_of(signed_in.id) is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("account_number", "110-2345-6789ab", "계좌번호는 숫자 10~16자리"),
        ("account_number", "123456789", "계좌번호는 숫자 10~16자리"),
        ("account_number", "12345678901234567", "계좌번호는 숫자 10~16자리"),
        ("bank_code", "999", "목록에 있는 은행"),
        ("holder_birth_date", (date.today() + timedelta(days=2)).isoformat(), "생년월일은"),
    ],
)
def test_bad_input_is_a_clear_400(app, db, signed_in, client, field, value, message):
    response = post_form(client, FORM, _form(**{field: value}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and ACCOUNT_DIGITS not in html and "6789ab" not in html
    assert payment_method_of(signed_in.id) is None


def test_english_message(app, db, signed_in, client):
    client.get("/language/en")
    html = post_form(client, FORM, _form(bank_code="999")).get_data(as_text=True)
    assert "Choose a bank from the list." in html


def test_payment_method_needs_recent_password(app, db, signed_in, client):
    page = client.get(FORM)
    assert page.status_code == 200
    token_page = page.get_data(as_text=True)
    with db.engine.begin() as conn:
        conn.execute(
            update(UserSession.__table__).values(authenticated_at=utcnow() - timedelta(minutes=6))
        )
    assert "/reauth" in client.get(FORM).headers["Location"]
    from tests.conftest import csrf_from

    response = client.post(FORM, data={"csrf_token": csrf_from(token_page), **_form()})
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]
    assert payment_method_of(signed_in.id) is None


def test_deposit_for_a_business(app, db, business, client):
    AuthActions(client).login(business)
    response = post_form(
        client,
        FORM,
        {
            "kind": "deposit",
            "holder_name": "아리온물류(주)",
            "holder_business_number": "124-81-00998",
            "phone": "02-6309-6800",
            "email": "a@arion.example.kr",
        },
    )
    assert response.status_code == 302
    assert "무통장입금" in client.get("/billing").get_data(as_text=True)


# --- IDOR: another customer's id and a missing id answer the same 404 ------------------

URLS = [
    "/billing/invoices/{id}",
    "/billing/invoices/{id}/tax-invoice",
    "/billing/invoices/{id}/purchase-confirmation",
]


@pytest.mark.parametrize("url", URLS)
def test_other_customers_invoice_is_404_like_a_missing_one(
    app, db, make_customer, business, client, url
):
    victim = make_customer(login_id="victim_user", email="victim@example.kr")
    theirs = _invoice(db, victim)
    AuthActions(client).login(business)
    mine = _invoice(db, business)
    assert client.get(url.format(id=mine)).status_code == 200
    other = client.get(url.format(id=theirs))
    missing = client.get(url.format(id=999999))
    assert other.status_code == missing.status_code == 404
    strip = lambda r: r.get_data(as_text=True).split("X-Request")[0]  # noqa: E731
    assert "victim" not in other.get_data(as_text=True)
    assert len(strip(other)) - len(strip(missing)) in range(-40, 41)  # same page, other reference
    assert client.get(url.format(id=2**40)).status_code == 404


def test_anonymous_is_sent_to_login(client):
    for url in ["/billing", FORM, "/billing/invoices/1", "/billing/activation-confirmation"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- documents -------------------------------------------------------------------------


def test_tax_invoice_for_a_business(app, db, business, client):
    AuthActions(client).login(business)
    invoice_id = _invoice(db, business, 33000)
    html = client.get(f"/billing/invoices/{invoice_id}/tax-invoice").get_data(as_text=True)
    assert '<td id="supply">30,000원</td>' in html and '<td id="vat">3,000원</td>' in html
    assert "124-81-00998" in html  # buyer
    assert "120-81-47521" in html and "아리온통신(주)" in html  # supplier: portal/business.py
    assert 'media="print"' in html


def test_tax_invoice_refused_for_individuals_with_a_message(app, db, signed_in, client):
    invoice_id = _invoice(db, signed_in)
    response = client.get(f"/billing/invoices/{invoice_id}/tax-invoice")
    assert response.status_code == 403
    assert "사업자 회원에게만" in response.get_data(as_text=True)
    assert client.get(f"/billing/invoices/{invoice_id}/purchase-confirmation").status_code == 200


def test_activation_confirmation_lists_lines(app, db, signed_in, client):
    db.session.add(
        ServiceLine(
            customer_id=signed_in.id,
            service="spot",
            plan="스팟 라이트",
            device_label="가방",
            device_number="SP-1",
            activated_on=date(2024, 1, 15),
        )
    )
    db.session.commit()
    html = client.get("/billing/activation-confirmation").get_data(as_text=True)
    assert "스팟 라이트" in html and "2024-01-15" in html and "1990-01-01" in html


@pytest.mark.parametrize("field", ["name", "birth_date"])
def test_documents_refused_while_identity_is_under_correction(app, db, signed_in, client, field):
    invoice_id = _invoice(db, signed_in)
    value = "홍길순" if field == "name" else "1990-01-02"
    request_correction(customer_row(signed_in), field=field, value=value, reason="오기")
    db.session.commit()
    for url in (
        f"/billing/invoices/{invoice_id}/purchase-confirmation",
        "/billing/activation-confirmation",
    ):
        response = client.get(url)
        assert response.status_code == 409, url
        assert "정정 신청이 처리 중인 정보" in response.get_data(as_text=True)
    assert client.get(f"/billing/invoices/{invoice_id}").status_code == 200  # not a document
