"""OTP enrolment, recovery codes, first login, re-authentication, rate limits."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from limits import parse as parse_limit
from sqlalchemy import func, select

from portal.auth.models import OtpCredential, RecoveryCode
from tests.conftest import ROOT, UNREACHABLE_REDIS_URL, AuthActions, DemoCustomer, post_form

T0 = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)
SECRET_RE = re.compile(r'id="otp-secret">([A-Z2-7]+)<')
CODES_RE = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


def enrol(client, when: datetime) -> tuple[str, list[str]]:
    html = client.get("/account/security/otp").get_data(as_text=True)
    secret = SECRET_RE.search(html).group(1)
    assert "<svg" in html  # the QR code, inline
    response = post_form(client, "/account/security/otp", {"otp": pyotp.TOTP(secret).at(when)})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = CODES_RE.findall(response.get_data(as_text=True))
    return secret, codes


def test_enrol_otp_then_sign_in_with_it(client, auth, customer, db):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login(customer)
        page = client.get("/account/security/otp").get_data(as_text=True)
        secret = SECRET_RE.search(page).group(1)
        # Reload shows the same pending secret; nothing is active yet.
        assert (
            SECRET_RE.search(client.get("/account/security/otp").get_data(as_text=True)).group(1)
            == secret
        )
        wrong = post_form(client, "/account/security/otp", {"otp": "000000"})
        assert "OTP 번호가 올바르지 않습니다" in wrong.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.scalars(select(OtpCredential)).one().confirmed_at is None
        secret, codes = enrol(client, T0)
        assert len(codes) == 10 and len(set(codes)) == 10
        # Stored only as hashes.
        stored = [row.code_hash for row in db.session.scalars(select(RecoveryCode))]
        assert not any(code.replace("-", "") in stored for code in codes)
        auth.logout()
        traveller.shift(timedelta(minutes=1))
        auth.step_one(customer)
        post_form(client, "/login/verify/method", {"method": "otp"}, page="/login/verify")
        html = client.get("/login/verify").get_data(as_text=True)
        assert 'autocomplete="one-time-code"' in html
        assert auth.answer_otp(pyotp.TOTP(secret).at(T0 + timedelta(minutes=1))).status_code == 302


def test_otp_secret_is_encrypted_at_rest(client, auth, customer, db):
    auth.login(customer)
    secret, _ = enrol(client, datetime.now(UTC))
    stored = db.session.scalars(select(OtpCredential)).one().secret_encrypted
    assert secret.encode() not in stored


def test_recovery_code_works_once(client, auth, customer, db):
    auth.login(customer)
    _, codes = enrol(client, datetime.now(UTC))
    auth.logout()
    auth.step_one(customer)
    response = post_form(client, "/login/recovery", {"recovery_code": codes[0].upper()})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    auth.logout()
    auth.step_one(customer)
    again = post_form(client, "/login/recovery", {"recovery_code": codes[0]})
    assert again.status_code == 200
    assert "복구 코드가 올바르지 않거나 이미 사용되었습니다" in again.get_data(as_text=True)
    html = client.get("/account/history").get_data(as_text=True)  # not signed in
    assert "복구 코드 사용" not in html


def test_regenerating_recovery_codes_replaces_them(client, auth, customer, db):
    auth.login(customer)
    _, old = enrol(client, datetime.now(UTC))
    response = post_form(client, "/account/security/recovery-codes", {}, page="/account/security")
    new = CODES_RE.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    auth.logout()
    auth.step_one(customer)
    refused = post_form(client, "/login/recovery", {"recovery_code": old[1]})
    assert refused.status_code == 200 and client.get("/account").status_code == 302
    assert post_form(client, "/login/recovery", {"recovery_code": new[1]}).status_code == 302


def test_first_login_sets_password_then_proves_the_card(client, make_customer, db):
    newbie = make_customer(login_id="first_timer", activated=False)
    auth = AuthActions(client)
    response = auth.step_one(newbie)
    assert response.headers["Location"] == "/login/activate"
    # The second factor is not offered before the new password.
    assert client.get("/login/verify").headers["Location"] == "/login/activate"
    weak = post_form(
        client, "/login/activate", {"password": "password1", "password_confirm": "password1"}
    )
    assert weak.status_code == 200 and "비밀번호" in weak.get_data(as_text=True)
    mismatch = post_form(
        client,
        "/login/activate",
        {"password": "Fresh-Start-2026!", "password_confirm": "Fresh-Start-2027!"},
    )
    assert "일치하지 않습니다" in mismatch.get_data(as_text=True)
    done = post_form(
        client,
        "/login/activate",
        {"password": "Fresh-Start-2026!", "password_confirm": "Fresh-Start-2026!"},
    )
    assert done.headers["Location"] == "/login/verify"
    assert auth.answer_card(newbie).headers["Location"] == "/account"
    auth.logout()
    # From now on: the new password, straight to the card.
    renewed = DemoCustomer(
        login_id=newbie.login_id, password="Fresh-Start-2026!", card_codes=newbie.card_codes
    )
    assert auth.step_one(renewed).headers["Location"] == "/login/verify"
    assert auth.step_one(newbie).status_code == 200  # the old one no longer works


def test_reauth_required_for_sensitive_pages(client, auth, customer):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login(customer)
        assert client.get("/account/password").status_code == 200
        traveller.shift(timedelta(minutes=6))
        response = client.get("/account/password")
        assert response.status_code == 302
        assert response.headers["Location"] == "/reauth?next=/account/password"
        wrong = post_form(
            client,
            "/reauth",
            {"password": "Wrong-Password-99", "next": "/account/password"},
            page="/reauth?next=/account/password",
        )
        assert "비밀번호가 올바르지 않습니다" in wrong.get_data(as_text=True)
        right = post_form(
            client,
            "/reauth",
            {"password": customer.password, "next": "//evil.example"},
            page="/reauth",
        )
        assert right.headers["Location"] == "/account"
        assert client.get("/account/password").status_code == 200


def test_password_change_rules(client, auth, customer):
    auth.login(customer)
    cases = [
        ({"current_password": "Wrong-1-Password"}, "지금 비밀번호가 올바르지 않습니다"),
        ({"new_password": "short", "new_password_confirm": "short"}, "8자 이상"),
        ({"new_password_confirm": "Other-Route-42!!"}, "일치하지 않습니다"),
    ]
    for change, message in cases:
        data = {
            "current_password": customer.password,
            "new_password": "Brand-New-Route-42",
            "new_password_confirm": "Brand-New-Route-42",
            **change,
        }
        response = post_form(client, "/account/password", data)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)


@pytest.fixture
def limited_config(config):
    config.RATELIMIT_LOGIN = "3 per minute"
    return config


def test_login_rate_limit_answers_429_with_retry_after(limited_config, app_factory):
    app = app_factory(limited_config)
    client = app.test_client()
    statuses = []
    for _ in range(4):
        statuses.append(
            post_form(client, "/login", {"login_id": "someone", "password": "x" * 10}).status_code
        )
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    response = post_form(client, "/login", {"login_id": "someone", "password": "x" * 10})
    assert int(response.headers["Retry-After"]) > 0
    assert "요청이 너무 많습니다" in response.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # GET is never limited


# A second worker process: its own interpreter, so its own Flask-Limiter state. (Two apps in
# this process would not do: the limiter extension is one module-level object, and both apps
# would count in whatever storage the last one configured, even memory://.)
LIMIT_WORKER = """
import json, sys
from portal import create_app
from portal.config import TestingConfig
from tests.conftest import post_form

