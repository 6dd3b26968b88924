"""The real browser: the warning before the idle timeout, and "연장" (issue 14).

The server runs with a 10-second idle timeout and warns 5 seconds before it ends.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.auth.models import UserSession
from tests.browser.conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser

IDLE_SECONDS = 10


@pytest.fixture
def config(config):
    config.PORTAL_SESSION_IDLE_SECONDS = IDLE_SECONDS
    config.PORTAL_IDLE_WARNING_SECONDS = 5
    return config


def _last_seen(db):
    with db.engine.connect() as conn:
        return conn.execute(select(UserSession.__table__.c.last_seen_at)).scalar_one()


def test_idle_warning_offers_extend_and_extend_keeps_the_session(page, live_server, customer, db):
    sign_in(page, live_server, customer)
    dialog = page.locator("#idle-warning")
    assert dialog.is_hidden()  # nothing until the warning time
    before = _last_seen(db)
    dialog.wait_for(state="visible", timeout=IDLE_SECONDS * 1000)
    assert "곧 자동으로 로그아웃됩니다" in dialog.inner_text()
    assert page.evaluate("document.activeElement.id") == "idle-extend"
    assert axe_violations(page) == []
    page.keyboard.press("Enter")  # 연장
    dialog.wait_for(state="hidden")
    assert _last_seen(db) > before
    # Past the first deadline: still signed in, because "연장" counted as activity.
    page.wait_for_timeout(6_000)
    page.goto(live_server + "/account/profile")
    assert page.url == live_server + "/account/profile"


def test_without_extend_the_page_ends_up_at_the_sign_in_page(page, live_server, customer):
    sign_in(page, live_server, customer)
    page.locator("#idle-warning").wait_for(state="visible", timeout=IDLE_SECONDS * 1000)
    page.wait_for_url(f"{live_server}/login**", timeout=(IDLE_SECONDS + 5) * 1000)
    assert "오랫동안 사용하지 않아 로그아웃되었습니다" in page.locator(".flashes").inner_text()


def test_without_javascript_nothing_is_shown(browser, live_server, customer):
    context = browser.new_context(java_script_enabled=False, locale="ko-KR")
    tab = context.new_page()
    try:
        sign_in(tab, live_server, customer)
        assert tab.locator("#idle-warning").is_hidden()
        assert tab.locator("body").get_attribute("data-idle-seconds") == str(IDLE_SECONDS)
    finally:
        context.close()
