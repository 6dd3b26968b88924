"""Counters and single-use things under real parallel requests (gunicorn, 4 × 8 threads).

Each test fires a burst of requests for one customer at the same moment and then checks,
in the database, that every limit held: the lock came at the limit and not later, a
single-use thing was used once, and no request ended in a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
from sqlalchemy import func, select

from portal.audit.models import SecurityEvent
from portal.auth.models import OtpCredential, PendingLogin, SecurityCard, UserSession
from portal.customers.models import Customer

BURST = 40


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _events(db, kind: str) -> int:
    return _count(db, SecurityEvent, SecurityEvent.kind == kind)


def _statuses(replies) -> list[int]:
    return sorted({reply.status for reply in replies})


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 100:02d}"


def test_parallel_wrong_card_answers_lock_the_card_at_five(browser, customer, db):
    assert browser.step_one(customer.login_id, customer.password).status == 302
    token, first, last = browser.challenge()
    code_first, code_last = customer.card_answer(first, last)
    form = {
        "csrf_token": token,
        "code_first": _wrong(code_first),
        "code_last": code_last,
        "challenge_first": first,
        "challenge_last": last,
    }
    replies = browser.all_at_once("POST", "/login/verify", [form] * BURST)
    assert _statuses(replies) == [200]
    counted = [r for r in replies if "회 실패)" in r.body]
    locked = [r for r in replies if "보안카드가 잠겼습니다" in r.body]
    # Exactly four were weighed and told their count; every other one found the card locked.
    assert sorted(r.body.split("회 실패)")[0][-3:] for r in counted) == [
        "1/5",
        "2/5",
        "3/5",
        "4/5",
    ]
    assert len(locked) == BURST - 4
    db.session.expire_all()
    card = db.session.scalars(select(SecurityCard)).one()
    assert card.locked_at is not None
    assert _events(db, "card_locked") == 1
    # Even the right answer is refused now.
    right = dict(form, code_first=code_first)
    assert "보안카드가 잠겼습니다" in browser.request("POST", "/login/verify", right).body
    assert _count(db, UserSession) == 0


def test_parallel_right_card_answers_open_one_session(browser, customer, db):
    browser.step_one(customer.login_id, customer.password)
    token, first, last = browser.challenge()
    code_first, code_last = customer.card_answer(first, last)
    form = {
        "csrf_token": token,
        "code_first": code_first,
        "code_last": code_last,
        "challenge_first": first,
        "challenge_last": last,
    }
    replies = browser.all_at_once("POST", "/login/verify", [form] * 20)
    assert 500 not in _statuses(replies), [r.body[:300] for r in replies if r.status == 500]
    assert [r.location for r in replies if r.status == 302 and r.location == "/account"] == [
        "/account"
    ]
    assert _count(db, UserSession) == 1
    assert _count(db, PendingLogin) == 0
    assert _events(db, "login_success") == 1


def test_parallel_wrong_passwords_lock_the_account(browser, customer, db):
    token, _ = browser.token("/login")
    form = {"csrf_token": token, "login_id": customer.login_id, "password": "Wrong-Guess-123!"}
    replies = browser.all_at_once("POST", "/login", [form] * BURST)
    assert _statuses(replies) == [200]
    generic = [r for r in replies if "아이디 또는 비밀번호가 올바르지 않습니다" in r.body]
    locked = [r for r in replies if "계정이 잠겼습니다" in r.body]
    assert len(generic) == 4 and len(locked) == BURST - 4
    db.session.expire_all()
    row = db.session.scalars(select(Customer)).one()
    assert row.locked_until is not None and row.locked_until > datetime.now(UTC)
    assert _events(db, "account_locked") == 1
    # The server saw forty different client addresses (no proxy: REMOTE_ADDR), so the per-IP
    # limit (10 a minute) stopped none of them: the account's counter alone held the line.
    db.session.expire_all()
    addresses = set(db.session.scalars(select(SecurityEvent.ip)))
    assert len(addresses - {"127.0.0.1"}) == BURST, sorted(addresses)
    # Locked means locked: the right password is refused too.
    assert browser.step_one(customer.login_id, customer.password).status == 200


def test_parallel_wrong_otps_lock_at_five(browser, otp_customer, db):
    browser.step_one(otp_customer.login_id, otp_customer.password)
    token, _ = browser.token("/login/verify")
    good = pyotp.TOTP(otp_customer.otp_secret).now()
    bad = f"{(int(good) + 500_000) % 1_000_000:06d}"
    replies = browser.all_at_once(
        "POST", "/login/verify", [{"csrf_token": token, "otp": bad}] * BURST
    )
    assert _statuses(replies) == [200]
    assert len([r for r in replies if "OTP 번호가 올바르지 않습니다" in r.body]) == 4
    assert len([r for r in replies if "OTP가 잠겼습니다" in r.body]) == BURST - 4
    db.session.expire_all()
    assert db.session.scalars(select(OtpCredential)).one().locked_until is not None
    assert _events(db, "otp_locked") == 1


def test_one_otp_code_in_parallel_opens_one_session(browser, otp_customer, db):
    browser.step_one(otp_customer.login_id, otp_customer.password)
    token, _ = browser.token("/login/verify")
    code = pyotp.TOTP(otp_customer.otp_secret).now()
    replies = browser.all_at_once(
        "POST", "/login/verify", [{"csrf_token": token, "otp": code}] * 20
    )
    assert 500 not in _statuses(replies), [r.body[:300] for r in replies if r.status == 500]
    assert len([r for r in replies if r.location == "/account"]) == 1
    assert _count(db, UserSession) == 1
    assert _events(db, "login_success") == 1


def test_one_recovery_code_in_parallel_opens_one_session(browser, otp_customer, db, app):
    from portal.auth import services

    customer_row = db.session.get(Customer, otp_customer.id)
    codes = services.regenerate_recovery_codes(customer_row)
    db.session.commit()
    browser.step_one(otp_customer.login_id, otp_customer.password)
    token, _ = browser.token("/login/recovery")
    replies = browser.all_at_once(
        "POST", "/login/recovery", [{"csrf_token": token, "recovery_code": codes[0]}] * 20
    )
    assert 500 not in _statuses(replies), [r.body[:300] for r in replies if r.status == 500]
    assert len([r for r in replies if r.location == "/account"]) == 1
    assert _count(db, UserSession) == 1
