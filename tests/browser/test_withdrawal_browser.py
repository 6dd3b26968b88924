"""The real browser: a customer with no history withdraws and cannot sign in again; one with
an unpaid invoice is refused with the amount. Pages checked with axe."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.billing.invoices import add_invoice
from portal.customers.models import Customer
from portal.extensions import db
from tests.browser.conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser


def test_withdraw_then_cannot_sign_in(page, live_server, make_customer):
    customer = make_customer(login_id="bye_kim")
    sign_in(page, live_server, customer)
    page.click("a[href='/account/withdraw']")
    page.wait_for_url(live_server + "/account/withdraw")
    assert "본인확인에 관한 기록" in page.locator("#retention-periods").inner_text()
    assert axe_violations(page) == []
    page.fill("#f-password", customer.password)
    page.check("#f-confirm")
    page.click("#withdraw-submit")
    page.wait_for_url(live_server + "/account/withdraw/done")
    assert page.locator("#withdraw-done").is_visible()
    assert axe_violations(page) == []
    page.goto(live_server + "/login")
    page.fill("#f-login_id", customer.login_id)
    page.fill("#f-password", customer.password)
    page.click("button[type=submit].button-primary")
    assert "/login/verify" not in page.url
    db.session.expire_all()
    assert db.session.get(Customer, customer.id) is None


def test_unpaid_invoice_is_refused_with_the_amount(page, live_server, make_customer):
    customer = make_customer(login_id="owes_lee")
    add_invoice(
        db.session.get(Customer, customer.id), amount=33000, due=date.today() + timedelta(9)
    )
    db.session.commit()
    sign_in(page, live_server, customer)
    page.goto(live_server + "/account/withdraw")
    page.fill("#f-password", customer.password)
    page.check("#f-confirm")
    page.click("#withdraw-submit")
    refused = page.locator("#withdraw-refused")
    assert "33,000" in refused.inner_text()
    assert refused.locator("a[href='/billing']").count() == 1
    assert axe_violations(page) == []
    db.session.expire_all()
    assert db.session.get(Customer, customer.id) is not None


def test_rights_page_is_accessible(page, live_server, make_customer):
    customer = make_customer(login_id="rights_park")
    sign_in(page, live_server, customer)
    page.goto(live_server + "/account/rights")
    page.select_option("#f-kind", "consent_withdrawal")
    page.fill("#f-detail", "마케팅 수신 동의 철회")
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account/rights")
    assert "마케팅 수신 동의 철회" in page.locator("#rights-requests").inner_text()
    assert axe_violations(page) == []
