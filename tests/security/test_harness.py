"""The harness itself: a card and an OTP customer and a staff member sign in over HTTPS."""

from __future__ import annotations

from tests.security.live import SESSION_COOKIE, STAFF_COOKIE


def test_card_customer_signs_in_and_sees_the_account(browser, accounts):
    account = accounts.card()
    browser.sign_in(account)
    assert SESSION_COOKIE in browser.cookies
    page = browser.get("/account")
    assert page.status == 200 and "김보안님" in page.body


def test_otp_customer_signs_in(browser, accounts):
    browser.sign_in(accounts.otp())
    assert browser.get("/account").status == 200


def test_staff_signs_in_to_the_back_office(browser, accounts):
    browser.staff_sign_in(accounts.staff["admin"])
    assert STAFF_COOKIE in browser.cookies
    assert browser.get("/admin/").status == 200


def test_each_browser_speaks_from_its_own_address(new_browser):
    assert new_browser().address != new_browser().address
