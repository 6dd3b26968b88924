"""Sessions from outside (ASVS 3.2, 3.3, 3.4, 3.7): cookie names and attributes, no fixation,
logout and password change and withdrawal end sessions, re-authentication inside the window,
and the customer and staff sessions never open each other's pages.

Idle and absolute timeouts and the re-authentication window's end are in
``test_timeouts.py`` (a second server with short, production-valid settings).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
import uuid

import pyotp

from portal.auth import messages as m
from tests.security.authflow import (
    card_answer,
    challenge,
    cookie_attributes,
    error_text,
    path_of,
    sign_out,
)
from tests.security.live import FLASK, ROOT, SESSION_COOKIE, STAFF_COOKIE, Browser

NEW_PASSWORD = "Tq7!vRm2#Lz9-Kw"
STAFF_OLD = "Staff-Old-2026!x"


def _with_cookie(server, name: str, value: str) -> Browser:
    """A fresh browser (own address) holding only one copied cookie."""
    return Browser(server, cookies={name: value})


def _signed_out(reply, login: str = "/login") -> bool:
    return reply.status == 302 and path_of(reply) == login


# -- cookie attributes -------------------------------------------------------------------


def _assert_host_cookie(attrs: dict, samesite: str) -> None:
    # __Host-: browsers keep it only if Secure, Path=/ and no Domain; anything else and the
    # name would not protect against a sibling subdomain planting one.
    assert attrs.get("secure") is True, attrs
    assert attrs.get("httponly") is True, attrs
    assert attrs.get("path") == "/", attrs
    assert "domain" not in attrs, attrs
    assert str(attrs.get("samesite", "")).lower() == samesite, attrs


def test_customer_session_cookie_attributes(accounts, browser):
    account = accounts.card()
    replies = [browser.get("/login"), browser.password_step(account), browser.card_step(account)]
    seen = [cookie_attributes(r) for r in replies]
    session_cookies = [c[SESSION_COOKIE] for c in seen if SESSION_COOKIE in c]
    assert len(session_cookies) == 3, [list(c) for c in seen]
    for attrs in session_cookies:
        _assert_host_cookie(attrs, "lax")
    # Only __Host- session cookies, and never the staff cookie, for a customer.
    for cookies in seen:
        assert set(cookies) <= {SESSION_COOKIE}, cookies
    # Signing out clears the cookie with the same attributes (a browser ignores a deletion
    # of a __Host- cookie that lacks them, which would leave the old value behind).
    out = cookie_attributes(sign_out(browser))
    assert SESSION_COOKIE in out
    _assert_host_cookie(out[SESSION_COOKIE], "lax")


def test_staff_cookie_attributes(accounts, browser):
    staff = accounts.staff["support"]
    replies = [browser.get("/admin/login")]
    replies.append(
        browser.submit(
            "/admin/login", {"login_id": staff["login_id"], "password": staff["password"]}
        )
    )
    replies.append(
        browser.submit("/admin/login/verify", {"otp": pyotp.TOTP(staff["otp_secret"]).now()})
    )
    seen = [cookie_attributes(r) for r in replies]
    staff_cookies = [c[STAFF_COOKIE] for c in seen if STAFF_COOKIE in c]
    assert len(staff_cookies) == 1, [list(c) for c in seen]
    _assert_host_cookie(staff_cookies[0], "strict")
    for cookies in seen:
        if SESSION_COOKIE in cookies:
            _assert_host_cookie(cookies[SESSION_COOKIE], "lax")
        assert set(cookies) <= {SESSION_COOKIE, STAFF_COOKIE}, cookies
    assert browser.get("/admin/").status == 200
    out = browser.submit("/admin/logout", {}, page="/admin/")
    cleared = cookie_attributes(out)
    assert STAFF_COOKIE in cleared
    _assert_host_cookie(cleared[STAFF_COOKIE], "strict")


# -- fixation ----------------------------------------------------------------------------


def test_no_session_fixation(live, accounts, new_browser):
    account = accounts.card()
    attacker = new_browser()
    planted_page = attacker.get("/login")
    planted = attacker.cookies[SESSION_COOKIE]
    planted_token = planted_page.csrf()

    victim = new_browser()
    victim.cookies[SESSION_COOKIE] = planted  # the attacker's cookie, planted before sign-in
    victim.password_step(account)
    after_password = victim.cookies[SESSION_COOKIE]
    victim.card_step(account)
    signed_in = victim.cookies[SESSION_COOKIE]
    assert len({planted, after_password, signed_in}) == 3
    assert victim.get("/account").status == 200

    # The planted cookie, and even a copy taken after the password step, open nothing.
    assert _signed_out(_with_cookie(live, SESSION_COOKIE, planted).get("/account"))
    copy = _with_cookie(live, SESSION_COOKIE, after_password)
    assert _signed_out(copy.get("/account"))
    assert _signed_out(copy.get("/login/verify"))  # the pending login was used up
    # The CSRF token the attacker knew is not the signed-in session's.
    forged = victim.post("/logout", {"csrf_token": planted_token})
    assert forged.status == 400
    assert victim.get("/account").status == 200


# -- ending sessions ---------------------------------------------------------------------


def test_logout_kills_the_cookie_server_side(live, accounts, browser):
    browser.sign_in(accounts.card())
    copied = browser.cookies[SESSION_COOKIE]
    assert _with_cookie(live, SESSION_COOKIE, copied).get("/account").status == 200
    out = sign_out(browser)
    assert out.status == 302 and path_of(out) == "/"
    assert SESSION_COOKIE not in browser.cookies or browser.get("/account").status == 302
    # The copy taken while signed in (a stolen cookie) is dead too: the row is gone.
    replay = _with_cookie(live, SESSION_COOKIE, copied)
    assert _signed_out(replay.get("/account"))
    assert _signed_out(replay.get("/account/profile"))


def test_password_change_ends_other_sessions_and_rotates_this_one(live, accounts, new_browser):
    account = accounts.card()
    here, there = new_browser(), new_browser()
    here.sign_in(account)
    there.sign_in(account)
    before = here.cookies[SESSION_COOKIE]
    changed = here.submit(
        "/account/password",
        {
            "current_password": account["password"],
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert changed.status == 302 and path_of(changed) == "/account/security"
    # This browser carries on, with a new token; the cookie it had before is dead.
    assert here.get("/account").status == 200
    assert here.cookies[SESSION_COOKIE] != before
    assert _signed_out(_with_cookie(live, SESSION_COOKIE, before).get("/account"))
    # Every other session has ended.
    assert _signed_out(there.get("/account"))
    # The old password no longer opens a sign-in; the new one does.
    old = new_browser().password_step(account)
    assert old.status == 200 and error_text(old) == str(m.BAD_CREDENTIALS)
    new_browser().sign_in({**account, "password": NEW_PASSWORD})


def _withdraw(browser: Browser, account: dict):
    return browser.submit("/account/withdraw", {"password": account["password"], "confirm": "y"})


def test_completed_withdrawal_ends_every_session(accounts, new_browser):
    account = accounts.card()  # no invoices: the withdrawal completes at once
    here, there = new_browser(), new_browser()
    here.sign_in(account)
    there.sign_in(account)
    done = _withdraw(here, account)
    assert done.status == 302 and path_of(done) == "/account/withdraw/done"
    assert _signed_out(here.get("/account"))
    assert _signed_out(there.get("/account"))
    assert error_text(new_browser().password_step(account)) == str(m.BAD_CREDENTIALS)


def test_queued_withdrawal_keeps_sessions_until_staff_complete_it(live, accounts, new_browser):
    """PRODUCT.md §6: with invoice history the request waits for staff and the customer can
    still sign in; completing it (the same service as the portal) ends every session."""
    account = accounts.card()
    added = live.flask(
        "billing", "add-invoice", "--login-id", account["login_id"],
        "--amount", "16500", "--due", "2026-11-25", "--paid",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    here, there = new_browser(), new_browser()
    here.sign_in(account)
    there.sign_in(account)
    queued = _withdraw(here, account)
    assert queued.status == 302 and path_of(queued) == "/account/withdraw"
    assert 'id="withdraw-open-request"' in here.get("/account/withdraw").body
    assert here.get("/account").status == 200 and there.get("/account").status == 200

    listed = live.flask("withdrawals", "list")
    ids = [
        line.split("\t")[0]
        for line in listed.stdout.splitlines()
        if line.endswith("\t" + account["login_id"])
    ]
    assert len(ids) == 1, listed.stdout
    completed = live.flask("withdrawals", "complete", ids[0])
    assert completed.returncode == 0, completed.stderr
    assert _signed_out(here.get("/account"))
    assert _signed_out(there.get("/account"))


# -- re-authentication inside the window --------------------------------------------------

# Every page behind ensure_recent_password / @reauth_required (GET side).
REAUTH_PAGES = (
    "/account/password",
    "/account/security/otp",
    "/account/profile/edit",
    "/account/data",
    "/account/withdraw",
    "/billing/payment-method",
)


def test_sensitive_pages_open_right_after_sign_in(accounts, browser):
    """The counterpart of test_timeouts.py's expired window: a password typed at sign-in
    counts as recent, so the same pages open without a detour."""
    browser.sign_in(accounts.card())
    for path in REAUTH_PAGES:
        reply = browser.get(path)
        assert reply.status == 200, (path, reply.status, reply.location)


# -- staff isolation ---------------------------------------------------------------------


def test_customer_session_opens_nothing_under_admin(live, accounts, browser):
    browser.sign_in(accounts.card())
    value = browser.cookies[SESSION_COOKIE]
    for path in ("/admin/", "/admin/customers", "/admin/staff", "/admin/access-log"):
        reply = browser.get(path)
        assert reply.status == 302 and path_of(reply) == "/admin/login", (path, reply.status)
    # The customer's token offered as a staff cookie is no staff session either.
    forged = _with_cookie(live, STAFF_COOKIE, value)
    assert path_of(forged.get("/admin/")) == "/admin/login"
    assert browser.get("/account").status == 200


def test_staff_session_opens_no_customer_page(live, accounts, browser):
    browser.staff_sign_in(accounts.staff["admin"])
    assert browser.get("/admin/").status == 200
    for path in ("/account", "/account/profile", "/billing", "/account/security"):
        reply = browser.get(path)
        assert _signed_out(reply), (path, reply.status, reply.location)
    forged = _with_cookie(live, SESSION_COOKIE, browser.cookies[STAFF_COOKIE])
    assert _signed_out(forged.get("/account"))


def test_password_change_voids_a_sign_in_half_done_with_the_old_password(accounts, new_browser):
    """Someone who had the old password and stopped at the second step (a stolen card, a
    phished OTP) must not finish after the customer changed it: the change is why."""
    account = accounts.card()
    intruder, owner = new_browser(), new_browser()
    owner.sign_in(account)
    # (After the owner's sign-in: a new password step replaces any older pending login.)
    assert intruder.password_step(account).status == 302
    shown = intruder.get("/login/verify")
    pair, token = challenge(shown), shown.csrf()
    changed = owner.submit(
        "/account/password",
        {
            "current_password": account["password"],
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert changed.status == 302
    late = intruder.get("/login/verify")
    assert late.status == 302 and path_of(late) == "/login"
    # Even with the card in hand, answering the pair shown before the change: no way in.
    first, last = card_answer(account, pair)
    posted = intruder.post(
        "/login/verify",
        {"csrf_token": token, "code_first": first, "code_last": last},
    )
    assert _signed_out(posted)
    assert _signed_out(intruder.get("/account"))


def test_staff_password_change_voids_a_sign_in_half_done_with_the_old_password(live, new_browser):
    made = live.flask(
        "staff", "create", "--login-id", f"sx{uuid.uuid4().hex[:8]}", "--name", "보안담당",
        "--role", "support", "--password", STAFF_OLD, "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    staff = {**json.loads(made.stdout), "password": STAFF_OLD}
    owner, intruder = new_browser(), new_browser()
    owner.staff_sign_in(staff)
    step = intruder.submit(
        "/admin/login", {"login_id": staff["login_id"], "password": staff["password"]}
    )
    assert step.status == 302 and path_of(step) == "/admin/login/verify"
    changed = owner.submit(
        "/admin/password",
        {
            "current_password": STAFF_OLD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert changed.status == 302 and path_of(changed) == "/admin/", changed.status
    late = intruder.get("/admin/login/verify")
    assert late.status == 302 and path_of(late) == "/admin/login"


def _reset_link(live, tmp_path, address: str) -> str:
    """Deliver the outbox into a folder (MAIL_FOLDER) and read the reset link mailed to
    ``address``: the customer's own way to it."""
    folder = tmp_path / "mail"
    delivered = subprocess.run(
        [FLASK, "mail", "deliver"],
        cwd=ROOT,
        env={**live.env, "MAIL_FOLDER": str(folder)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert delivered.returncode == 0, delivered.stderr
    links = []
    for path in folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] and address in message["To"]:
            text = message.get_body(("plain",)).get_content()
            links += re.findall(r"/login/reset/[A-Za-z0-9_-]+", text)
    assert len(links) == 1, links
    return links[0]


def test_password_reset_by_mail_ends_every_session(live, accounts, new_browser, tmp_path):
    account = accounts.card()
    signed_in, other = new_browser(), new_browser()
    signed_in.sign_in(account)
    other.sign_in(account)
    asker = new_browser()
    assert asker.submit("/login/forgot-password", {"login_id": account["login_id"]}).status == 200
    link = _reset_link(live, tmp_path, f"{account['login_id']}@example.kr")
    opened = asker.get(link)
    assert opened.status == 302 and path_of(opened) == "/login/reset"
    chosen = asker.submit(
        "/login/reset", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert chosen.status == 302 and path_of(chosen) == "/login/verify"
    # Until the second factor passes, nothing has changed: the sessions still live.
    assert signed_in.get("/account").status == 200
    assert path_of(asker.card_step(account)) == "/account"
    assert _signed_out(signed_in.get("/account"))
    assert _signed_out(other.get("/account"))
    # The link was used up.
    assert new_browser().get(link).status == 410
