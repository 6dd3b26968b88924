"""Idle and absolute timeouts, and the re-authentication window's end (ASVS 3.3.1, 3.3.2,
3.7.1), on a second live server: the same production configuration with short, valid
settings (``PORTAL_SESSION_IDLE_SECONDS`` and the rest are read from the environment), so the
real clock runs out in seconds instead of half an hour.

"Last seen" is written at most once a minute (PRODUCT.md §2), so within these few seconds
only "연장" (``POST /account/session/extend``) counts as activity: that is what keeps the
absolute-timeout customer from going idle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from portal.auth import messages as m
from tests.conftest import TEST_REDIS_URL
from tests.security.authflow import flashes, path_of, sql
from tests.security.live import SESSION_COOKIE, Browser, LiveServer
from tests.security.test_sessions import REAUTH_PAGES

IDLE, ABSOLUTE, REAUTH, STEP2 = 4, 9, 2, 4
SHORT = {
    "PORTAL_SESSION_IDLE_SECONDS": str(IDLE),
    "PORTAL_SESSION_ABSOLUTE_SECONDS": str(ABSOLUTE),
    "PORTAL_IDLE_WARNING_SECONDS": "1",  # at most half the idle timeout
    "PORTAL_STAFF_IDLE_SECONDS": str(IDLE),
    "PORTAL_REAUTH_SECONDS": str(REAUTH),
    "PORTAL_STEP2_SECONDS": str(STEP2),
}


@pytest.fixture(scope="module")
def short(tmp_path_factory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("short"), redis_url=TEST_REDIS_URL or None)
    server.env.update(SHORT)
    server.first_accounts = server.start(accounts=3)
    yield server
    server.stop()


def _expiries(server: LiveServer, customer_id: int) -> list[str]:
    rows = sql(
        server,
        "SELECT detail FROM security_events WHERE kind = 'session_expired' AND customer_id = ?",
        customer_id,
    )
    return [detail for (detail,) in rows]


def _until(start: float, seconds: float) -> None:
    time.sleep(max(0.0, start + seconds - time.monotonic()))


def test_idle_timeout_signs_customers_and_staff_out_and_step_two_expires(short):
    """One wait for three clocks: the customer's and the staff member's idle timeouts, and
    the time allowed between the password and the second factor."""
    customer = Browser(short)
    staff = Browser(short)
    halfway = Browser(short)
    account = short.first_accounts["card"][0]
    customer.sign_in(account)
    staff.staff_sign_in(short.first_accounts["staff"]["support"])
    assert halfway.password_step(short.first_accounts["otp"][0]).status == 302
    start = time.monotonic()
    assert customer.get("/account").status == 200
    assert staff.get("/admin/").status == 200
    _until(start, IDLE + 1)
    reply = customer.get("/account")
    assert reply.status == 302 and path_of(reply) == "/login"
    assert str(m.SESSION_EXPIRED) in flashes(customer.get(reply.location))
    assert _expiries(short, account["id"]) == ["idle"]
    assert path_of(staff.get("/admin/")) == "/admin/login"
    late = halfway.get("/login/verify")
    assert late.status == 302 and path_of(late) == "/login"
    landing = halfway.get("/login")
    assert str(m.STEP2_EXPIRED) in flashes(landing)
    code = pyotp.TOTP(short.first_accounts["otp"][0]["otp_secret"]).now()
    answered = halfway.post("/login/verify", {"csrf_token": landing.csrf(), "otp": code})
    assert answered.status == 302 and path_of(answered) == "/login"
    assert path_of(halfway.get("/account")) == "/login"


def test_absolute_timeout_ends_even_an_active_session(short):
    browser = Browser(short)
    account = short.first_accounts["card"][1]
    browser.sign_in(account)
    start = time.monotonic()
    token = browser.get("/account").csrf()
    # Active all along: "연장" every couple of seconds keeps the idle clock from running out,
    # and the password typed again at 7 s re-signs the cookie (Flask refuses a session cookie
    # older than PERMANENT_SESSION_LIFETIME, the absolute timeout, on its own): what ends the
    # session at 9 s is then the server-side rule alone.
    for moment in (2, 4, 6, 7, 8):
        _until(start, moment)
        if moment == 7:
            reply = browser.submit("/reauth", {"password": account["password"]})
            assert reply.status == 302, reply.status
            continue
        extended = browser.post(
            "/account/session/extend", {"csrf_token": token}, headers={"Accept": "application/json"}
        )
        assert extended.status == 200, (moment, extended.status, extended.location)
    assert browser.get("/account").status == 200  # still inside both limits
    _until(start, ABSOLUTE + 1)
    reply = browser.get("/account")
    assert reply.status == 302 and path_of(reply) == "/login"
    assert _expiries(short, account["id"]) == ["absolute"]


def test_sensitive_actions_ask_for_the_password_once_the_window_closed(short):
    browser = Browser(short)
    account = short.first_accounts["card"][2]
    browser.sign_in(account)
    start = time.monotonic()
    token = browser.get("/account").csrf()
    email_before = account["login_id"] + "@example.kr"
    _until(start, REAUTH + 0.5)

    for path in REAUTH_PAGES:
        reply = browser.get(path)
        assert reply.status == 302 and path_of(reply) == "/reauth", (path, reply.status)
        assert parse_qs(urlsplit(reply.location).query)["next"] == [path]

    # The forms behind them, posted late (an open tab), change nothing.
    posts = {
        "/account/password": {
            "current_password": account["password"],
            "new_password": "Tq7!vRm2#Lz9-Kw",
            "new_password_confirm": "Tq7!vRm2#Lz9-Kw",
        },
        "/account/profile/edit": {"email": "changed@example.kr"},
        "/account/export": {},
        "/account/security/recovery-codes": {},
        "/account/security/otp": {"otp": "123456"},
        "/account/withdraw": {"password": account["password"], "confirm": "y"},
        "/billing/payment-method": {"kind": "deposit"},
    }
    for path, data in posts.items():
        reply = browser.post(path, {"csrf_token": token, **data})
        assert reply.status == 302 and path_of(reply) == "/reauth", (path, reply.status)
    assert browser.get("/account").status == 200  # not withdrawn, still signed in

    # The password again: the page opens, with a new token (the old cookie is dead).
    before = browser.cookies[SESSION_COOKIE]
    again = browser.submit(
        "/reauth?next=/account/profile", {"password": account["password"]}
    )  # the old password still works: the late password change did nothing
    assert again.status == 302 and path_of(again) == "/account/profile"
    assert browser.cookies[SESSION_COOKIE] != before
    profile = browser.get("/account/profile")
    assert profile.status == 200 and email_before in profile.body
    assert "changed@example.kr" not in profile.body
    assert browser.get("/account/data").status == 200
    stale = Browser(short, cookies={SESSION_COOKIE: before})
    assert path_of(stale.get("/account")) == "/login"
