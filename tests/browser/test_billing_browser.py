"""The real browser: /billing and a printable document, checked with axe; print to A4."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.auth.models import UserSession
from portal.billing.invoices import add_invoice, record_payment
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.extensions import db
from tests.browser.conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser


def test_billing_page_and_tax_invoice(page, live_server, make_customer):
    business = make_customer(
        login_id="arion_biz",
        name="아리온물류(주)",
        customer_type="business",
        birth_date=None,
        business_number="1248100998",
    )
    row = db.session.get(Customer, business.id)
    invoice = add_invoice(row, amount=33000, due="2026-12-25", period="2026-11")
    record_payment(invoice.id, amount=3000, paid_on=invoice.issued_on)
    db.session.commit()
    sign_in(page, live_server, business)
    page.click("a#billing-link")
    page.wait_for_url(live_server + "/billing")
    assert page.locator("#balance-due").inner_text() == "30,000원"
    assert axe_violations(page) == []

    # Setting an auto-debit account asks for the password again once the sign-in is older
    # than the re-authentication window (here: made older in the database).
    db.session.execute(
        update(UserSession)
        .where(UserSession.customer_id == business.id)
        .values(authenticated_at=utcnow() - timedelta(minutes=10))
    )
    db.session.commit()
    page.goto(live_server + "/billing/payment-method")
    page.wait_for_url(lambda url: "/reauth" in url)
    page.fill("#f-password", business.password)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/billing/payment-method")
    assert axe_violations(page) == []
    page.check("input[name=kind][value=auto_debit]")
    page.fill("#f-holder_name", "아리온물류(주)")
    page.fill("#f-holder_business_number", "124-81-00998")
    page.select_option("#f-bank_code", "088")
    page.fill("#f-account_number", "110-234-567890")
    page.fill("#f-phone", "02-1234-5678")
    page.fill("#f-email", "billing@arion.example.kr")
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/billing")
    shown = page.locator("#payment-method").inner_text()
    assert "7890" in shown and "신한" in shown
    html = page.content()
    assert "110-234-567890" not in html and "110234567890" not in html

    page.goto(f"{live_server}/billing/invoices/{invoice.id}/tax-invoice")
    assert page.locator("#supply").inner_text() == "30,000원"
    assert page.locator("#vat").inner_text() == "3,000원"
    assert axe_violations(page) == []
    page.emulate_media(media="print")
    assert not page.locator("header.site-header").is_visible()
    assert page.locator("#tax-invoice").is_visible()
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1, f"the tax invoice prints on {pages} A4 pages"
