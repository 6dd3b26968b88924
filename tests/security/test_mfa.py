"""The second factor from outside (ASVS 2.7, 2.8, 2.6, 3.2): it cannot be skipped, it is bound
to the customer whose password opened the sign-in, a TOTP code and a recovery code work once,
the card's pair is pinned and the card locks.
"""

from __future__ import annotations

import os
import re

import pyotp
import pytest

from portal.auth import messages as m
from tests.security.authflow import (
    answer_card,
    card_answer,
    challenge,
    error_text,
    path_of,
    recovery_step,
    sign_out,
)
from tests.security.live import SESSION_COOKIE

# Public while signed out by design: the confirmation after a completed withdrawal (the
# customer no longer exists, so it cannot ask for a session).
PUBLIC = {"/account/withdraw/done"}


def _customer_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the customer's signed-in area, read from the app's URL map
    (a new page is covered without touching this test); ids filled with 1."""
    os.environ.setdefault("PORTAL_INSTANCE_PATH", "/nonexistent-portal-instance")
    from tests.conftest import _metadata_app

    app = _metadata_app("sqlite://")
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/account", "/billing", "/reauth")) or rule.rule in PUBLIC:
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return sorted(set(routes))


def _other(accounts, kind: str, unlike: dict, differs) -> dict:
    """Another fresh account of ``kind`` whose secret differs from ``unlike``'s where it
    matters (two cards may agree on a 2+2 answer: 1 in 10,000)."""
    while True:
        other = getattr(accounts, kind)()
        if differs(other):
            return other


# -- not skippable -----------------------------------------------------------------------


def test_after_the_password_step_no_signed_in_page_opens(accounts, browser):
    account = accounts.card()
    step = browser.password_step(account)
    assert step.status == 302 and step.location == "/login/verify"
    assert SESSION_COOKIE in browser.cookies
    token = browser.get("/login/verify").csrf()
    routes = _customer_routes()
    assert ("GET", "/account") in routes and ("POST", "/account/password") in routes
    for method, path in routes:
        form = {"csrf_token": token}
        reply = browser.get(path) if method == "GET" else browser.post(path, form)
        assert reply.status == 302, (method, path, reply.status)
        assert path_of(reply) == "/login", (method, path, reply.location)
    # And the pending login is still there, untouched by all that.
    page = browser.get("/login/verify")
    assert page.status == 200 and challenge(page)


def test_only_the_second_factor_opens_the_account(accounts, browser):
    account = accounts.otp()
    browser.password_step(account)
    assert browser.get("/account").status == 302
    browser.otp_step(account)
    assert browser.get("/account").status == 200


# -- bound to the right customer --------------------------------------------------------


def test_another_customers_card_answer_fails(accounts, browser):
    account = accounts.card()
    browser.password_step(account)
    pair = challenge(browser.get("/login/verify"))
    other = _other(
        accounts, "card", account, lambda o: card_answer(o, pair) != card_answer(account, pair)
    )
    reply = answer_card(browser, card_answer(other, pair))
    assert reply.status == 200
    assert error_text(reply) == str(m.CARD_WRONG % {"count": 1, "limit": 5})
    assert browser.get("/account").status == 302
    # The customer's own answer to the same (still pinned) pair then works.
    assert challenge(browser.get("/login/verify")) == pair
    assert path_of(answer_card(browser, card_answer(account, pair))) == "/account"


def test_another_customers_otp_code_fails(accounts, browser):
    account = accounts.otp()
    other = _other(
        accounts,
        "otp",
        account,
        lambda o: pyotp.TOTP(o["otp_secret"]).now() != pyotp.TOTP(account["otp_secret"]).now(),
    )
    browser.password_step(account)
    reply = browser.otp_step(account, code=pyotp.TOTP(other["otp_secret"]).now())
    assert reply.status == 200 and error_text(reply).startswith(
        str(m.OTP_WRONG % {"count": 1, "limit": 5})[:20]
    )
    assert browser.get("/account").status == 302


def test_another_customers_recovery_code_fails(accounts, browser):
    account, other = accounts.otp(), accounts.otp()
    browser.password_step(account)
    reply = recovery_step(browser, other["recovery_codes"][0])
    assert reply.status == 200 and error_text(reply) == str(m.RECOVERY_WRONG)
    assert browser.get("/account").status == 302
    # The other customer's code was not spent by that.
    mine = browser.__class__(browser.server)
    mine.password_step(other)
    assert path_of(recovery_step(mine, other["recovery_codes"][0])) == "/account"


def test_swapped_cookies_mid_sign_in_do_not_mix_customers(accounts, new_browser):
    alice = accounts.card()
    bob = _other(accounts, "card", alice, lambda o: o["card_codes"] != alice["card_codes"])
    a, b = new_browser(), new_browser()
    a.password_step(alice)
    b.password_step(bob)
    # a now carries Bob's pending sign-in.
    a.cookies[SESSION_COOKIE] = b.cookies[SESSION_COOKIE]
    pair = challenge(a.get("/login/verify"))
    if card_answer(alice, pair) != card_answer(bob, pair):
        refused = answer_card(a, card_answer(alice, pair))
        assert refused.status == 200 and a.get("/account").status == 302
    # Only Bob's own answer opens, and it opens Bob's account, never Alice's.
    assert path_of(answer_card(a, card_answer(bob, pair))) == "/account"
    profile = a.get("/account/profile")
    assert profile.status == 200
    assert bob["login_id"] in profile.body and alice["login_id"] not in profile.body
    # Bob's pending login was used up by that sign-in: his own browser cannot finish it.
    assert path_of(b.get("/login/verify")) == "/login"


# -- TOTP replay and recovery codes ------------------------------------------------------


def test_totp_code_is_accepted_once(accounts, new_browser):
    account = accounts.otp()
    code = pyotp.TOTP(account["otp_secret"]).now()
    first = new_browser()
    first.password_step(account)
    assert path_of(first.otp_step(account, code=code)) == "/account"

    second = new_browser()
    second.password_step(account)
    replay = second.otp_step(account, code=code)
    assert replay.status == 200
    assert error_text(replay) == str(m.OTP_REPLAY)
    assert second.get("/account").status == 302


def test_recovery_code_is_single_use(accounts, new_browser):
    account = accounts.otp()
    code = account["recovery_codes"][0]
    first = new_browser()
    first.password_step(account)
    used = recovery_step(first, code)
    assert used.status == 302 and path_of(used) == "/account"

    # Again in the same browser after signing out, and in another browser: refused both.
    assert sign_out(first).status == 302
    first.password_step(account)
    again = recovery_step(first, code)
    assert again.status == 200 and error_text(again) == str(m.RECOVERY_WRONG)
    assert first.get("/account").status == 302
    elsewhere = new_browser()
    elsewhere.password_step(account)
    other = recovery_step(elsewhere, code.upper().replace("-", ""))
    assert other.status == 200 and error_text(other) == str(m.RECOVERY_WRONG)
    assert elsewhere.get("/account").status == 302
    # A code not yet used still works: the refusals were about that one code.
    assert path_of(recovery_step(elsewhere, account["recovery_codes"][1])) == "/account"


# -- the card: pinned pair, stale answers, lock ------------------------------------------


def test_card_pair_is_pinned_across_reloads_and_failures(accounts, browser):
    account = accounts.card()
    browser.password_step(account)
    pair = challenge(browser.get("/login/verify"))
    assert all(challenge(browser.get("/login/verify")) == pair for _ in range(3))
    wrong = browser.card_step(account, wrong=True)
    assert wrong.status == 200 and challenge(wrong) == pair
    # A new step 1 (a new pending login) keeps the card's pair too.
    browser.password_step(account)
    assert challenge(browser.get("/login/verify")) == pair
    assert path_of(browser.card_step(account)) == "/account"
    # Answered: that pair is never asked again.
    sign_out(browser)
    browser.password_step(account)
    assert challenge(browser.get("/login/verify")) != pair


def test_stale_pair_answer_is_refused(accounts, browser):
    account = accounts.card()
    browser.password_step(account)
    pinned = challenge(browser.get("/login/verify"))
    stale = (pinned[1], pinned[0])  # another pair (codes are two different numbers)
    stale_answer = card_answer(account, stale)
    if stale_answer == card_answer(account, pinned):
        pytest.skip("the two pairs happen to share their answer")
    reply = answer_card(
        browser,
        stale_answer,
        challenge_first=str(stale[0]),
        challenge_last=str(stale[1]),
    )
    assert reply.status == 200 and error_text(reply) == str(m.CARD_STALE)
    assert browser.get("/account").status == 302
    # Without the form's pair fields it is just a wrong answer to the pinned pair.
    plain = answer_card(browser, stale_answer)
    assert plain.status == 200 and error_text(plain) == str(m.CARD_WRONG % {"count": 1, "limit": 5})
    # The stale answer was not counted: this is the first failure.
    assert path_of(browser.card_step(account)) == "/account"


def test_card_locks_after_the_limit_and_then_refuses_the_right_answer(live, accounts, browser):
    account = accounts.card()
    limit = int(live.env.get("PORTAL_CARD_MAX_FAILURES", 5))
    browser.password_step(account)
    pair = challenge(browser.get("/login/verify"))
    for count in range(1, limit):
        reply = browser.card_step(account, wrong=True)
        assert error_text(reply) == str(m.CARD_WRONG % {"count": count, "limit": limit})
    locking = browser.card_step(account, wrong=True)
    assert error_text(locking) == str(m.CARD_LOCKED_ONLY)
    # The right answer to the pinned pair now fails; the page shows the locked-card help.
    page = browser.get("/login/verify")
    assert page.status == 200
    assert error_text(page) == str(m.CARD_LOCKED_ONLY)
    assert 'id="step-two-help"' in page.body and 'id="card-challenge"' not in page.body
    # (The locked page has no form; the session's CSRF token from the sign-in page.)
    first, last = card_answer(account, pair)
    right = browser.post(
        "/login/verify",
        {"csrf_token": browser.get("/login").csrf(), "code_first": first, "code_last": last},
    )
    assert right.status == 200 and error_text(right) == str(m.CARD_LOCKED_ONLY)
    assert browser.get("/account").status == 302
    # Locked for every new sign-in too, from any browser.
    again = browser.__class__(browser.server)
    again.password_step(account)
    assert error_text(again.get("/login/verify")) == str(m.CARD_LOCKED_ONLY)


def _otp_locked_re() -> re.Pattern:
    return re.compile(re.escape(str(m.OTP_LOCKED) % {"minutes": "<N>"}).replace("<N>", r"\d+"))


@pytest.mark.parametrize("last_guess", ["otp", "recovery"])
def test_otp_locks_at_the_limit_for_codes_and_recovery_codes_alike(
    live, accounts, browser, last_guess
):
    """The limit-th wrong guess locks, whether it is an OTP code or a recovery code (both
    count toward one lock); then the right code and an unused recovery code are refused."""
    account = accounts.otp()
    limit = int(live.env.get("PORTAL_OTP_MAX_FAILURES", 5))
    right = pyotp.TOTP(account["otp_secret"]).now()
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    browser.password_step(account)
    for count in range(1, limit):
        reply = browser.otp_step(account, code=wrong)
        assert str(m.OTP_WRONG % {"count": count, "limit": limit}) == error_text(reply)
    if last_guess == "otp":
        locking = browser.otp_step(account, code=wrong)
    else:
        locking = recovery_step(browser, "aaaaa-bbbbb")
    assert locking.status == 200 and _otp_locked_re().fullmatch(error_text(locking))
    token = browser.get("/login").csrf()
    refused = browser.post("/login/verify", {"csrf_token": token, "otp": right})
    assert refused.status == 200 and _otp_locked_re().fullmatch(error_text(refused))
    spare = recovery_step(browser, account["recovery_codes"][0])
    assert spare.status == 200 and _otp_locked_re().fullmatch(error_text(spare))
    assert browser.get("/account").status == 302
