"""The back office's OFFICE screens in a real browser, checked with axe: the staff list and
account page, the shown-once page, the access-log review and the policy form."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import pytest
import time_machine

from portal.dbtypes import KST, kst_today
from tests.browser.conftest import axe_violations

PASSWORD = "Staff-pass-2026!"


@pytest.fixture
def admin(app, db):
    from portal.admin.services import create_staff
    from portal.audit.access import record_access

    _, secret = create_staff(login_id="boss", name="관리자", role="admin", password=PASSWORD)
    clerk, _ = create_staff(login_id="clerk", name="직원", role="support", password=PASSWORD)
    db.session.commit()
    first = kst_today().replace(day=1)
    last_month = datetime.combine(first - timedelta(days=3), datetime.min.time(), KST)
    with time_machine.travel(last_month.replace(hour=23), tick=False):
        for customer_id in range(1, 60):
            record_access(
                staff_id=clerk.id,
                actor="clerk",
                action="customer_view",
                customer_id=customer_id,
                fields=["name"],
            )
        record_access(staff_id=clerk.id, actor="clerk", action="login")
        db.session.commit()
    return secret


def _sign_in(page, base: str, secret: str) -> None:
    page.goto(base + "/admin/login")
    page.fill("#f-login_id", "boss")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/login/verify")
    page.fill("#f-otp", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/")


def test_office_screens_have_no_axe_violations(page, live_server, admin):
    _sign_in(page, live_server, admin)
    for path in (
        "/admin/staff",
        "/admin/staff/2",
        "/admin/staff/new",
        "/admin/staff/role-log",
        "/admin/access-log",
        "/admin/access-log/records",
        "/admin/policy",
        "/admin/policy/new",
        "/admin/notices",
        "/admin/notices/new",
    ):
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert axe_violations(page) == [], path
    page.goto(live_server + "/admin/access-log")
    assert page.locator("tr.flag-many_customers").count() == 1
    assert page.locator("tr.flag-night_login").count() == 1

    # The policy form: the earliest date is there before anything is typed.
    page.goto(live_server + "/admin/policy/new")
    earliest = (kst_today() + timedelta(days=7)).isoformat()
    assert earliest in page.locator("#earliest-effective").inner_text()

    # A new account's secrets, shown once, on an accessible page.
    page.goto(live_server + "/admin/staff/new")
    page.fill("#f-login_id", "newbie")
    page.fill("#f-name", "신입")
    page.select_option("#f-role", "billing")
    page.click("button[type=submit].button-primary")
    assert page.locator("#otp-secret").inner_text()
    assert page.locator("#temporary-password").inner_text().count("-") == 2
    assert "newbie" not in page.url
    assert axe_violations(page) == []
