"""The real browser: /billing and a printable document, checked with axe; print to A4."""

from __future__ import annotations

import pytest

from portal.billing.invoices import add_invoice, record_payment
from portal.customers.models import Customer
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

    page.goto(live_server + "/billing/payment-method")
    assert axe_violations(page) == []

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
