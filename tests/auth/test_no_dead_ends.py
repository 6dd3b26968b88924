"""Issue 14, part A: pages that say what to do next (view tests; the browser tests drive the
same pages in Chromium)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update

from portal import pagecache
from portal.auth import services as auth_services
from portal.auth.models import SecurityCard, UserSession
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.templating import idle_warning
from tests.conftest import post_form


def _lock_card(db, customer_id: int) -> None:
    db.session.execute(
        update(SecurityCard)
        .where(SecurityCard.customer_id == customer_id)
        .values(failed_attempts=5, locked_at=utcnow())
    )
    db.session.commit()


def test_login_page_states_the_lockout_rule_from_the_settings(app, client):
    assert "비밀번호 5회 연속 오류 시 30분간 로그인이 제한됩니다." in client.get("/login").text
    app.config.update(PORTAL_LOGIN_MAX_FAILURES=3, PORTAL_LOCKOUT_SECONDS=600)
    # Settings change with a restart, which empties each worker's page cache; here, by hand.
    pagecache.forget(app)
    assert "비밀번호 3회 연속 오류 시 10분간 로그인이 제한됩니다." in client.get("/login").text


def test_customer_centre_comes_from_the_settings(app, client):
    business = app.config["PORTAL_BUSINESS"]
    app.config["PORTAL_BUSINESS"] = replace(
        business, cs_phone="1588-0000", cs_hours="연중무휴 24시간"
    )
    html = client.get("/login").text
    assert 'href="tel:15880000">1588-0000</a>' in html and "연중무휴 24시간" in html
    assert "02-2679-8705" not in html


def test_card_only_customer_with_a_locked_card_is_told_what_to_do(app, db, client, auth, customer):
    _lock_card(db, customer.id)
    assert auth.step_one(customer).status_code == 302
    html = client.get("/login/verify").text
    assert "보안카드가 잠겼습니다" in html
    assert "다른 인증 수단" not in html
    assert 'id="step-two-help"' in html
    assert 'href="tel:0226798705">02-2679-8705</a>' in html and "평일 09:00~18:00" in html
    assert 'href="/login"' in html and 'href="/login/forgot-password"' in html


def test_locked_card_with_otp_enrolled_offers_the_other_method(app, db, client, auth, customer):
    row = db.session.get(Customer, customer.id)
    secret = auth_services.otp_enrolment(row).secret
    auth_services.confirm_otp_enrolment(row, code=pyotp.TOTP(secret).now())
    db.session.commit()
    _lock_card(db, customer.id)
    auth.step_one(customer)
    html = client.get("/login/verify").text
    assert "다른 인증 수단을 쓰거나" in html
    assert "OTP로 인증하기" in html
    assert 'id="step-two-help"' not in html


@pytest.mark.parametrize(
    ("data", "expected", "absent"),
    [
        ({"login_id": "", "password": "x"}, ["아이디를 입력해 주세요."], ["비밀번호를 입력"]),
        ({"login_id": "hong", "password": ""}, ["비밀번호를 입력해 주세요."], ["아이디를 입력"]),
        ({}, ["아이디를 입력해 주세요.", "비밀번호를 입력해 주세요."], ["필수 항목"]),
    ],
)
def test_empty_login_fields_are_named(client, data, expected, absent):
    response = post_form(client, "/login", data)
    assert response.status_code == 400
    for text in expected:
        assert text in response.text
    for text in absent:
        assert text not in response.text


def test_empty_password_fields_are_named(client, auth, customer):
    auth.login(customer)
    response = post_form(client, "/reauth", {"password": ""})
    assert response.status_code == 400 and "비밀번호를 입력해 주세요." in response.text
    response = post_form(
        client,
        "/account/password",
        {"current_password": "x", "new_password": "", "new_password_confirm": ""},
    )
    assert response.status_code == 400
    assert "새 비밀번호를 입력해 주세요." in response.text
    assert "새 비밀번호 확인을 입력해 주세요." in response.text
    assert "지금 비밀번호를 입력해 주세요." not in response.text


def test_a_wrong_otp_code_suggests_checking_the_phone_clock(client, auth, otp_customer):
    auth.step_one(otp_customer)
    response = auth.answer_otp("000000")
    assert "OTP 번호가 올바르지 않습니다" in response.text
    assert "휴대전화의 시각" in response.text


def test_otp_enrolment_offers_an_app_link_and_the_key_in_groups(client, auth, customer):
    auth.login(customer)
    html = client.get("/account/security/otp").text
    assert 'href="otpauth://totp/' in html
    secret = html.split('id="otp-secret">')[1].split("<")[0]
    groups = "".join(f"<span>{secret[i : i + 4]}</span>" for i in range(0, len(secret), 4))
    assert groups in html
    assert 'id="otp-copy"' in html and " hidden>" in html  # shown by the script only


def test_dashboard_shows_failed_sign_ins_since_the_previous_one(app, client, auth, customer):
    auth.login(customer)
    auth.logout()
    for _ in range(2):
        assert auth.step_one(customer, password="wrong-password-1").status_code == 200
    # A wrong security-card answer after the right password is a failed sign-in too.
    assert auth.step_one(customer).status_code == 302
    first, last = auth.challenge()
    right = customer.card_answer(first, last)
    wrong = tuple(f"{(int(code) + 1) % 100:02d}" for code in right)
    assert auth.answer_card(customer, wrong).status_code == 200
    auth.login(customer)
    html = client.get("/account").text
    assert "지난 로그인 이후 로그인 실패 3회" in html
    assert "IP 127.0.0.1" in html
    # The next sign-in starts counting again.
    auth.logout()
    auth.login(customer)
    assert "로그인 실패 기록이 없습니다" in client.get("/account").text


def test_extend_counts_as_activity(app, db, client, auth, customer):
    auth.login(customer)
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    page = client.get("/account").text
    assert 'id="idle-warning"' in page and 'data-idle-seconds="1800"' in page
    response = post_form(
        client,
        "/account/session/extend",
        {},
        page="/account",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200 and response.json == {"remaining": 1800}
    seen = db.session.scalar(
        UserSession.__table__.select().with_only_columns(UserSession.__table__.c.last_seen_at)
    )
    assert (utcnow() - seen).total_seconds() < 5
    # Without the script: an ordinary form post goes back to the page it came from.
    response = post_form(client, "/account/session/extend", {"next": "/billing"}, page="/account")
    assert response.status_code == 302 and response.headers["Location"] == "/billing"


def test_extend_needs_csrf_and_a_session(client):
    assert client.post("/account/session/extend").status_code in (302, 400)
    response = post_form(client, "/account/session/extend", {}, page="/login")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("idle", "warning", "expected"), [(1800, 120, 120), (10, 120, 5), (1, 1, 1)]
)
def test_idle_warning_is_at_most_half_the_timeout(idle, warning, expected):
    assert idle_warning(idle, warning) == expected
