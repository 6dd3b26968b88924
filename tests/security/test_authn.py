"""Enumeration and lockout, from outside (ASVS 2.2.1, 2.5.2, 3.2, 7.x): the sign-in, forgotten
password and forgotten login-ID pages answer an unknown account exactly as a known one, the
account lock holds whichever address the guesses come from and whatever the password, and
one address cannot spray many accounts.

The number of bcrypt checks cannot be seen from outside without a timing assertion, so it is
counted in-process (the Flask test client, bcrypt's ``checkpw`` wrapped): the one in-process
test of this file.
"""

from __future__ import annotations

import re
import uuid

import bcrypt
import pytest

from portal.auth import messages as m
from tests.security.authflow import (
    comparable,
    cookie_shape,
    error_text,
    path_of,
    sql,
)

WRONG = "Wrong-Password-2026!"


def _unknown_id() -> str:
    return "nx" + uuid.uuid4().hex[:10]


def _login(browser, login_id: str, password: str):
    return browser.submit("/login", {"login_id": login_id, "password": password})


# -- enumeration -------------------------------------------------------------------------


def test_unknown_id_and_wrong_password_get_the_same_answer(accounts, new_browser):
    account = accounts.card()
    unknown = _unknown_id()
    known_reply = _login(new_browser(), account["login_id"], WRONG)
    unknown_reply = _login(new_browser(), unknown, WRONG)

    assert known_reply.status == unknown_reply.status == 200
    assert error_text(known_reply) == error_text(unknown_reply) == str(m.BAD_CREDENTIALS)
    # The whole page, once the CSRF token and the echoed login ID are blanked.
    assert comparable(known_reply, account["login_id"]) == comparable(unknown_reply, unknown)
    # The same cookies, with the same attributes (a pending login would show as a new value
    # of the session cookie with other content, not as another cookie: see the MFA tests).
    assert cookie_shape(known_reply) == cookie_shape(unknown_reply)
    assert known_reply.location == unknown_reply.location == ""


def test_unknown_id_costs_the_same_bcrypt_checks_as_a_wrong_password(
    app, client, make_customer, monkeypatch
):
    """In-process (the Flask test client): bcrypt's checkpw wrapped to count the checks."""
    from tests.conftest import AuthActions, DemoCustomer

    customer = make_customer(login_id="enum_known")
    calls: list[int] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password, hashed):
        calls.append(1)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    auth = AuthActions(client)

    def checks_for(login_id: str) -> int:
        calls.clear()
        reply = auth.step_one(DemoCustomer(login_id=login_id, password=WRONG))
        assert reply.status_code == 200
        return len(calls)

    wrong_password = checks_for(customer.login_id)
    unknown_id = checks_for("enum_nobody")
    assert wrong_password == unknown_id == 1


def _mail_count(live) -> int:
    return sql(live, "SELECT count(*) FROM mail_outbox")[0][0]


@pytest.mark.parametrize(
    ("path", "field", "known_value"),
    [
        ("/login/forgot-password", "login_id", "login_id"),
        ("/login/forgot-password", "login_id", "email"),
        ("/login/forgot-id", "email", "email"),
    ],
)
def test_forgotten_password_and_id_pages_tell_nothing(
    live, accounts, new_browser, path, field, known_value
):
    account = accounts.otp()
    email = known_value == "email"
    known = f"{account['login_id']}@example.kr" if email else account["login_id"]
    unknown = f"{_unknown_id()}@example.kr" if email else _unknown_id()

    before = _mail_count(live)
    known_reply = new_browser().submit(path, {field: known})
    after_known = _mail_count(live)
    unknown_reply = new_browser().submit(path, {field: unknown})
    after_unknown = _mail_count(live)

    assert known_reply.status == unknown_reply.status == 200
    assert comparable(known_reply, known) == comparable(unknown_reply, unknown)
    assert cookie_shape(known_reply) == cookie_shape(unknown_reply)
    # Only the page is the same: the known account did get its mail, the unknown made none.
    assert after_known == before + 1
    assert after_unknown == after_known
    # The login ID never goes onto the page.
    assert account["login_id"] not in known_reply.body.replace(known, "")


# -- lockout -----------------------------------------------------------------------------


def _max_failures(live) -> int:
    return int(live.env.get("PORTAL_LOGIN_MAX_FAILURES", 5))


def _locked_message_re() -> re.Pattern:
    template = str(m.ACCOUNT_LOCKED) % {"minutes": "<N>"}
    return re.compile(re.escape(template).replace("<N>", r"\d+"))


