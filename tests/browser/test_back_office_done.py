"""Issue #12's "done when", in a real browser on the demo data: the demo admin registers a
customer, issues a card, answers an inquiry, completes a withdrawal — and finds each of those
in the access log, whose chain still verifies."""

from __future__ import annotations

import pyotp
import pytest

from portal.account.inquiries import submit_inquiry
from portal.audit.access import verify_chain
from portal.customers.services import customer_by_login_id
from portal.demo import load_demo
from portal.extensions import db
from portal.withdrawal.models import WithdrawalRequest
from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def test_the_demo_admin_does_the_days_work(page, live_server):
    base = live_server
    sign_ins = load_demo()
    db.session.commit()
    admin = next(s for s in sign_ins if s.get("staff") and s["login_id"] == "admin")
    # A customer with a question, and one leaving with nothing owed.
    asker = customer_by_login_id("kim_minsu")
    inquiry = submit_inquiry(asker, subject="위치 확인", body="지도에 위치가 안 보입니다.")
    leaver = customer_by_login_id("choi_newbie")
    db.session.add(WithdrawalRequest(customer_id=leaver.id, open_customer_id=leaver.id))
    db.session.commit()
    request_id = db.session.query(WithdrawalRequest.id).filter_by(customer_id=leaver.id).scalar()
    leaver_id = leaver.id

    page.goto(base + "/admin/login")
    page.fill("#f-login_id", admin["login_id"])
    page.fill("#f-password", admin["password"])
    page.click("button[type=submit].button-primary")
    page.fill("#f-otp", pyotp.TOTP(admin["otp_secret"]).now())
    page.click("button[type=submit].button-primary")
    page.wait_for_url(base + "/admin/")
    assert axe_violations(page) == []

    # 1. Register a customer from a paper application form.
    page.goto(base + "/admin/customers/new")
    page.fill("#f-login_id", "jung_haneul")
    page.fill("#f-name", "정하늘")
    page.fill("#f-email", "haneul@example.kr")
    page.fill("#f-phone", "010-4567-8901")
    page.fill("#f-postal_code", "04524")
    page.fill("#f-address", "서울특별시 중구 세종대로 110")
    page.click("button[type=submit].button-primary")
    assert page.locator(".card-codes li").count() == 35
    new_id = customer_by_login_id("jung_haneul").id

    # 2. Issue (reissue) a card from the customer's record, typing the login ID to confirm.
    page.goto(f"{base}/admin/customers/{new_id}")
    page.fill("#f-confirm_login_id", "jung_haneul")
    page.click("form[action$='/card'] button[type=submit]")
    assert page.locator(".card-codes li").count() == 35

    # 3. Answer the inquiry.
    page.goto(f"{base}/admin/inquiries/{inquiry.id}")
    page.fill("#f-body", "앱을 다시 시작해 주세요.")
    page.click("#inquiry-answer-submit")
    page.wait_for_url(base + "/admin/inquiries")

    # 4. Complete the withdrawal.
    page.goto(f"{base}/admin/withdrawals/{request_id}")
    page.fill("#f-confirm_login_id", "choi_newbie")
    page.click("#withdrawal-complete")
    page.wait_for_load_state()
    db.session.expire_all()
    assert customer_by_login_id("choi_newbie") is None

    # 5. Each of those is in the access log, shown to the admin.
    page.goto(base + "/admin/access-log/records?month=" + _this_month())
    table = page.locator("#records").inner_text()
    for action, customer_id in [
        ("register", new_id),
        ("card_issue", new_id),
        ("inquiry_answer", asker.id),
        ("withdrawal_complete", leaver_id),
    ]:
        assert any(
            action in line and f"\t{customer_id}\t" in line for line in table.splitlines()
        ), (action, customer_id, table)
    assert axe_violations(page) == []
    assert verify_chain().ok


def _this_month() -> str:
    from portal.dbtypes import kst_today

    return kst_today().strftime("%Y-%m")
