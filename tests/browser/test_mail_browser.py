"""The real browser: a customer who forgot the password asks for a link from the login page,
opens the link from the mail (received by a real SMTP server), sets a new password, passes
the security card and is signed in; then signs in again with the new password."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import axe_violations, sign_in
from tests.mail.conftest import BASE_URL, SmtpServer, text_of

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Browser-Reset-2468"


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config(config, smtp_server):
    config.MAIL_SERVER = "127.0.0.1"
    config.MAIL_PORT = smtp_server.port
    config.PORTAL_BASE_URL = BASE_URL
    return config


def test_forgot_password_reset_flow(page, live_server, app, smtp_server, make_customer):
    customer = make_customer(login_id="forgetful")
    page.goto(live_server + "/login")
    page.click("#forgot-links a[href='/login/forgot-password']")
    page.wait_for_url(live_server + "/login/forgot-password")
    assert axe_violations(page) == []
    page.fill("#f-login_id", "forgetful")
    page.click("button[type=submit].button-primary")
    assert page.locator("#forgot-sent").is_visible()
    assert axe_violations(page) == []

    result = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output
    (message,) = smtp_server.inbox.messages
    path = re.search(re.escape(BASE_URL) + r"(/login/reset/\S+)", text_of(message)).group(1)

    page.goto(live_server + path)
    page.wait_for_url(live_server + "/login/reset")
    assert axe_violations(page) == []
    page.fill("#f-password", NEW_PASSWORD)
    page.fill("#f-password_confirm", NEW_PASSWORD)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/login/verify")
    challenge = page.locator("#card-challenge")
    first = int(challenge.get_attribute("data-first-index"))
    last = int(challenge.get_attribute("data-last-index"))
    code_first, code_last = customer.card_answer(first, last)
    page.fill("#f-code_first", code_first)
    page.fill("#f-code_last", code_last)
    page.click("button[type=submit].button-primary")
    page.wait_for_url(live_server + "/account")

    # The link is spent: opening it again says so.
    page.goto(live_server + path)
    assert "이미 사용한" in page.locator("#reset-invalid").inner_text()

    page.context.clear_cookies()
    customer.password = NEW_PASSWORD
    sign_in(page, live_server, customer)
