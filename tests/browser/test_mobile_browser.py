"""The real browser at a phone's width (390 px) and a desktop's (1280 px), issue 14: every
customer page fits without sideways scrolling, the header menu is reachable by keyboard,
axe finds nothing; the sign-in flash, the locked-card page and the download after
re-authentication lead somewhere."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from portal.auth.models import UserSession
from portal.customers.models import ServiceLine
from portal.dbtypes import utcnow
from tests.browser.conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
WIDTHS = [pytest.param(PHONE, id="390"), pytest.param(DESKTOP, id="1280")]

CUSTOMER_PAGES = [
    "/",
    "/account",
    "/account/profile",
    "/account/profile/edit",
    "/account/security",
    "/account/history",
    "/account/corrections",
    "/account/disclosures",
    "/account/inquiries",
    "/account/export",
    "/account/rights",
    "/account/withdraw",
    "/billing",
    "/billing/payment-method",
    "/privacy",
    "/privacy/versions",
    "/privacy/officers",
    "/notices",
]
NAV_PATHS = ["/", "/account", "/billing", "/account/security", "/account/history"]


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def seeded(app, db):
    """The policy in force (the seed text, as migration 0002 loads it) and a notice."""
    from portal.policy.notices import post_notice
    from portal.policy.seed.loader import ensure_seed

    ensure_seed()
    post_notice(title="설 연휴 고객센터 운영 시간 안내 (2027년 2월 6일~2월 9일)", body_md="안내")
    db.session.commit()


@pytest.fixture
def lined_customer(db, customer, seeded):
    """A customer with service lines (long device numbers and plan names, as on a phone)."""
    for i, service in enumerate(("anytrack", "spot")):
        db.session.add(
            ServiceLine(
                customer_id=customer.id,
                service=service,
                plan="애니트랙 차량관제 프리미엄 무제한 요금제",
                device_label=f"물류센터 배송차량 {i + 1}호 (냉동탑차)",
                device_number=f"010-9876-543{i}",
                activated_on=date(2024, 3, 2),
            )
        )
    db.session.commit()
    return customer


@pytest.mark.parametrize("viewport", WIDTHS)
def test_customer_pages_fit_and_pass_axe(page, live_server, lined_customer, viewport):
    page.set_viewport_size(viewport)
    sign_in(page, live_server, lined_customer)
    for path in CUSTOMER_PAGES:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert _fits(page), f"{path} scrolls sideways at {viewport['width']} px"
        assert axe_violations(page) == [], path


def _tab_to(page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({json.dumps(selector)})"):
            return
    raise AssertionError(f"{selector} never got the keyboard focus")


def test_phone_header_menu_is_a_button_that_works_by_keyboard(page, live_server, customer):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, customer)
    assert page.locator(".nav-links-wide").is_hidden()
    summary = page.locator(".nav-menu > summary")
    assert summary.is_visible() and summary.inner_text().strip() == "메뉴"
    assert page.locator(".nav-menu-list a").first.is_hidden()  # closed until asked
    _tab_to(page, ".nav-menu > summary")
    page.keyboard.press("Enter")
    for path in NAV_PATHS:
        _tab_to(page, f'.nav-menu-list a[href="{path}"]', limit=len(NAV_PATHS) + 1)
        assert page.locator(f'.nav-menu-list a[href="{path}"]').is_visible()
    assert axe_violations(page) == []
    page.keyboard.press("Enter")  # follows the focused link: 접속 기록
    page.wait_for_url(live_server + "/account/history")
    assert _fits(page)


def test_phone_header_menu_needs_no_javascript(browser, live_server, customer):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="ko-KR")
    tab = context.new_page()
    try:
        sign_in(tab, live_server, customer)
        tab.click(".nav-menu > summary")
        tab.click('.nav-menu-list a[href="/billing"]')
        tab.wait_for_url(live_server + "/billing")
    finally:
        context.close()


def test_desktop_header_links_are_reachable_by_keyboard(page, live_server, customer):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, customer)
    assert page.locator(".nav-menu").is_hidden()
    page.goto(live_server + "/account/profile")
    for path in NAV_PATHS:
        _tab_to(page, f'.nav-links a[href="{path}"]')


def test_tables_become_cards_on_a_phone_and_devices_are_named(page, live_server, lined_customer):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, lined_customer)
    page.goto(live_server + "/account/security")
    cell = page.locator("table.stack td.device").first
    assert cell.inner_text().startswith("Chrome")  # headless Chromium, named, not raw
    assert "Mozilla" not in page.locator("table.stack").inner_text()
    assert page.locator("table.stack thead").evaluate("e => e.offsetWidth") <= 1
    assert page.locator("table.stack tr").nth(1).evaluate("e => getComputedStyle(e).display") == (
        "block"
    )
    # A date or an IP address is one line, never broken.
    for element in page.locator("table.stack .nowrap").all():
        box = element.bounding_box()
        height = element.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
        assert box["height"] <= height * 1.2, element.inner_text()
    page.goto(live_server + "/account/profile")
    assert page.locator("#service-lines td[data-label='단말 번호']").first.is_visible()
    assert _fits(page)


def test_policy_contents_and_top_stay_reachable(page, live_server, seeded):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/privacy")
    page.locator(".policy-body h2").last.scroll_into_view_if_needed()
    bar = page.locator("#policy-to-top")
    assert bar.is_visible() and bar.bounding_box()["y"] < PHONE["height"]
    page.click("#policy-to-top a[href='#main']")
    assert page.evaluate("window.scrollY") < 200
    page.locator(".policy-body h2").last.scroll_into_view_if_needed()
    page.click("#policy-to-top a[href='#policy-toc']")
    assert page.locator("#policy-toc").is_visible()
    assert axe_violations(page) == []


def test_signed_in_flash_is_shown(page, live_server, customer):
    sign_in(page, live_server, customer)
    assert "로그인했습니다" in page.locator(".flashes").inner_text()


def test_locked_card_page_says_what_to_do(page, live_server, customer):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/login")
    assert "5회 연속 오류 시 30분간" in page.locator("#lockout-rule").inner_text()
    page.fill("#f-login_id", customer.login_id)
    page.fill("#f-password", customer.password)
    page.click("button[type=submit].button-primary")
    for _ in range(5):
        challenge = page.locator("#card-challenge")
        first = int(challenge.get_attribute("data-first-index"))
        last = int(challenge.get_attribute("data-last-index"))
        right_first, right_last = customer.card_answer(first, last)
        page.fill("#f-code_first", "00" if right_first != "00" else "11")
        page.fill("#f-code_last", right_last)
        page.click("button[type=submit].button-primary")
    text = page.locator("main").inner_text()
    assert "보안카드가 잠겼습니다" in text
    assert "다른 인증 수단" not in text
    help_box = page.locator("#step-two-help")
    assert "02-2679-8705" in help_box.inner_text() and "평일 09:00~18:00" in help_box.inner_text()
    assert help_box.locator("a[href='tel:0226798705']").is_visible()
    assert help_box.locator("a[href='/login/forgot-password']").is_visible()
    assert _fits(page)
    assert axe_violations(page) == []
    help_box.locator("a[href='/login']").click()
    page.wait_for_url(live_server + "/login")


def test_download_continues_after_reauthentication(page, live_server, customer, db):
    sign_in(page, live_server, customer)
    page.goto(live_server + "/account/profile")
    with db.engine.begin() as conn:  # the password was given too long ago
        conn.execute(
            update(UserSession.__table__).values(authenticated_at=utcnow() - timedelta(minutes=6))
        )
    page.click("#export-button")
    page.wait_for_url(live_server + "/reauth?next=/account/export")
    page.fill("#f-password", customer.password)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account/export")
    assert axe_violations(page) == []
    with page.expect_download() as info:
        page.click("#export-button")
    data = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert data["profile"]["login_id"] == customer.login_id
