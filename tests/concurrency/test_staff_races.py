"""Staff sign-in under real parallel requests: the customers' limits hold for staff too, and
the access-log chain stays one chain when forty requests write to it at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
from sqlalchemy import func, select

from portal.admin.models import Staff, StaffSession
from portal.admin.services import create_staff
from portal.audit.access import verify_chain
from portal.audit.models import AccessRecord

BURST = 40
PASSWORD = "Staff-pass-2026!"


def _staff(db) -> str:
    _, secret = create_staff(login_id="boss", name="관리자", role="admin", password=PASSWORD)
    db.session.commit()
    return secret


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_parallel_wrong_staff_passwords_lock_at_five(browser, db):
    _staff(db)
    token, _ = browser.token("/admin/login")
    form = {"csrf_token": token, "login_id": "boss", "password": "Wrong-Guess-123!"}
    replies = browser.all_at_once("POST", "/admin/login", [form] * BURST)
    assert sorted({r.status for r in replies}) == [200]
    generic = [r for r in replies if "아이디 또는 비밀번호가 올바르지 않습니다" in r.body]
    locked = [r for r in replies if "계정이 잠겼습니다" in r.body]
    assert len(generic) == 4 and len(locked) == BURST - 4
    db.session.expire_all()
    row = db.session.scalars(select(Staff)).one()
    assert row.locked_until is not None and row.locked_until > datetime.now(UTC)
    assert _count(db, AccessRecord, AccessRecord.action == "account_locked") == 1
    # Forty writers at once, one chain.
    report = verify_chain()
    assert report.ok, report.problems
    assert report.checked == _count(db, AccessRecord) >= BURST


def test_one_staff_otp_code_in_parallel_opens_one_session(browser, db):
    secret = _staff(db)
    token, _ = browser.token("/admin/login")
    first = browser.request(
        "POST", "/admin/login", {"csrf_token": token, "login_id": "boss", "password": PASSWORD}
    )
    assert first.status == 302 and first.location == "/admin/login/verify"
    token, _ = browser.token("/admin/login/verify")
    code = pyotp.TOTP(secret).now()
    replies = browser.all_at_once(
        "POST", "/admin/login/verify", [{"csrf_token": token, "otp": code}] * 20
    )
    assert 500 not in {r.status for r in replies}
    assert len([r for r in replies if r.location == "/admin/"]) == 1
    assert _count(db, StaffSession) == 1
    assert verify_chain().ok


def test_parallel_wrong_staff_otps_lock_at_five(browser, db):
    secret = _staff(db)
    token, _ = browser.token("/admin/login")
    browser.request(
        "POST", "/admin/login", {"csrf_token": token, "login_id": "boss", "password": PASSWORD}
    )
    token, _ = browser.token("/admin/login/verify")
    good = pyotp.TOTP(secret).now()
    bad = f"{(int(good) + 500_000) % 1_000_000:06d}"
    replies = browser.all_at_once(
        "POST", "/admin/login/verify", [{"csrf_token": token, "otp": bad}] * BURST
    )
    assert sorted({r.status for r in replies}) == [200]
    assert len([r for r in replies if "OTP 번호가 올바르지 않습니다" in r.body]) == 4
    assert len([r for r in replies if "OTP가 잠겼습니다" in r.body]) == BURST - 4
    assert _count(db, AccessRecord, AccessRecord.action == "otp_locked") == 1
    assert _count(db, StaffSession) == 0