def test_lockout_holds_across_addresses_and_refuses_the_right_password(live, accounts, new_browser):
    account = accounts.card()
    limit = _max_failures(live)
    # Every guess from another address: a per-address limit would never see more than one.
    answers = [_login(new_browser(), account["login_id"], f"{WRONG}{i}") for i in range(limit)]
    for reply in answers[:-1]:
        assert reply.status == 200 and error_text(reply) == str(m.BAD_CREDENTIALS)
    assert _locked_message_re().fullmatch(error_text(answers[-1])), error_text(answers[-1])

    right = new_browser()
    right_reply = _login(right, account["login_id"], account["password"])
    wrong_reply = _login(new_browser(), account["login_id"], WRONG)
    # Right password or wrong, the same answer while locked, and no pending login.
    assert right_reply.status == wrong_reply.status == 200
    assert _locked_message_re().fullmatch(error_text(right_reply))
    digits = re.compile(r"\d+분")
    assert digits.sub("N분", comparable(right_reply, account["login_id"])) == digits.sub(
        "N분", comparable(wrong_reply, account["login_id"])
    )
    assert cookie_shape(right_reply) == cookie_shape(wrong_reply)
    assert right_reply.location == ""
    after = right.get("/login/verify")
    assert after.status == 302 and path_of(after) == "/login"
    assert right.get("/account").status == 302


def test_an_unknown_id_locks_like_an_account_so_the_lock_tells_nothing(live, accounts, new_browser):
    """Five guesses must not tell whether an ID exists: a real account locks and says so,
    so an ID nobody has must lock after the same count, with the same words."""
    limit = _max_failures(live)
    real, ghost = accounts.card()["login_id"], _unknown_id()
    for login_id in (real, ghost):
        answers = [_login(new_browser(), login_id, f"{WRONG}{i}") for i in range(limit)]
        for reply in answers[:-1]:
            assert reply.status == 200 and error_text(reply) == str(m.BAD_CREDENTIALS)
        assert _locked_message_re().fullmatch(error_text(answers[-1])), (login_id, answers[-1])
        again = _login(new_browser(), login_id, WRONG)
        assert _locked_message_re().fullmatch(error_text(again)), login_id
    # Case and surrounding spaces name the same ID, as they do for accounts.
    assert _locked_message_re().fullmatch(
        error_text(_login(new_browser(), f" {ghost.upper()}", WRONG))
    )


def test_one_address_spraying_many_accounts_is_limited(accounts, browser):
    """10 sign-in POSTs a minute per address (fixed in the code), whichever accounts; past
    it even the right password of a fresh account gets 429 and no pending login."""
    statuses = []
    for _ in range(10):
        # A new account for every guess: the per-account lockout never comes into play.
        statuses.append(_login(browser, accounts.card()["login_id"], WRONG).status)
    assert statuses == [200] * 10, statuses
    account = accounts.card()
    reply = _login(browser, account["login_id"], account["password"])
    assert reply.status == 429, reply.status
    assert reply.header("Retry-After")
    after = browser.get("/login/verify")
    assert after.status == 302 and path_of(after) == "/login"


def test_the_address_limit_is_per_address(accounts, browser, new_browser):
    for _ in range(10):
        _login(browser, _unknown_id(), WRONG)
    assert _login(browser, _unknown_id(), WRONG).status == 429
    new_browser().sign_in(accounts.card())


def test_lockout_counts_every_password_form_and_a_lock_from_inside_signs_everyone_out(
    live, accounts, new_browser
):
    """One count for sign-in and re-authentication (PRODUCT.md §2): guessing through the
    signed-in form does not dodge the lock, and a lock reached there ends every session
    (whoever keeps guessing may hold a stolen cookie)."""
    account = accounts.card()
    limit = _max_failures(live)
    here, there = new_browser(), new_browser()
    here.sign_in(account)
    there.sign_in(account)
    for i in range(limit - 1):
        assert error_text(_login(new_browser(), account["login_id"], f"{WRONG}{i}")) == str(
            m.BAD_CREDENTIALS
        )
    locked = here.submit("/reauth", {"password": WRONG})
    assert locked.status == 302 and path_of(locked) == "/login"
    assert path_of(here.get("/account")) == "/login"
    assert path_of(there.get("/account")) == "/login"
    right = _login(new_browser(), account["login_id"], account["password"])
    assert _locked_message_re().fullmatch(error_text(right))


def _staff_login(browser, login_id: str, password: str):
    return browser.submit("/admin/login", {"login_id": login_id, "password": password})


def test_staff_sign_in_tells_nothing_and_takes_no_customer_credentials(accounts, new_browser):
    staff = accounts.staff["billing"]
    customer = accounts.card()
    unknown = _unknown_id()
    wrong = _staff_login(new_browser(), staff["login_id"], WRONG)
    nobody = _staff_login(new_browser(), unknown, WRONG)
    # A customer's own, right, credentials are no staff account.
    as_customer = _staff_login(new_browser(), customer["login_id"], customer["password"])
    assert wrong.status == nobody.status == as_customer.status == 200
    assert error_text(wrong) == error_text(nobody) == error_text(as_customer) != ""
    assert comparable(wrong, staff["login_id"]) == comparable(nobody, unknown)
    assert comparable(nobody, unknown) == comparable(as_customer, customer["login_id"])
    assert cookie_shape(wrong) == cookie_shape(nobody) == cookie_shape(as_customer)
