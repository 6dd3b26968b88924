"""The real browser: staff search, a customer's record, registration and the printed card,
each checked with axe; the card sheet prints on one A4 page."""

from __future__ import annotations

import pytest

from tests.admin.conftest import make_staff  # noqa: F401 - the staff fixture
from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def config(config):
    config.RATELIMIT_LOGIN = "1000 per minute"
    return config


def staff_sign_in(page, base: str, staff) -> None:
    page.goto(base + "/admin/login")
    page.fill("#f-login_id", staff.login_id)
    page.fill("#f-password", staff.password)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(base + "/admin/login/verify")
    page.fill("#f-otp", staff.code())
    page.click("button[type=submit].button-primary")
    page.wait_for_url(base + "/admin/")


def test_search_record_register_and_printed_card(page, live_server, make_staff, customer):  # noqa: F811
    staff = make_staff("support", login_id="helper")
    staff_sign_in(page, live_server, staff)
    page.click("a.card[href='/admin/customers']")
    page.fill("#f-q", "010 1234 5678")
    page.click("button[type=submit].button-primary")
    assert "010-****-5678" in page.locator("#search-results").inner_text()
    assert axe_violations(page) == []

    page.click(f"#search-results a[href='/admin/customers/{customer.id}']")
    assert page.locator("#customer-name").inner_text() == "홍길동"
    assert axe_violations(page) == []

    page.goto(live_server + "/admin/customers/new")
    assert axe_violations(page) == []
    page.fill("#f-login_id", "paper_lee")
    page.fill("#f-name", "이서류")
    page.fill("#f-email", "bad-email")
    page.fill("#f-phone", "010-3456-7890")
    page.fill("#f-postal_code", "04524")
    page.fill("#f-address", "서울특별시 중구 세종대로 110")
    page.click("button[type=submit].button-primary")
    assert page.locator("#e-email").is_visible()
    assert page.locator("#f-name").input_value() == "이서류"
    assert axe_violations(page) == []
    page.fill("#f-email", "paper.lee@example.kr")
    page.click("button[type=submit].button-primary")
    page.wait_for_selector("#card-codes")
    assert page.locator("#card-codes li").count() == 35
    assert axe_violations(page) == []
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    assert page.locator("#card-codes").is_visible()
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1, f"the card prints on {pages} A4 pages"
