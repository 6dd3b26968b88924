"""Sign-in through the real forms (CSRF on): step 1, card, OTP, recovery, lockout, sessions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

from portal.audit.models import SecurityEvent
from portal.auth.models import CardUsedPair, PendingLogin, SecurityCard, UserSession
from tests.conftest import CHALLENGE_RE, post_form

T0 = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)


def events(db, kind: str) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(SecurityEvent).where(SecurityEvent.kind == kind)
    )


def card_row(db) -> SecurityCard:
    db.session.expire_all()
    return db.session.scalars(select(SecurityCard).where(SecurityCard.revoked_at.is_(None))).one()


def wrong_pair(customer, first: int, last: int) -> tuple[str, str]:
    code_first, code_last = customer.card_answer(first, last)
    return code_first, f"{(int(code_last) + 1) % 100:02d}"


# --- step 1 --------------------------------------------------------------------------


def test_correct_password_goes_to_step_two_without_signing_in(client, auth, customer):
    response = auth.step_one(customer)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/verify"
    # Nothing is signed in before step 2: /account still asks for a login.
    account = client.get("/account")
    assert account.status_code == 302
    assert account.headers["Location"].startswith("/login")


def test_wrong_password_and_unknown_id_look_the_same(client, auth, customer, monkeypatch):
    import bcrypt

    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(1) or real(*a))

    wrong = auth.step_one(customer, password="Not-The-Password-1")
    wrong_calls = len(calls)
    calls.clear()
    from tests.conftest import DemoCustomer

    unknown = auth.step_one(DemoCustomer(login_id="nobody_at_all", password="Not-The-Password-1"))
    unknown_calls = len(calls)

    assert wrong.status_code == unknown.status_code == 200
    assert wrong_calls == unknown_calls == 1
    text_wrong = wrong.get_data(as_text=True)
    text_unknown = unknown.get_data(as_text=True)
    assert "아이디 또는 비밀번호가 올바르지 않습니다." in text_wrong
    strip = CHALLENGE_RE  # noqa: F841 - pages differ only in the CSRF token and echoed ID
    import re

    def normalise(html: str, login_id: str) -> str:
        html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
        return html.replace(login_id, "ID")

    assert normalise(text_wrong, customer.login_id) == normalise(text_unknown, "nobody_at_all")


def test_lockout_after_five_failures_and_unlock_after_period(client, auth, customer, db):
    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(4):
            wrong = auth.step_one(customer, password="Wrong-Password-99")
            assert "아이디 또는 비밀번호가 올바르지 않습니다." in wrong.get_data(as_text=True)
        # The fifth wrong password locks the account and says for how long.
        fifth = auth.step_one(customer, password="Wrong-Password-99")
        assert "계정이 잠겼습니다. 30분 뒤에" in fifth.get_data(as_text=True)
        assert events(db, "account_locked") == 1
        traveller.shift(timedelta(minutes=29))
        assert "계정이 잠겼습니다. 1분 뒤에" in auth.step_one(customer).get_data(as_text=True)
        traveller.shift(timedelta(minutes=2))
        assert auth.step_one(customer).status_code == 302


def test_while_locked_every_password_gets_the_same_answer(client, auth, customer, db):
    """No password oracle: the right and a wrong password are answered alike while locked."""
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            auth.step_one(customer, password="Wrong-Password-99")
        wrong = auth.step_one(customer, password="Another-Wrong-1")
        right = auth.step_one(customer)
        assert wrong.status_code == right.status_code == 200
        assert "계정이 잠겼습니다. 30분 뒤에" in right.get_data(as_text=True)

        def page(response):
            return re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))

        assert page(wrong) == page(right)
        assert client.get("/account").status_code == 302
        # Attempts while locked are not counted toward a second lock.
        assert events(db, "account_locked") == 1


def test_success_resets_the_failure_count(client, auth, customer):
    for _ in range(4):
        auth.step_one(customer, password="Wrong-Password-99")
    assert auth.step_one(customer).status_code == 302
    for _ in range(4):
        auth.step_one(customer, password="Wrong-Password-99")
    assert auth.step_one(customer).status_code == 302


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"login_id": ""},
        {"login_id": "x" * 10_000, "password": "y" * 10_000},
        {"login_id": "hong_gildong"},
        {"password": "Trk-Portal-7731!"},
        {"login_id": "  ", "password": "  "},
    ],
)
def test_bad_login_input_never_500(client, customer, data):
    response = post_form(client, "/login", data)
    assert response.status_code in (200, 400)
    html = response.get_data(as_text=True)
    assert "올바르지 않습니다" in html or "입력해 주세요" in html


def test_step_two_expires_after_five_minutes(client, auth, customer):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.step_one(customer)
        traveller.shift(timedelta(minutes=5, seconds=1))
        response = client.get("/login/verify")
        assert response.status_code == 302
        assert response.headers["Location"] == "/login"


def test_verify_without_step_one_goes_back_to_login(client):
    response = client.get("/login/verify")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


# --- security card -------------------------------------------------------------------


def test_card_sign_in_lands_on_account(client, auth, customer, db):
    response = auth.login(customer)
    assert response.headers["Location"] == "/account"
    page = client.get("/account")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert events(db, "login_success") == 1


def test_challenge_pinned_across_reload_and_failure(client, auth, customer, db):
    auth.step_one(customer)
    first = auth.challenge()
    assert auth.challenge() == first  # reload
    response = auth.answer_card(customer, wrong_pair(customer, *first))
    assert "보안카드 번호가 올바르지 않습니다. (1/5회 실패)" in response.get_data(as_text=True)
    assert auth.challenge() == first  # after a failure
    # A new step 1 (another tab, or after logout) still gets the same pinned pair.
    auth.step_one(customer)
    assert auth.challenge() == first


def test_challenge_in_words_and_data_attributes(client, auth, customer):
    auth.step_one(customer)
    html = client.get("/login/verify").get_data(as_text=True)
    first, last = auth.challenge()
    assert first != last
    assert first in range(1, 36) and last in range(1, 36)
    assert f"{first}번 코드의 앞 2자리" in html
    assert f"{last}번 코드의 뒤 2자리" in html
    assert 'autocomplete="off"' in html and 'inputmode="numeric"' in html


def test_answered_pair_is_not_asked_again(client, auth, customer, db, app):
    app.config["PORTAL_CARD_CODES"] = 3  # 6 ordered pairs: small enough to use them all
    seen = set()
    for _ in range(6):
        auth.step_one(customer)
        pair = auth.challenge()
        assert pair not in seen
        seen.add(pair)
        response = auth.answer_card(customer)
        assert response.status_code == 302
        auth.logout()
    assert len(seen) == 6
    assert db.session.scalar(select(func.count()).select_from(CardUsedPair)) == 6
    auth.step_one(customer)
    html = client.get("/login/verify").get_data(as_text=True)
    assert "번호 조합을 모두 사용했습니다" in html


def test_card_locks_after_five_wrong_answers(client, auth, customer, db):
    auth.step_one(customer)
    pair = auth.challenge()
    for attempt in range(1, 5):
        response = auth.answer_card(customer, wrong_pair(customer, *pair))
        assert f"({attempt}/5회 실패)" in response.get_data(as_text=True)
    response = auth.answer_card(customer, wrong_pair(customer, *pair))
    assert "보안카드가 잠겼습니다" in response.get_data(as_text=True)
    assert card_row(db).locked_at is not None
    # Even the right answer is refused now.
    html = client.get("/login/verify").get_data(as_text=True)
    assert "보안카드가 잠겼습니다" in html and "card-challenge" not in html
    code_first, code_last = customer.card_answer(*pair)
    locked = post_form(
        client,
        "/login/verify",
        {"code_first": code_first, "code_last": code_last},
        page="/login",  # the locked page has no form of its own to take a token from
    )
    assert locked.status_code == 200
    assert client.get("/account").status_code == 302
    assert events(db, "card_locked") == 1


def test_reissued_card_clears_the_lock(client, auth, customer, db, runner):
    import json

    auth.step_one(customer)
    pair = auth.challenge()
    for _ in range(5):
        auth.answer_card(customer, wrong_pair(customer, *pair))
    result = runner.invoke(args=["cards", "issue", customer.login_id, "--json"])
    customer.card_codes = json.loads(result.output)["codes"]
    auth.login(customer)
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("first", "last"),
    [("ab", "12"), ("1", "2"), ("", ""), ("123", "4 5 6"), ("x" * 10_000, "1" * 10_000)],
)
def test_bad_card_input_is_not_counted(client, auth, customer, db, first, last):
    auth.step_one(customer)
    auth.challenge()
    response = post_form(client, "/login/verify", {"code_first": first, "code_last": last})
    assert response.status_code == 400
    assert "숫자 2자리" in response.get_data(as_text=True)
    assert card_row(db).failed_attempts == 0


def test_full_width_digits_are_accepted(client, auth, customer):
    auth.step_one(customer)
    first, last = auth.challenge()
    code_first, code_last = customer.card_answer(first, last)
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    response = post_form(
        client,
        "/login/verify",
        {"code_first": code_first.translate(wide), "code_last": code_last.translate(wide)},
    )
    assert response.status_code == 302


def test_missing_fields_on_verify(client, auth, customer):
    auth.step_one(customer)
    response = post_form(client, "/login/verify", {})
    assert response.status_code == 400


# --- OTP ------------------------------------------------------------------------------


def _otp_at(customer, when: datetime) -> str:
    return pyotp.TOTP(customer.otp_secret).at(when)


def test_otp_sign_in_and_replay_in_same_step_refused(client, auth, otp_customer, db):
    with time_machine.travel(T0, tick=False):
        code = _otp_at(otp_customer, T0)
        auth.step_one(otp_customer)
        assert auth.answer_otp(code).status_code == 302
        auth.logout()
        auth.step_one(otp_customer)
        replay = auth.answer_otp(code)
        assert replay.status_code == 200
        assert "이미 사용한 OTP 번호입니다" in replay.get_data(as_text=True)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-30, True), (0, True), (30, True), (-90, False), (90, False)],
)
def test_otp_window(client, auth, otp_customer, offset, accepted):
    with time_machine.travel(T0, tick=False):
        auth.step_one(otp_customer)
        response = auth.answer_otp(_otp_at(otp_customer, T0 + timedelta(seconds=offset)))
        assert (response.status_code == 302) is accepted


def test_otp_locks_for_fifteen_minutes(client, auth, otp_customer, db):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.step_one(otp_customer)
        good = _otp_at(otp_customer, T0)
        bad = f"{(int(good) + 1) % 1_000_000:06d}"
        for _ in range(4):
            assert "OTP 번호가 올바르지 않습니다" in auth.answer_otp(bad).get_data(as_text=True)
        assert "OTP가 잠겼습니다" in auth.answer_otp(bad).get_data(as_text=True)
        assert "OTP가 잠겼습니다" in auth.answer_otp(good).get_data(as_text=True)
        assert events(db, "otp_locked") == 1
        traveller.shift(timedelta(minutes=4))  # the pending login is still young
        auth.step_one(otp_customer)
        traveller.shift(timedelta(minutes=11, seconds=1))
        auth.step_one(otp_customer)
        now = T0 + timedelta(minutes=15, seconds=1)
        assert auth.answer_otp(_otp_at(otp_customer, now)).status_code == 302


@pytest.mark.parametrize("code", ["abcdef", "12345", "1234567", "", "x" * 10_000])
def test_bad_otp_input(client, auth, otp_customer, code):
    auth.step_one(otp_customer)
    response = auth.answer_otp(code)
    assert response.status_code == 400
    assert "숫자 6자리" in response.get_data(as_text=True)


# --- sessions ---------------------------------------------------------------------------


def _session_cookie(client) -> str:
    cookie = client.get_cookie("portal_session")
    assert cookie is not None
    return cookie.value


def test_session_fixation_new_token_at_login(client, auth, customer, db):
    client.get("/login")
    before = _session_cookie(client)
    auth.login(customer)
    after = _session_cookie(client)
    assert before != after
    # The pre-login cookie never becomes a signed-in one.
    other = client.application.test_client()
    other.set_cookie("portal_session", before)
    assert other.get("/account").status_code == 302


def test_logout_kills_a_copied_cookie(client, auth, customer, db):
    auth.login(customer)
    copied = _session_cookie(client)
    response = auth.logout()
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0
    thief = client.application.test_client()
    thief.set_cookie("portal_session", copied)
    assert thief.get("/account").status_code == 302
    assert events(db, "logout") == 1


def test_logout_requires_post(client, auth, customer):
    auth.login(customer)
    assert client.get("/logout").status_code == 405


def test_idle_timeout(client, auth, customer, db):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login(customer)
        traveller.shift(timedelta(minutes=29))
        assert client.get("/account").status_code == 200
        traveller.shift(timedelta(minutes=29))  # active: idle clock restarted
        assert client.get("/account").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get("/account")
        assert response.status_code == 302
        assert events(db, "session_expired") == 1


def test_absolute_timeout(client, auth, customer):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login(customer)
        for _ in range(24):  # keep it busy every 29 minutes for 11.6 hours
            traveller.shift(timedelta(minutes=29))
            assert client.get("/account").status_code == 200
        traveller.shift(timedelta(minutes=29))  # 12 h 5 min after login
        assert client.get("/account").status_code == 302


def test_password_change_ends_other_sessions(app, client, auth, customer, db):
    other = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other).login(customer)
    auth.login(customer)
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": customer.password,
            "new_password": "Brand-New-Route-42",
            "new_password_confirm": "Brand-New-Route-42",
        },
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_sessions_listed_and_ended(app, client, auth, customer, db):
    other = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other).login(customer)
    auth.login(customer)
    page = client.get("/account/security").get_data(as_text=True)
    assert page.count("/end") == 2
    db.session.expire_all()
    rows = db.session.scalars(select(UserSession).order_by(UserSession.id)).all()
    response = post_form(
        client, f"/account/security/sessions/{rows[0].id}/end", {}, page="/account/security"
    )
    assert response.status_code == 302
    assert other.get("/account").status_code == 302
    assert client.get("/account").status_code == 200


def test_cannot_end_someone_elses_session(app, client, auth, customer, make_customer, db):
    stranger = make_customer(login_id="stranger_1")
    other = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other).login(stranger)
    auth.login(customer)
    db.session.expire_all()
    theirs = db.session.scalars(
        select(UserSession).where(UserSession.customer_id == stranger.id)
    ).one()
    response = post_form(
        client, f"/account/security/sessions/{theirs.id}/end", {}, page="/account/security"
    )
    assert response.status_code == 404
    assert other.get("/account").status_code == 200


def test_step_two_cannot_be_skipped(client, auth, customer, db):
    auth.step_one(customer)
    for url in ("/account", "/account/security", "/account/history", "/account/password"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login")
    assert db.session.scalar(select(func.count()).select_from(PendingLogin)) == 1


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "https://evil.example/",
        "/%5Cevil",
        "\t//evil.example",
    ],
)
def test_next_attacks_stay_on_site(client, auth, customer, target):
    client.get("/login?next=" + target)
    response = post_form(
        client,
        "/login?next=" + target,
        {"login_id": customer.login_id, "password": customer.password},
        page="/login",
    )
    assert response.status_code == 302
    response = auth.answer_card(customer)
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location and "evil" not in location.replace("%5Cevil", "")


def test_safe_next_is_followed(client, auth, customer):
    response = client.get("/account/history")
    assert response.headers["Location"] == "/login?next=/account/history"
    post_form(
        client,
        "/login?next=/account/history",
        {"login_id": customer.login_id, "password": customer.password},
        page="/login",
    )
    assert auth.answer_card(customer).headers["Location"] == "/account/history"


def test_history_shows_events(client, auth, customer):
    auth.step_one(customer, password="Wrong-Password-99")
    auth.login(customer)
    html = client.get("/account/history").get_data(as_text=True)
    assert "로그인 실패" in html and "로그인 성공" in html


def test_dashboard_shows_previous_sign_in(client, auth, customer):
    auth.login(customer)
    assert "이번이 첫 로그인입니다" in client.get("/account").get_data(as_text=True)
    auth.logout()
    auth.login(customer)
    html = client.get("/account").get_data(as_text=True)
    assert "IP 127.0.0.1" in html


def test_stale_challenge_from_another_tab_is_not_counted(client, auth, customer, db, runner):
    import json

    auth.step_one(customer)
    old = auth.challenge()
    # Staff reissue the card while this tab still shows the old card's challenge.
    customer.card_codes = json.loads(
        runner.invoke(args=["cards", "issue", customer.login_id, "--json"]).output
    )["codes"]
    new = auth.challenge()
    shown = old if old != new else (new[1], new[0])
    code_first, code_last = customer.card_answer(*new)
    response = post_form(
        client,
        "/login/verify",
        {
            "code_first": code_first,
            "code_last": code_last,
            "challenge_first": shown[0],
            "challenge_last": shown[1],
        },
    )
    assert response.status_code == 200
    assert "보안카드 질문이 바뀌었습니다" in response.get_data(as_text=True)
    assert card_row(db).failed_attempts == 0
    # The page now shows the current pair, and answering it works.
    assert auth.answer_card(customer).status_code == 302