url, storage, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
cfg = TestingConfig()
cfg.SQLALCHEMY_DATABASE_URI = url
cfg.SQLALCHEMY_ENGINE_OPTIONS = TestingConfig.engine_options(url)
cfg.RATELIMIT_STORAGE_URI = storage
app = create_app(cfg)
client = app.test_client()
data = {"login_id": "someone", "password": "x" * 10}
statuses = [post_form(client, "/login", data).status_code for _ in range(attempts)]
print(json.dumps({"limit": app.config["RATELIMIT_LOGIN"], "statuses": statuses}))
"""


def _other_worker(config, storage: str, attempts: int) -> dict:
    args = [config.SQLALCHEMY_DATABASE_URI, storage, str(attempts)]
    result = subprocess.run(
        [sys.executable, "-c", LIMIT_WORKER, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_rate_limit_is_shared_through_redis(config, app_factory, redis_url):
    import redis

    store = redis.Redis.from_url(redis_url)

    def login_counters() -> list[bytes]:
        return [key for key in store.scan_iter("*") if b"auth.login" in key]

    def clear() -> None:
        if keys := login_counters():
            store.delete(*keys)

    clear()  # counters left in Redis by an earlier run of this test
    try:
        config.RATELIMIT_STORAGE_URI = redis_url
        app = app_factory(config)
        limit = parse_limit(app.config["RATELIMIT_LOGIN"]).amount
        here = app.test_client()
        data = {"login_id": "someone", "password": "x" * 10}
        first = limit // 2
        assert [post_form(here, "/login", data).status_code for _ in range(first)] == [200] * first
        assert login_counters(), "no rate-limit counter for /login in Redis"

        # The other worker gets only what is left of the limit, then 429.
        there = _other_worker(config, redis_url, limit - first + 1)
        assert there["limit"] == app.config["RATELIMIT_LOGIN"]
        assert there["statuses"] == [200] * (limit - first) + [429]
        # And its attempts count here too.
        assert post_form(here, "/login", data).status_code == 429
    finally:
        clear()


def test_counts_in_database_hold_across_workers(app, app_factory, config, customer, db):
    # Lockout counters live in the database: failures through two "workers" add up.
    one = AuthActions(app.test_client())
    two = AuthActions(app_factory(config).test_client())
    for actions in (one, two, one, two, one):
        actions.step_one(customer, password="Wrong-Password-99")
    assert "계정이 잠겼습니다" in two.step_one(customer).get_data(as_text=True)


def test_recovery_code_form_bad_input(client, auth, customer):
    auth.step_one(customer)
    for value in ("", "x" * 10_000, "<script>"):
        response = post_form(client, "/login/recovery", {"recovery_code": value})
        assert response.status_code in (200, 400)
        assert "<script>" not in response.get_data(as_text=True)


def test_events_never_hold_secrets(client, auth, customer, db):
    from portal.audit.models import SecurityEvent

    auth.step_one(customer, password="Wrong-Password-99")
    auth.login(customer)
    details = " ".join(e.detail for e in db.session.scalars(select(SecurityEvent)))
    assert "Wrong-Password-99" not in details and customer.password not in details
    assert db.session.scalar(select(func.count()).select_from(SecurityEvent)) >= 2


def test_guessing_through_reauth_locks_the_account_and_ends_sessions(app, client, auth, customer):
    # A stolen session cookie must not become an unlimited password oracle.
    app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    other = app.test_client()
    AuthActions(other).login(customer)
    auth.login(customer)
    for attempt in range(1, 6):
        response = post_form(
            client,
            "/reauth",
            {"password": f"Guess-Number-{attempt}!", "next": "/account"},
            page="/reauth",
        )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/account").status_code == 302
    assert other.get("/account").status_code == 302  # every session ended
    assert "계정이 잠겼습니다" in auth.step_one(customer).get_data(as_text=True)


def test_wrong_current_password_counts_toward_the_lockout(app, client, auth, customer):
    app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    auth.login(customer)
    for _ in range(4):
        post_form(
            client,
            "/account/password",
            {
                "current_password": "Guess-Again-77",
                "new_password": "Brand-New-Route-42",
                "new_password_confirm": "Brand-New-Route-42",
            },
        )
    # The fifth wrong current password in a row locks the account and signs out.
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": "Guess-Again-78",
            "new_password": "Brand-New-Route-42",
            "new_password_confirm": "Brand-New-Route-42",
        },
    )
    assert response.headers["Location"] == "/login"


def test_sign_in_works_and_stays_limited_with_the_rate_limit_store_down(
    limited_config, app_factory, customer, limiter_health
):
    # Redis down must not lock every customer out: limits fall back to this process's
    # memory (still 3 a minute here) and the database lockout keeps counting.
    limited_config.RATELIMIT_STORAGE_URI = UNREACHABLE_REDIS_URL
    app = app_factory(limited_config)
    AuthActions(app.test_client()).login(customer)  # one POST to /login, one to /login/verify
    client = app.test_client()  # same address, signed out
    data = {"login_id": "someone", "password": "x" * 10}
    statuses = [post_form(client, "/login", data).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
