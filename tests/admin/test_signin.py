"""Staff sign-in: password then TOTP, lockouts, expiry, idle timeout, separate sessions."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.admin.models import Staff, StaffSession
from portal.audit.models import AccessRecord
from portal.dbtypes import utcnow
from portal.extensions import db
from tests.admin.conftest import STAFF_PASSWORD, StaffActions
from tests.conftest import post_form

BAD = "아이디 또는 비밀번호가 올바르지 않습니다."


def actions(login_id: str) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AccessRecord.action)
            .where(AccessRecord.actor == login_id)
            .order_by(AccessRecord.seq)
        )
    )


def test_password_then_totp_opens_the_back_office(client, staff_auth, admin_staff, app):
    response = staff_auth.step_one(admin_staff)
    assert response.headers["Location"].endswith("/admin/login/verify")
    # Nothing is signed in between the two steps.
    assert client.get("/admin/").status_code == 302
    response = staff_auth.answer(admin_staff.code())
    assert response.status_code == 302
    cookie = client.get_cookie(app.config["PORTAL_STAFF_COOKIE_NAME"])
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert actions("boss") == ["login"]


def test_unknown_id_and_wrong_password_get_the_same_answer(client, staff_auth, admin_staff):
    wrong = staff_auth.step_one(admin_staff, password="Wrong-pass-2026!")
    unknown = post_form(client, "/admin/login", {"login_id": "nobody", "password": "x" * 10})
    assert wrong.status_code == unknown.status_code == 200
    assert BAD in wrong.get_data(as_text=True)
    assert BAD in unknown.get_data(as_text=True)
    assert actions("boss") == ["login_failure"]


def test_five_wrong_passwords_lock_even_the_right_one(client, staff_auth, admin_staff):
    for _ in range(5):
        staff_auth.step_one(admin_staff, password="Wrong-pass-2026!")
    response = staff_auth.step_one(admin_staff)
    assert response.status_code == 200
    assert "계정이 잠겼습니다" in response.get_data(as_text=True)
    assert "account_locked" in actions("boss")


def test_five_wrong_codes_lock_the_otp(client, staff_auth, admin_staff):
    staff_auth.step_one(admin_staff)
    for _ in range(5):
        staff_auth.answer("000000" if admin_staff.code() != "000000" else "111111")
    response = staff_auth.answer(admin_staff.code())
    assert response.status_code == 200
    assert "OTP" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert "otp_locked" in actions("boss")


def test_a_code_is_accepted_once(client, app, staff_auth, admin_staff):
    staff_auth.step_one(admin_staff)
    code = admin_staff.code()
    assert staff_auth.answer(code).status_code == 302
    other = app.test_client()
    StaffActions = type(staff_auth)
    second = StaffActions(other)
    assert second.step_one(admin_staff).status_code == 302
    replay = second.answer(code)
    assert replay.status_code == 200
    assert other.get("/admin/").status_code == 302


def test_customer_credentials_never_pass_the_staff_login(client, customer):
    response = post_form(
        client, "/admin/login", {"login_id": customer.login_id, "password": customer.password}
    )
    assert response.status_code == 200
    assert BAD in response.get_data(as_text=True)


def test_a_customer_session_opens_nothing_under_admin(client, auth, customer):
    auth.login(customer)
    assert client.get("/account").status_code == 200
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/login")


def test_a_staff_session_opens_no_customer_page(client, staff_auth, admin_staff):
    staff_auth.login(admin_staff)
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_logout_kills_a_copied_cookie(client, app, staff_auth, admin_staff):
    staff_auth.login(admin_staff)
    name = app.config["PORTAL_STAFF_COOKIE_NAME"]
    token = client.get_cookie(name).value
    staff_auth.logout()
    thief = app.test_client()
    thief.set_cookie(name, token)
    assert thief.get("/admin/").status_code == 302
    assert actions("boss")[-1] == "logout"


def test_idle_for_fifteen_minutes_ends_the_session(client, staff_auth, admin_staff):
    staff_auth.login(admin_staff)
    db.session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/login")
    assert db.session.scalar(select(StaffSession.id)) is None


def _age_password(login_id: str, days: int) -> None:
    db.session.execute(
        update(Staff)
        .where(Staff.login_id == login_id)
        .values(password_changed_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def change(client, current: str, new: str, confirm: str | None = None):
    return post_form(
        client,
        "/admin/password",
        {
            "current_password": current,
            "new_password": new,
            "new_password_confirm": confirm or new,
        },
    )


def test_a_password_older_than_90_days_must_be_changed(client, staff_auth, admin_staff):
    _age_password("boss", 91)
    staff_auth.login(admin_staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/password")
    page = client.get("/admin/password").get_data(as_text=True)
    assert 'id="password-expired"' in page
    # The same password again is refused.
    response = change(client, STAFF_PASSWORD, STAFF_PASSWORD)
    assert "최근에 쓴 비밀번호 5개" in response.get_data(as_text=True)
    response = change(client, STAFF_PASSWORD, "Brand-new-pass-77")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_password_89_days_old_is_still_fine(client, staff_auth, admin_staff):
    _age_password("boss", 89)
    staff_auth.login(admin_staff)
    assert client.get("/admin/").status_code == 200


def test_none_of_the_last_five_passwords_again(client, staff_auth, admin_staff):
    staff_auth.login(admin_staff)
    passwords = [STAFF_PASSWORD] + [f"Rotation-pass-{n}x!" for n in range(5)]
    for current, new in itertools.pairwise(passwords):
        assert change(client, current, new).status_code == 302
    # The newest five (1..5) are refused; the sixth back (the first) may come back.
    for old in passwords[1:5]:
        response = change(client, passwords[-1], old)
        assert "최근에 쓴 비밀번호 5개" in response.get_data(as_text=True), old
    assert change(client, passwords[-1], passwords[0]).status_code == 302


def test_an_account_made_by_an_admin_changes_its_password_first(client, make_staff, staff_auth):
    from portal.admin.services import create_staff

    boss = db.session.scalar(select(Staff).where(Staff.login_id == make_staff("admin").login_id))
    staff, secret = create_staff(
        login_id="newbie", name="신입", role="support", password=STAFF_PASSWORD, by=boss
    )
    db.session.commit()
    from tests.admin.conftest import DemoStaff

    staff_auth.login(DemoStaff("newbie", STAFF_PASSWORD, secret, "support", staff.id))
    response = client.get("/admin/")
    assert response.headers["Location"].endswith("/admin/password")


@pytest.mark.parametrize("url", ["/admin/", "/admin/password", "/admin/reauth"])
def test_signed_out_staff_pages_go_to_the_staff_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/login")


def test_disabled_staff_cannot_sign_in_and_lose_their_session(client, app, staff_auth, make_staff):
    from portal.admin.services import disable_staff

    clerk = make_staff("support", login_id="clerk")
    staff_auth.login(clerk)
    disable_staff(db.session.get(Staff, clerk.id), by=None)
    db.session.commit()
    assert client.get("/admin/").status_code == 302
    response = staff_auth.step_one(clerk)
    assert BAD in response.get_data(as_text=True)


def test_a_staff_set_password_expires_unused(app, client, make_staff):
    clerk = make_staff("support", login_id="new_clerk")
    days = app.config["PORTAL_TEMPORARY_PASSWORD_DAYS"]
    db.session.execute(
        update(Staff).values(
            must_change_password=True,
            password_changed_at=utcnow() - timedelta(days=days, minutes=1),
        )
    )
    db.session.commit()
    response = StaffActions(client).step_one(clerk)
    assert response.status_code == 200
    assert "관리자에게 비밀번호 재설정을 요청해 주세요" in response.get_data(as_text=True)
    # Not once the staff member chose it themselves, however old.
    db.session.execute(update(Staff).values(must_change_password=False))
    db.session.commit()
    assert StaffActions(client).step_one(clerk).status_code == 302
