"""The counters and single-use things the first race tests left out, under 40 parallel
requests from 40 client addresses (gunicorn, 4 × 8 threads): wrong recovery codes, a
replayed OTP time step, a password-reset link, and a billing file imported by many staff
screens at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyotp
from sqlalchemy import func, select

from portal.admin.services import create_staff
from portal.audit.models import SecurityEvent
from portal.auth.models import OtpCredential, PasswordReset, PendingLogin, RecoveryCode, UserSession
from portal.billing.invoices import add_invoice
from portal.billing.models import Invoice, Payment
from portal.customers.models import Customer
from portal.security import keyed_hash
from tests.concurrency.conftest import Browser, client_address

BURST = 40
NEW_PASSWORD = "Brand-New-Portal-77!"


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _events(db, kind: str) -> int:
    return _count(db, SecurityEvent, SecurityEvent.kind == kind)


def _no_5xx(replies) -> None:
    bad = [(r.status, r.body[:300]) for r in replies if r.status >= 500]
    assert not bad, bad


def test_parallel_wrong_recovery_codes_lock_the_otp_at_five(browser, otp_customer, db):
    from portal.auth import services

    codes = services.regenerate_recovery_codes(db.session.get(Customer, otp_customer.id))
    db.session.commit()
    assert browser.step_one(otp_customer.login_id, otp_customer.password).status == 302
    token, _ = browser.token("/login/recovery")
    wrong = [{"csrf_token": token, "recovery_code": f"WRONG-{n:04d}-XXXX"} for n in range(BURST)]
    replies = browser.all_at_once("POST", "/login/recovery", wrong)
    assert sorted({r.status for r in replies}) == [200]
    # Wrong recovery codes count on the OTP's counter: four were weighed, the rest locked.
    assert len([r for r in replies if "복구 코드가 올바르지 않거나" in r.body]) == 4
    assert len([r for r in replies if "OTP가 잠겼습니다" in r.body]) == BURST - 4
    db.session.expire_all()
    assert db.session.scalars(select(OtpCredential)).one().locked_until is not None
    assert _events(db, "otp_locked") == 1
    # A right code is refused while locked, and stays unused.
    reply = browser.request(
        "POST", "/login/recovery", {"csrf_token": token, "recovery_code": codes[0]}
    )
    assert "OTP가 잠겼습니다" in reply.body
    assert _count(db, RecoveryCode, RecoveryCode.used_at.is_not(None)) == 0
    assert _count(db, UserSession) == 0


def test_a_used_otp_step_replayed_in_parallel_opens_nothing(live_server, otp_customer, db):
    # The customer signs in with this step's code...
    first = Browser(live_server)
    first.step_one(otp_customer.login_id, otp_customer.password)
    token, _ = first.token("/login/verify")
    code = pyotp.TOTP(otp_customer.otp_secret).now()
    reply = first.request("POST", "/login/verify", {"csrf_token": token, "otp": code})
    assert reply.location == "/account", reply.body[:300]
    # ...and someone who watched it type the same code, forty times at once, from forty
    # addresses, on a pending login of their own (they have the password too).
    thief = Browser(live_server)
    thief.step_one(otp_customer.login_id, otp_customer.password)
    token, _ = thief.token("/login/verify")
    replies = thief.all_at_once(
        "POST", "/login/verify", [{"csrf_token": token, "otp": code}] * BURST
    )
    assert sorted({r.status for r in replies}) == [200]
    assert not [r for r in replies if r.location == "/account"]
    # A replay is counted like a wrong code: four told so, then the OTP locks.
    replayed = [r for r in replies if "이미 사용한 OTP 번호입니다" in r.body]
    locked = [r for r in replies if "OTP가 잠겼습니다" in r.body]
    assert len(replayed) == 4 and len(locked) == BURST - 4, (len(replayed), len(locked))
    assert _count(db, UserSession) == 1
    assert _events(db, "login_success") == 1
    assert _events(db, "otp_locked") == 1


def _reset_link(db, customer) -> str:
    token = "race-reset-token-" + "x" * 26
    now = datetime.now(UTC)
    db.session.add(
        PasswordReset(
            token_hash=keyed_hash(token),
            customer_id=customer.id,
            created_at=now,
            expires_at=now + timedelta(minutes=30),
        )
    )
    db.session.commit()
    return token


def test_one_reset_link_used_by_forty_browsers_at_once_works_once(live_server, customer, db):
    token = _reset_link(db, customer)
    # Forty browsers (the mail forwarded, or the link leaked) each open the link...
    browsers = [Browser(live_server, client_address(n)) for n in range(BURST)]
    forms = []
    for each in browsers:
        reply = each.request("GET", f"/login/reset/{token}")
        assert reply.status == 302 and reply.location == "/login/reset", reply.status
        csrf, _ = each.token("/login/reset")
        forms.append(
            {"csrf_token": csrf, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        )
    # ...and all choose a new password at the same moment.
    replies = browsers[0].all_at_once("POST", "/login/reset", forms, browsers=browsers)
    _no_5xx(replies)
    won = [r for r in replies if r.status == 302 and r.location == "/login/verify"]
    assert len(won) == 1, sorted(r.status for r in replies)
    assert all(r.status == 410 for r in replies if r not in won), sorted(r.status for r in replies)
    assert _count(db, PasswordReset, PasswordReset.used_at.is_not(None)) == 1
    assert _count(db, PendingLogin, PendingLogin.new_password_hash.is_not(None)) == 1
    assert _events(db, "password_reset_link_used") == 1
    # The new password waits on the second factor: the stored one has not changed yet.
    browser = Browser(live_server)
    assert browser.step_one(customer.login_id, customer.password).status == 302


def _staff_browser(live_server, db) -> Browser:
    password = "Staff-pass-2026!"
    _, secret = create_staff(
        login_id="billing_boss", name="관리자", role="admin", password=password
    )
    db.session.commit()
    staff = Browser(live_server)
    token, _ = staff.token("/admin/login")
    reply = staff.request(
        "POST",
        "/admin/login",
        {"csrf_token": token, "login_id": "billing_boss", "password": password},
    )
    assert reply.location == "/admin/login/verify", reply.body[:300]
    token, _ = staff.token("/admin/login/verify")
    reply = staff.request(
        "POST", "/admin/login/verify", {"csrf_token": token, "otp": pyotp.TOTP(secret).now()}
    )
    assert reply.location == "/admin/", reply.body[:300]
    return staff


def test_one_billing_file_imported_forty_times_at_once_records_each_payment_once(
    live_server, customer, db
):
    staff = _staff_browser(live_server, db)
    token, _ = staff.token("/admin/billing/import")
    today = date.today().isoformat()
    csv = (
        "record,invoice_number,login_id,due_date,amount,paid_on,payment_number\n"
        f"invoice,INV-RACE-1,{customer.login_id},{today},33000,,\n"
        f"payment,INV-RACE-1,,,11000,{today},PAY-RACE-1\n"
    ).encode()
    form = {"csrf_token": token, "file": ("billing.csv", csv)}
    replies = staff.all_at_once("POST", "/admin/billing/import", [form] * BURST)
    _no_5xx(replies)
    assert all(r.status in (200, 409) for r in replies), sorted(r.status for r in replies)
    assert _count(db, Invoice, Invoice.external_number == "INV-RACE-1") == 1
    assert _count(db, Payment, Payment.external_number == "PAY-RACE-1") == 1
    assert db.session.scalar(select(func.sum(Payment.amount))) == 11000


def test_payments_imported_at_once_never_exceed_the_invoice(live_server, customer, db):
    invoice = add_invoice(db.session.get(Customer, customer.id), amount=33000, due=date.today())
    invoice.external_number = "INV-RACE-2"
    db.session.commit()
    staff = _staff_browser(live_server, db)
    token, _ = staff.token("/admin/billing/import")
    today = date.today().isoformat()
    forms = []
    for n in range(BURST):
        # Forty different payments, each for the whole amount: only one can fit.
        csv = (
            "record,invoice_number,login_id,due_date,amount,paid_on,payment_number\n"
            f"payment,INV-RACE-2,,,33000,{today},PAY-RACE-2-{n}\n"
        ).encode()
        forms.append({"csrf_token": token, "file": ("billing.csv", csv)})
    replies = staff.all_at_once("POST", "/admin/billing/import", forms)
    _no_5xx(replies)
    assert _count(db, Payment, Payment.invoice_id == invoice.id) == 1
    assert db.session.scalar(select(func.sum(Payment.amount))) == 33000
    # The others were refused with the amount still due (nothing), as a sequential run is.
    assert len([r for r in replies if r.status == 400]) == BURST - 1
