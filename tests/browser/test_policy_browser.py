"""Policy pages and home-page popups in a real browser, with and without JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from portal.dbtypes import next_kst_midnight
from tests.browser.conftest import axe_violations


@pytest.fixture
def popup_notice(app, db):
    from portal.policy.notices import post_notice
    from portal.policy.seed.loader import ensure_seed

    ensure_seed()
    notice = post_notice(
        title="연말 서버 점검 안내", body_md="점검 시간에는 쓸 수 없습니다.", popup=True
    )
    db.session.commit()
    return notice.id


@pytest.mark.parametrize("path", ["/privacy", "/privacy/versions", "/privacy/officers", "/notices"])
def test_policy_pages_are_accessible(page, live_server, popup_notice, path):
    response = page.goto(live_server + path)
    assert response.status == 200
    assert axe_violations(page) == []


def _hide_cookie(context, notice_id: int):
    return next((c for c in context.cookies() if c["name"] == f"notice_hidden_{notice_id}"), None)


def test_popup_with_javascript_is_a_modal_dialog(page, live_server, popup_notice):
    page.goto(live_server + "/")
    dialog = page.locator(f"dialog[data-popup='{popup_notice}']")
    assert dialog.is_visible()
    assert page.evaluate("document.querySelector('dialog[data-popup]').matches(':modal')")
    assert axe_violations(page) == []
    page.click("text=오늘 하루 이 창을 열지 않음")
    expect(dialog).to_be_hidden()
    cookie = _hide_cookie(page.context, popup_notice)
    expires = datetime.fromtimestamp(cookie["expires"], UTC)
    assert abs((expires - next_kst_midnight()).total_seconds()) < 5
    page.reload()
    assert page.locator("dialog[data-popup]").count() == 0


def test_popup_close_hides_it_for_this_view_only(page, live_server, popup_notice):
    page.goto(live_server + "/")
    dialog = page.locator(f"dialog[data-popup='{popup_notice}']")
    expect(dialog).to_be_visible()
    page.click("[data-popup-close]")
    # The dialog's "close" event (which removes it) is queued as a task after the click, so
    # an immediate count() raced it; expect() retries until the removal has happened.
    expect(page.locator("dialog[data-popup]")).to_have_count(0)
    page.reload()
    expect(dialog).to_be_visible()
    assert page.evaluate("document.querySelector('dialog[data-popup]').matches(':modal')")


def test_popup_without_javascript_is_a_banner_with_a_form(browser, live_server, popup_notice):
    context = browser.new_context(java_script_enabled=False, locale="ko-KR")
    try:
        page = context.new_page()
        page.goto(live_server + "/")
        dialog = page.locator(f"dialog[data-popup='{popup_notice}']")
        assert dialog.is_visible()  # rendered open, in place, as a banner
        # (axe itself needs script, so accessibility is checked in the JavaScript test.)
        page.click("text=오늘 하루 이 창을 열지 않음")  # a real POST with its CSRF token
        page.wait_for_url(live_server + "/")
        assert page.locator("dialog[data-popup]").count() == 0
        cookie = _hide_cookie(context, popup_notice)
        expires = datetime.fromtimestamp(cookie["expires"], UTC)
        assert abs((expires - next_kst_midnight()).total_seconds()) < 5
    finally:
        context.close()
