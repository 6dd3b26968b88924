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
