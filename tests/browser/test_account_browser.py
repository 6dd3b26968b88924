"""The real browser: the customer edits the profile and downloads the data export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, customer) -> None:
    page.goto(live_server + "/login")
    page.fill("#f-login_id", customer.login_id)
    page.fill("#f-password", customer.password)
    page.click("button[type=submit].button-primary")
    challenge = page.locator("#card-challenge")
    first = int(challenge.get_attribute("data-first-index"))
    last = int(challenge.get_attribute("data-last-index"))
    code_first, code_last = customer.card_answer(first, last)
    page.fill("#f-code_first", code_first)
    page.fill("#f-code_last", code_last)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account")


def test_edit_profile_and_download_export(page, live_server, customer):
    _sign_in(page, live_server, customer)
    assert page.locator("#no-invoices").is_visible()
    assert axe_violations(page) == []

    page.goto(live_server + "/account/profile/edit")
    assert axe_violations(page) == []
    page.fill("#f-email", "not-an-email")
    page.click("button[type=submit].button-primary")
    assert "올바른 이메일 주소가 아닙니다" in page.locator(".form-errors").inner_text()
    assert axe_violations(page) == []
    page.fill("#f-email", "browser@example.kr")
    page.fill("#f-username", "브라우저길동")
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account/profile")
    assert "회원 정보를 저장했습니다" in page.locator(".flashes").inner_text()
    assert "browser@example.kr" in page.content()
    assert "등록된 결제 정보가 없습니다" in page.locator("#no-billing").inner_text()
    assert axe_violations(page) == []

    with page.expect_download() as info:
        page.click("#export-button")
    download = info.value
    assert download.suggested_filename.endswith(".json")
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["profile"]["email"] == "browser@example.kr"
    assert data["profile"]["username"] == "브라우저길동"
    assert data["schema_version"] == 1
    assert any(e["kind"] == "profile_updated" for e in data["events"])


def test_account_pages_are_accessible(page, live_server, customer):
    _sign_in(page, live_server, customer)
    for path in ("/account/corrections", "/account/disclosures", "/account/inquiries"):
        page.goto(live_server + path)
        assert axe_violations(page) == [], path
    page.goto(live_server + "/account/inquiries")
    page.fill("#f-subject", "요금 문의")
    page.fill("#f-body", "청구서를 받지 못했습니다.")
    page.click("button[type=submit].button-primary")
    assert "문의를 접수했습니다" in page.locator(".flashes").inner_text()
    assert axe_violations(page) == []


def test_late_submit_goes_through_reauth_and_keeps_what_was_typed(page, live_server, customer, db):
    """PRODUCT.md §2: the edit is refused after the re-auth window; after the password the typed
    values come back (not yet saved) and one more click saves them."""
    from datetime import timedelta

    from sqlalchemy import update

    from portal.auth.models import UserSession
    from portal.dbtypes import utcnow

    _sign_in(page, live_server, customer)
    page.goto(live_server + "/account/profile/edit")
    assert page.input_value("#f-phone") == "010-1234-5678"  # national form, not E.164
    page.fill("#f-email", "late@example.kr")
    page.fill("#f-phone", "010-2468-1357")
    with db.engine.begin() as conn:  # the customer typed slowly: the window has closed
        conn.execute(
            update(UserSession.__table__).values(authenticated_at=utcnow() - timedelta(minutes=6))
        )
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/reauth?next=/account/profile/edit")
    assert "아직 저장하지 않았습니다" in page.locator(".flashes").inner_text()
    page.fill("#f-password", customer.password)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account/profile/edit")
    assert page.locator("#draft-restored").is_visible()
    assert page.input_value("#f-email") == "late@example.kr"
    assert page.input_value("#f-phone") == "010-2468-1357"
    assert axe_violations(page) == []
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account/profile")
    assert "회원 정보를 저장했습니다" in page.locator(".flashes").inner_text()
    assert "late@example.kr" in page.content() and "010-2468-1357" in page.content()
