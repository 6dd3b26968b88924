"""The real browser over the back-office queues: an admin answers an inquiry, rejects a
correction, records a disclosure and completes a withdrawal; every queue page checked with
axe."""

from __future__ import annotations

from datetime import date

import pyotp
import pytest

from portal.account.corrections import request_correction
from portal.account.inquiries import submit_inquiry
from portal.admin.services import create_staff
from portal.billing.invoices import add_invoice, record_payment
from portal.customers.models import Customer
from portal.extensions import db
from portal.withdrawal.models import WithdrawalRequest
from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser
STAFF_PASSWORD = "Staff-pass-2026!"


def _staff_sign_in(page, base: str) -> None:
    _staff, secret = create_staff(
        login_id="desk_admin", name="관리자", role="admin", password=STAFF_PASSWORD
    )
    db.session.commit()
    page.goto(base + "/admin/login")
    page.fill("#f-login_id", "desk_admin")
    page.fill("#f-password", STAFF_PASSWORD)
    page.click("button[type=submit].button-primary")
    page.fill("#f-otp", pyotp.TOTP(secret).now())
    page.click("button[type=submit].button-primary")
    page.wait_for_url(base + "/admin/")


def test_queue_pages_work_and_are_accessible(page, live_server, make_customer):
    leaver = make_customer(login_id="leave_kim")
    asker = make_customer(login_id="ask_lee")
    row = db.session.get(Customer, leaver.id)
    invoice = add_invoice(row, amount=11000, due=date.today())
    record_payment(invoice.id, amount=11000)
    request = WithdrawalRequest(customer_id=leaver.id, open_customer_id=leaver.id)
    db.session.add(request)
    inquiry = submit_inquiry(
        db.session.get(Customer, asker.id), subject="위치 문의", body="위치가 안 보입니다."
    )
    correction = request_correction(
        db.session.get(Customer, asker.id), field="name", value="이바른", reason="개명"
    )
    db.session.commit()
    _staff_sign_in(page, live_server)
    assert "탈퇴 신청 (1)" in page.locator("#admin-menu").inner_text()

    # Inquiry: the queue, the detail page, the answer.
    page.click("#admin-menu a[href='/admin/inquiries']")
    assert axe_violations(page) == []
    page.click(f"a[href='/admin/inquiries/{inquiry.id}']")
    assert axe_violations(page) == []
    page.fill("#f-body", "단말기를 다시 켜 주세요.")
    page.click("#inquiry-answer-submit")
    page.wait_for_url(live_server + "/admin/inquiries")
    page.goto(live_server + "/admin/inquiries?view=answered")
    assert "위치 문의" in page.content()
    assert axe_violations(page) == []

    # Correction: a reason missing is shown next to the field; then rejected.
    page.goto(live_server + "/admin/corrections")
    assert axe_violations(page) == []
    page.click(f"a[href='/admin/corrections/{correction.id}']")
    page.click("#correction-reject")
    assert page.locator("#e-reason").is_visible()
    assert axe_violations(page) == []
    page.fill("#f-reason", "증빙 서류를 보내 주세요.")
    page.click("#correction-reject")
    page.wait_for_url(live_server + "/admin/corrections")

    # Disclosures ledger: a bad form, then a good one.
    page.goto(live_server + "/admin/disclosures")
    assert axe_violations(page) == []
    page.fill("#f-login_id", "ask_lee")
    page.click("#disclosure-submit")
    assert page.locator("#e-recipient").is_visible()
    assert axe_violations(page) == []
    page.fill("#f-recipient", "서울중부경찰서")
    page.fill("#f-basis", "형사소송법 제199조")
    page.check("input[name=items][value=phone]")
    page.click("#disclosure-submit")
    page.wait_for_url(live_server + "/admin/disclosures")
    assert "서울중부경찰서" in page.locator("#disclosure-ledger").inner_text()

    # Withdrawal: the wrong login ID does nothing; the right one completes it.
    page.goto(live_server + "/admin/withdrawals")
    assert axe_violations(page) == []
    page.click(f"a[href='/admin/withdrawals/{request.id}']")
    assert axe_violations(page) == []
    page.fill("#f-confirm_login_id", "someone_else")
    page.click("#withdrawal-complete")
    assert page.locator("#e-confirm_login_id").is_visible()
    assert axe_violations(page) == []
    db.session.expire_all()
    assert db.session.get(Customer, leaver.id) is not None
    page.fill("#f-confirm_login_id", "leave_kim")
    page.click("#withdrawal-complete")
    page.wait_for_url(live_server + "/admin/withdrawals")
    assert page.locator("#withdrawal-queue-empty").is_visible()
    db.session.expire_all()
    assert db.session.get(Customer, leaver.id) is None
