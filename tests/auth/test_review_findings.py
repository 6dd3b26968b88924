"""Sign-in findings of the review (issue 8) that single requests can show.

The races are in tests/concurrency/ (real parallel requests against gunicorn).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import time_machine
from flask import Flask
from sqlalchemy import select

from portal.auth.models import OtpCredential
from portal.customers.models import Customer
from tests.conftest import AuthActions, DemoCustomer, post_form

T0 = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)
NEW_PASSWORD = "Fresh-Start-2026!"


def _activate(client, password: str = NEW_PASSWORD):
    return post_form(
        client, "/login/activate", {"password": password, "password_confirm": password}
    )


def test_activation_keeps_the_old_password_until_the_second_factor(app, make_customer, db):
    """Whoever holds the staff-set password cannot take the account by choosing a new one."""
    newbie = make_customer(login_id="first_timer", activated=False)
    thief = AuthActions(app.test_client())
    thief.step_one(newbie)
    assert _activate(thief.client).headers["Location"] == "/login/verify"
    # The thief has no card: the account still has only the staff-set password.
    db.session.expire_all()
    customer = db.session.scalars(select(Customer)).one()
    assert customer.must_activate
    renewed = DemoCustomer(login_id=newbie.login_id, password=NEW_PASSWORD)
    other = AuthActions(app.test_client())
    assert other.step_one(renewed).status_code == 200  # the new one does not open it
    assert other.step_one(newbie).headers["Location"] == "/login/activate"


def test_activation_takes_effect_with_the_card(client, make_customer, db):
    newbie = make_customer(login_id="first_timer", activated=False)
    auth = AuthActions(client)
    auth.step_one(newbie)
    _activate(client)
    assert auth.answer_card(newbie).headers["Location"] == "/account"
    auth.logout()
    renewed = DemoCustomer(
        login_id=newbie.login_id, password=NEW_PASSWORD, card_codes=newbie.card_codes
    )
    assert auth.step_one(renewed).headers["Location"] == "/login/verify"
    assert auth.step_one(newbie).status_code == 200
    db.session.expire_all()
    assert db.session.scalars(select(Customer)).one().must_activate is False


def test_rejected_new_passwords_are_limited_per_sign_in(client, make_customer):
    newbie = make_customer(login_id="first_timer", activated=False)
    AuthActions(client).step_one(newbie)
    for _ in range(4):
        assert _activate(client, "password1").status_code == 200
    fifth = _activate(client, "password1")
    assert fifth.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "잘못된 입력이 너무 많아 로그인을 중단했습니다" in page
    # The pending login is gone: a good password now needs step 1 again.
    assert client.get("/login/activate").headers["Location"] == "/login"


def _enrolled(client, auth, customer) -> list[str]:
    auth.login(customer)
    html = client.get("/account/security/otp").get_data(as_text=True)
    secret = html.split('id="otp-secret">')[1].split("<")[0]
    done = post_form(
        client, "/account/security/otp", {"otp": pyotp.TOTP(secret).at(datetime.now(UTC))}
    )
    codes = [
        part.split("</code>")[0] for part in done.get_data(as_text=True).split("<li><code>")[1:]
    ]
    auth.logout()
    return codes


def test_wrong_recovery_codes_lock_like_wrong_otps(client, auth, customer, db):
    codes = _enrolled(client, auth, customer)
    auth.step_one(customer)
    for _ in range(4):
        wrong = post_form(client, "/login/recovery", {"recovery_code": "aaaaa-bbbbb"})
        assert "복구 코드가 올바르지 않거나" in wrong.get_data(as_text=True)
    locked = post_form(client, "/login/recovery", {"recovery_code": "aaaaa-bbbbb"})
    assert "OTP가 잠겼습니다" in locked.get_data(as_text=True)
    # Even a good code waits out the lock.
    good = post_form(client, "/login/recovery", {"recovery_code": codes[0]})
    assert good.status_code == 200 and "OTP가 잠겼습니다" in good.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_reauth_gives_the_session_a_new_token(app, client, auth, customer):
    auth.login(customer)
    before = app.test_client()
    before.set_cookie("portal_session", client.get_cookie("portal_session").value)
    assert before.get("/account").status_code == 200  # a copy of the cookie works...
    post_form(client, "/reauth", {"password": customer.password})
    assert client.get("/account").status_code == 200
    # ...until the password is typed again: the copy does not carry the new privilege.
    assert before.get("/account").status_code == 302


def test_password_change_gives_the_session_a_new_token(app, client, auth, customer):
    auth.login(customer)
    post_form(client, "/reauth", {"password": customer.password})
    copy = app.test_client()
    copy.set_cookie("portal_session", client.get_cookie("portal_session").value)
    changed = post_form(
        client,
        "/account/password",
        {
            "current_password": customer.password,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert client.get("/account").status_code == 200
    assert copy.get("/account").status_code == 302


def test_a_pending_otp_enrolment_expires(app: Flask, client, auth, customer, db):
    with time_machine.travel(T0, tick=False) as traveller:
        auth.login(customer)
        html = client.get("/account/security/otp").get_data(as_text=True)
        secret = html.split('id="otp-secret">')[1].split("<")[0]
        traveller.shift(timedelta(seconds=app.config["PORTAL_OTP_ENROL_SECONDS"] + 1))
        post_form(client, "/reauth", {"password": customer.password})
        code = pyotp.TOTP(secret).at(T0 + timedelta(seconds=601))
        # The tab stayed open all along: the token comes from another page.
        late = post_form(client, "/account/security/otp", {"otp": code}, page="/account/security")
        assert "OTP가 등록되어 있지 않습니다" in late.get_data(as_text=True)
        db.session.expire_all()
        credential = db.session.scalars(select(OtpCredential)).one()
        assert credential.confirmed_at is None
        # The page now shows a different secret.
        fresh = client.get("/account/security/otp").get_data(as_text=True)
        assert fresh.split('id="otp-secret">')[1].split("<")[0] != secret


def test_the_sign_in_message_reaches_the_dashboard(client, auth, customer):
    auth.login(customer)
    assert "로그인했습니다." in client.get("/account").get_data(as_text=True)


# A burst is charged before it is compared: while the fifth guess is still being compared
# (its count written, the lock not yet), a sixth must be refused without a comparison — even
# when it is right. The counts below stand for that moment, deterministically.


def _set(db, model, **values):
    from sqlalchemy import update

    db.session.execute(update(model).values(**values))
    db.session.commit()


def test_a_guess_beyond_the_password_limit_is_never_compared(client, auth, customer, db):
    _set(db, Customer, failed_logins=5, locked_until=None)
    response = auth.step_one(customer)  # the right password
    assert "계정이 잠겼습니다" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Customer)).one().locked_until is not None


def test_a_card_answer_beyond_the_limit_is_never_compared(client, auth, customer, db):
    from portal.auth.models import SecurityCard

    auth.step_one(customer)
    auth.challenge()
    _set(db, SecurityCard, failed_attempts=5, locked_at=None)
    response = auth.answer_card(customer)  # the right answer
    assert "보안카드가 잠겼습니다" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_an_otp_beyond_the_limit_is_never_compared(client, auth, otp_customer, db):
    auth.step_one(otp_customer)
    _set(db, OtpCredential, failed_attempts=5, locked_until=None)
    response = auth.answer_otp(pyotp.TOTP(otp_customer.otp_secret).now())
    assert "OTP가 잠겼습니다" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_a_temporary_password_stops_working_after_its_days(app, client, make_customer, db):
    """A staff-set password travelled on paper: unused for too long, it opens nothing."""
    newbie = make_customer(login_id="first_timer", activated=False)
    days = app.config["PORTAL_TEMPORARY_PASSWORD_DAYS"]
    db.session.execute(
        Customer.__table__.update().values(
            password_changed_at=datetime.now(UTC) - timedelta(days=days, minutes=1)
        )
    )
    db.session.commit()
    auth = AuthActions(client)
    refused = auth.step_one(newbie)
    assert refused.status_code == 200
    assert "임시 비밀번호의 사용 기한이 지났습니다" in refused.get_data(as_text=True)
    assert client.get("/login/activate").headers["Location"].startswith("/login")
    # Told only to whoever knows the password: a wrong one gets the usual answer.
    wrong = auth.step_one(newbie, password="Not-The-One-2026!")
    assert "사용 기한" not in wrong.get_data(as_text=True)
    # A day inside the limit still works (the limit is the setting, not a constant).
    db.session.execute(
        Customer.__table__.update().values(
            password_changed_at=datetime.now(UTC) - timedelta(days=days - 1)
        )
    )
    db.session.commit()
    assert auth.step_one(newbie).headers["Location"] == "/login/activate"


def test_an_activated_customer_s_own_password_never_expires_this_way(client, customer, db):
    db.session.execute(
        Customer.__table__.update().values(
            password_changed_at=datetime.now(UTC) - timedelta(days=400)
        )
    )
    db.session.commit()
    assert AuthActions(client).step_one(customer).headers["Location"] == "/login/verify"
