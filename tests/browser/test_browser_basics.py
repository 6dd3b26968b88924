"""The real browser: home page accessibility, sign-in with the card and with OTP."""

from __future__ import annotations

from tests.browser.conftest import axe_violations, sign_in


def test_home_page_is_accessible(page, live_server):
    response = page.goto(live_server + "/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "애니트랙 · 스팟 고객 포털"
    assert axe_violations(page) == []


def test_login_page_is_accessible(page, live_server):
    page.goto(live_server + "/login")
    assert page.locator("#public-pc-warning").is_visible()
    assert axe_violations(page) == []


def test_sign_in_with_security_card(page, live_server, customer):
    sign_in(page, live_server, customer, check_axe=True)
    assert "길동님, 안녕하세요." in page.locator("h1").inner_text()
    assert axe_violations(page) == []


def test_sign_in_with_otp(page, live_server, otp_customer):
    sign_in(page, live_server, otp_customer, check_axe=True)
    assert page.locator("#last-login").is_visible()


def test_enrol_otp_then_sign_in_with_it(page, live_server, customer):
    import time

    import pyotp

    sign_in(page, live_server, customer)
    page.goto(live_server + "/account/security/otp")
    assert page.locator(".qr svg").is_visible()
    secret = page.locator("#otp-secret").inner_text().strip()
    assert axe_violations(page) == []
    page.fill("#f-otp", pyotp.TOTP(secret).now())
    page.click("button[type=submit].button-primary")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.click("header button[type=submit]")  # 로그아웃
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/login")
    page.fill("#f-login_id", customer.login_id)
    page.fill("#f-password", customer.password)
    page.click("button[type=submit].button-primary")
    page.click("text=OTP로 인증하기")
    # The enrolment spent the current 30-second step; the next step's code is inside the
    # ±1 window and newer than the last one used, so it is accepted (no waiting).
    page.fill("#f-otp", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account")
