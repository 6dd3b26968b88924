"""The real browser: home page accessibility, sign-in with the card and with OTP."""

from __future__ import annotations

import pyotp

from tests.browser.conftest import axe_violations


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
    page.goto(live_server + "/login")
    page.fill("#f-login_id", customer.login_id)
    page.fill("#f-password", customer.password)
    page.click("button[type=submit].button-primary")
    challenge = page.locator("#card-challenge")
    first = int(challenge.get_attribute("data-first-index"))
    last = int(challenge.get_attribute("data-last-index"))
    assert f"{first}번 코드의 앞 2자리" in challenge.inner_text()
    assert axe_violations(page) == []
    code_first, code_last = customer.card_answer(first, last)
    page.fill("#f-code_first", code_first)
    page.fill("#f-code_last", code_last)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account")
    assert "길동님, 안녕하세요." in page.locator("h1").inner_text()
    assert axe_violations(page) == []


def test_sign_in_with_otp(page, live_server, otp_customer):
    page.goto(live_server + "/login")
    page.fill("#f-login_id", otp_customer.login_id)
    page.fill("#f-password", otp_customer.password)
    page.click("button[type=submit].button-primary")
    assert page.locator("#f-otp").get_attribute("autocomplete") == "one-time-code"
    page.fill("#f-otp", pyotp.TOTP(otp_customer.otp_secret).now())
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account")
    assert page.locator("#last-login").is_visible()
