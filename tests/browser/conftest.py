"""A live server on 127.0.0.1 and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if REQUIRE_BROWSER:
            pytest.fail("REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def axe_violations(page) -> list[str]:
    """Run axe-core on the current page; returns one line per violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response.get("violations", [])
    ]


def sign_in(page, base: str, customer, *, check_axe: bool = False) -> None:
    """Sign ``customer`` in through the real pages: password, then card or OTP."""
    import pyotp

    page.goto(base + "/login")
    page.fill("#f-login_id", customer.login_id)
    page.fill("#f-password", customer.password)
    page.click("button[type=submit].button-primary")
    if customer.card_codes:
        challenge = page.locator("#card-challenge")
        first = int(challenge.get_attribute("data-first-index"))
        last = int(challenge.get_attribute("data-last-index"))
        assert f"{first}번 코드의 앞 2자리" in challenge.inner_text()
        if check_axe:
            assert axe_violations(page) == []
        code_first, code_last = customer.card_answer(first, last)
        page.fill("#f-code_first", code_first)
        page.fill("#f-code_last", code_last)
    else:
        assert page.locator("#f-otp").get_attribute("autocomplete") == "one-time-code"
        if check_axe:
            assert axe_violations(page) == []
        page.fill("#f-otp", pyotp.TOTP(customer.otp_secret).now())
    page.click("button[type=submit].button-primary")
    page.wait_for_url(base + "/account")
