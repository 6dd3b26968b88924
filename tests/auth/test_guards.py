"""The sign-in guards, each pinned by a test that fails when the guard is taken away.

Every test goes through the real forms (CSRF on) and looks only at what a browser sees:
status codes, redirects, messages, cookies. Clocks are moved with time-machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from limits import parse as parse_limit

from tests.conftest import DemoCustomer, csrf_from

# 15 s into a 30 s TOTP step: "one step ago/ahead" is unambiguous, never on an edge.
T0 = datetime(2026, 11, 28, 3, 0, 15, tzinfo=UTC)
STEP = timedelta(seconds=30)

CARD_LOCKED = "보안카드가 잠겼습니다"
OTP_LOCKED = "OTP가 잠겼습니다"
OTP_REPLAY = "이미 사용한 OTP 번호입니다"


@pytest.fixture
def roomy_limits(app):
    """Lift the per-IP sign-in limit for tests that post many answers on purpose."""
    app.config["RATELIMIT_LOGIN"] = "1000 per minute"


def wrong_card_answer(customer: DemoCustomer, first: int, last: int) -> tuple[str, str]:
    code_first, code_last = customer.card_answer(first, last)
    return code_first, f"{(int(code_last) + 1) % 100:02d}"


def otp_at(customer: DemoCustomer, when: datetime) -> str:
    return pyotp.TOTP(customer.otp_secret).at(when)


def wrong_otp(customer: DemoCustomer, when: datetime) -> str:
    """A well-formed code that matches no step anywhere near ``when``."""
    near = {otp_at(customer, when + k * STEP) for k in range(-3, 4)}
    candidate = 0
    while f"{candidate:06d}" in near:
        candidate += 1
    return f"{candidate:06d}"


def signed_in(client) -> bool:
    response = client.get("/account")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def session_cookie(client) -> str:
    cookie = client.get_cookie("portal_session")
    assert cookie is not None
    return cookie.value


# --- security card: a correct answer resets the failure count ---------------------------


def test_correct_card_answer_resets_the_failure_count(client, auth, customer, roomy_limits):
    auth.step_one(customer)
    pair = auth.challenge()
    for attempt in range(1, 5):
        response = auth.answer_card(customer, wrong_card_answer(customer, *pair))
        assert f"({attempt}/5회 실패)" in response.get_data(as_text=True)
    assert auth.answer_card(customer).status_code == 302  # 4 wrong, then right
    assert signed_in(client)
    auth.logout()

    # Four more wrong answers count from zero again: 1/5 .. 4/5, and no lock.
    auth.step_one(customer)
    pair = auth.challenge()
    for attempt in range(1, 5):
        response = auth.answer_card(customer, wrong_card_answer(customer, *pair))
        html = response.get_data(as_text=True)
        assert CARD_LOCKED not in html, f"locked at wrong answer {attempt} after a success"
        assert f"({attempt}/5회 실패)" in html
    assert auth.answer_card(customer).status_code == 302
    assert signed_in(client)


# --- OTP: replay, window, failure count --------------------------------------------------


def test_older_otp_step_is_refused_after_a_newer_one(client, auth, otp_customer):
    with time_machine.travel(T0, tick=False):
        auth.step_one(otp_customer)
        # The phone runs a little fast: the next step's code is accepted (clock skew).
        assert auth.answer_otp(otp_at(otp_customer, T0 + STEP)).status_code == 302
        auth.logout()
        # The current and the previous step are older than the one used: both replays.
        for older in (T0, T0 - STEP):
            auth.step_one(otp_customer)
            response = auth.answer_otp(otp_at(otp_customer, older))
            assert response.status_code == 200, f"code of {older} let in after a newer one"
            assert OTP_REPLAY in response.get_data(as_text=True)
            assert not signed_in(client)


@pytest.mark.parametrize(
    ("steps", "accepted"),
    [(-2, False), (-1, True), (0, True), (1, True), (2, False)],
)
def test_otp_window_is_one_step_each_way(client, auth, otp_customer, steps, accepted):
    with time_machine.travel(T0, tick=False):
        auth.step_one(otp_customer)
        response = auth.answer_otp(otp_at(otp_customer, T0 + steps * STEP))
        assert (response.status_code == 302) is accepted
        assert signed_in(client) is accepted


def test_correct_otp_resets_the_failure_count(client, auth, otp_customer, roomy_limits):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.step_one(otp_customer)
        bad = wrong_otp(otp_customer, T0)
        for attempt in range(1, 5):
            response = auth.answer_otp(bad)
            assert f"({attempt}/5회 실패)" in response.get_data(as_text=True)
        assert auth.answer_otp(otp_at(otp_customer, T0)).status_code == 302
        auth.logout()

        traveller.shift(STEP)  # a fresh step, so the next right code is not a replay
        now = T0 + STEP
        auth.step_one(otp_customer)
        bad = wrong_otp(otp_customer, now)
        for attempt in range(1, 5):
            html = auth.answer_otp(bad).get_data(as_text=True)
            assert OTP_LOCKED not in html, f"locked at wrong code {attempt} after a success"
            assert f"({attempt}/5회 실패)" in html
        assert auth.answer_otp(otp_at(otp_customer, now)).status_code == 302
        assert signed_in(client)


# --- sessions: idle timeout counts every minute of activity -------------------------------


def test_idle_timeout_counts_from_the_last_request(app, client, auth, customer):
    idle = app.config["PORTAL_SESSION_IDLE_SECONDS"] = 1800  # the timeline below assumes it
    start = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        auth.login(customer)  # t = 0
        traveller.shift(timedelta(minutes=2))
        assert client.get("/account").status_code == 200  # activity at t + 2 min
        # 29 minutes after that activity (31 after sign-in): still inside the idle window.
        traveller.shift(timedelta(minutes=29))
        assert client.get("/account").status_code == 200
        # And a full idle period later it has expired.
        traveller.shift(timedelta(seconds=idle + 1))
        assert client.get("/account").status_code == 302


# --- rate limit on step 2 ------------------------------------------------------------------


def test_step_two_posts_are_rate_limited_per_ip(app, client, auth, otp_customer):
    limit = parse_limit(app.config["RATELIMIT_LOGIN"])  # "10 per minute" by default
    with time_machine.travel(T0, tick=False):
        auth.step_one(otp_customer)
        token = csrf_from(client.get("/login/verify").get_data(as_text=True))
        # Malformed codes (never counted toward the OTP lock): only the IP limit can stop them.
        statuses = [
            client.post("/login/verify", data={"csrf_token": token, "otp": "12345"}).status_code
            for _ in range(limit.amount)
        ]
        assert 429 not in statuses
        response = client.post("/login/verify", data={"csrf_token": token, "otp": "12345"})
        assert response.status_code == 429
        retry_after = int(response.headers["Retry-After"])
        assert 0 < retry_after <= 61  # the rest of the one-minute window, rounded up
        # The right code is refused too while the limit lasts.
        limited = client.post(
            "/login/verify", data={"csrf_token": token, "otp": otp_at(otp_customer, T0)}
        )
        assert limited.status_code == 429
        assert not signed_in(client)


# --- sign-in starts a brand-new cookie session (no fixation) --------------------------------


def test_sign_in_starts_a_fresh_cookie_session(client, auth, customer):
    client.get("/login")
    with client.session_transaction() as before:
        before["planted"] = "by-someone-else"
    pre_login_cookie = session_cookie(client)
    pre_login_token = csrf_from(client.get("/login").get_data(as_text=True))

    auth.login(customer)

    assert session_cookie(client) != pre_login_cookie
    with client.session_transaction() as after:
        assert "planted" not in after
    # A CSRF token issued before sign-in (e.g. to whoever set up that session) is dead now.
    refused = client.post("/logout", data={"csrf_token": pre_login_token})
    assert refused.status_code == 400
    assert signed_in(client)


# --- the pending login is used up by step 2 -------------------------------------------------


def test_pre_login_cookie_cannot_be_replayed_after_sign_in(app, client, auth, customer):
    auth.step_one(customer)
    pre_login_cookie = session_cookie(client)  # holds the pending login of step 1
    auth.answer_card(customer)
    assert signed_in(client)

    replay = app.test_client()
    replay.set_cookie("portal_session", pre_login_cookie)
    response = replay.get("/login/verify")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    # Posting an answer with that cookie does not sign in either.
    token = csrf_from(replay.get("/login").get_data(as_text=True))
    posted = replay.post(
        "/login/verify", data={"csrf_token": token, "code_first": "00", "code_last": "00"}
    )
    assert posted.status_code == 302 and posted.headers["Location"] == "/login"
    assert not signed_in(replay)


def test_pre_login_cookie_of_an_otp_sign_in_cannot_be_replayed(app, client, auth, otp_customer):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.step_one(otp_customer)
        pre_login_cookie = session_cookie(client)
        assert auth.answer_otp(otp_at(otp_customer, T0)).status_code == 302
        traveller.shift(STEP)  # a new, unused code exists now

        replay = app.test_client()
        replay.set_cookie("portal_session", pre_login_cookie)
        response = replay.get("/login/verify")
        assert response.status_code == 302
        assert response.headers["Location"] == "/login"
        assert not signed_in(replay)
