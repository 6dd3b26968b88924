"""Staff accounts on screen (admin only): create with secrets shown once, change role,
disable / enable, reset OTP and password, the role log; refusals for other roles."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import func, select, update

from portal.admin.models import Staff, StaffSession
from portal.audit.models import AccessRecord, RoleChange
from portal.dbtypes import utcnow
from portal.extensions import db
from tests.admin.conftest import DemoStaff, StaffActions
from tests.conftest import post_form

MISMATCH = "확인란에 대상 아이디를 정확히 입력해 주세요."
NOT_SELF = "자기 계정의 역할 변경, 사용 중지, 초기화는 다른 관리자가 해야 합니다."
FORBIDDEN = "이 화면은 담당 권한이 있는 직원만 쓸 수 있습니다."
SECRET_RE = re.compile(r'id="otp-secret">([A-Z2-7]+)<')
PASSWORD_RE = re.compile(r'id="temporary-password">([^<]+)<')


@pytest.fixture
def config(config):
    config.RATELIMIT_LOGIN = "1000 per minute"
    return config


def _staff(login_id: str) -> Staff:
    db.session.expire_all()
    return db.session.scalars(select(Staff).where(Staff.login_id == login_id)).one()


def _role_log(login_id: str) -> list[tuple]:
    db.session.expire_all()
    target = _staff(login_id)
    rows = db.session.scalars(
        select(RoleChange).where(RoleChange.staff_id == target.id).order_by(RoleChange.id)
    )
    return [(r.kind, r.old_role, r.new_role, r.changed_by_id) for r in rows]


def _signed_in_admin(staff_auth, admin_staff):
    staff_auth.login(admin_staff)
    return staff_auth.client


def test_admin_creates_an_account_and_its_secrets_are_shown_once(
    app, client, staff_auth, admin_staff
):
    _signed_in_admin(staff_auth, admin_staff)
    assert "직원 계정" in client.get("/admin/").get_data(as_text=True)
    form = client.get("/admin/staff/new")
    assert form.status_code == 200
    response = post_form(
        client,
        "/admin/staff/new",
        {"login_id": "New_Clerk", "name": "김신입", "role": "support", "password": ""},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = SECRET_RE.search(html).group(1)
    temporary = PASSWORD_RE.search(html).group(1)
    assert "<svg" in html and "otpauth://totp/" in html
    # Shown in this response only: not in a cookie or a redirect.
    assert secret not in " ".join(response.headers.getlist("Set-Cookie"))
    assert "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    created = _staff("new_clerk")
    assert created.role == "support" and created.must_change_password
    assert _role_log("new_clerk") == [("grant", None, "support", admin_staff.id)]
    # The list shows it, and the new account signs in with the secret shown, then must
    # change the temporary password first.
    listing = client.get("/admin/staff").get_data(as_text=True)
    assert "new_clerk" in listing and "김신입" in listing and "임시 비밀번호" in listing
    newcomer = StaffActions(app.test_client())
    newcomer.login(DemoStaff("new_clerk", temporary, secret, "support", created.id))
    assert newcomer.client.get("/admin/").headers["Location"].endswith("/admin/password")


def test_create_keeps_what_was_typed_and_says_what_is_wrong(client, staff_auth, admin_staff):
    _signed_in_admin(staff_auth, admin_staff)
    response = post_form(
        client,
        "/admin/staff/new",
        {"login_id": "boss", "name": "중복", "role": "billing", "password": ""},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "이미 있는 직원 아이디입니다." in html
    assert 'value="중복"' in html
    bad = post_form(
        client, "/admin/staff/new", {"login_id": "x", "name": "", "role": "root", "password": ""}
    )
    assert bad.status_code == 400
    assert "아이디는 영문 소문자" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Staff)) == 1


def test_role_change_disable_enable_and_the_role_log(
    app, client, staff_auth, admin_staff, make_staff
):
    clerk = make_staff("support", login_id="clerk")
    clerk_client = StaffActions(app.test_client())
    clerk_client.login(clerk)
    _signed_in_admin(staff_auth, admin_staff)
    page = f"/admin/staff/{clerk.id}"
    assert client.get(page).status_code == 200

    wrong = post_form(
        client,
        f"{page}/role",
        {"role": "billing", "confirm_login_id": "boss"},
        page=page,
    )
    assert wrong.status_code == 400 and MISMATCH in wrong.get_data(as_text=True)
    assert _staff("clerk").role == "support"

    done = post_form(
        client, f"{page}/role", {"role": "billing", "confirm_login_id": "CLERK"}, page=page
    )
    assert done.status_code == 302
    assert _staff("clerk").role == "billing"
    # The old role's sessions ended with it.
    assert clerk_client.client.get("/admin/").status_code == 302

    # Same actions object: it knows the first code was used (codes are single-use).
    clerk_client.client = app.test_client()
    clerk_client.login(clerk)
    assert clerk_client.client.get("/admin/").status_code == 200
    disabled = post_form(client, f"{page}/disable", {"confirm_login_id": "clerk"}, page=page)
    assert disabled.status_code == 302
    assert not _staff("clerk").active
    # A disabled account's session ends at once, and it cannot sign in again.
    assert clerk_client.client.get("/admin/").headers["Location"].endswith("/admin/login")
    assert clerk_client.step_one(clerk).status_code == 200

    enabled = post_form(client, f"{page}/enable", {}, page=page)
    assert enabled.status_code == 302 and _staff("clerk").active

    assert _role_log("clerk") == [
        ("grant", None, "support", None),
        ("change", "support", "billing", admin_staff.id),
        ("revoke", "billing", None, admin_staff.id),
        ("restore", None, "billing", admin_staff.id),
    ]
    log = client.get("/admin/staff/role-log")
    assert log.status_code == 200
    html = log.get_data(as_text=True)
    for word in ("부여", "변경", "말소", "복구", "명령줄", "boss", "clerk"):
        assert word in html
    assert "127.0.0.1" in html


def test_the_admin_cannot_disable_or_demote_themselves(client, staff_auth, admin_staff):
    _signed_in_admin(staff_auth, admin_staff)
    page = f"/admin/staff/{admin_staff.id}"
    assert NOT_SELF in client.get(page).get_data(as_text=True)
    for action, data in (
        ("disable", {}),
        ("role", {"role": "support"}),
        ("reset-otp", {}),
        ("reset-password", {}),
    ):
        response = post_form(
            client, f"{page}/{action}", {**data, "confirm_login_id": "boss"}, page=page
        )
        assert response.status_code == 400, action
        assert NOT_SELF in response.get_data(as_text=True)
    me = _staff("boss")
    assert me.active and me.role == "admin"
    assert client.get("/admin/").status_code == 200


def test_reset_otp_and_password_are_shown_once_and_logged(
    app, client, staff_auth, admin_staff, make_staff
):
    clerk = make_staff("support", login_id="clerk")
    _signed_in_admin(staff_auth, admin_staff)
    page = f"/admin/staff/{clerk.id}"
    mismatch = post_form(client, f"{page}/reset-otp", {"confirm_login_id": "x"}, page=page)
    assert mismatch.status_code == 400
    response = post_form(client, f"{page}/reset-otp", {"confirm_login_id": "clerk"}, page=page)
    assert response.status_code == 200
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    assert secret != clerk.otp_secret
    response = post_form(client, f"{page}/reset-password", {"confirm_login_id": "clerk"}, page=page)
    temporary = PASSWORD_RE.search(response.get_data(as_text=True)).group(1)
    fresh = StaffActions(app.test_client())
    fresh.login(DemoStaff("clerk", temporary, secret, "support", clerk.id))
    db.session.expire_all()
    actions = set(
        db.session.scalars(select(AccessRecord.action).where(AccessRecord.actor == "boss"))
    )
    assert {"staff_otp_reset", "staff_password_reset"} <= actions
    # Secrets never reach the access log.
    for row in db.session.scalars(select(AccessRecord)):
        assert secret not in row.fields and temporary not in row.fields


def test_destructive_actions_need_a_recent_password(client, staff_auth, admin_staff, make_staff):
    clerk = make_staff("support", login_id="clerk")
    _signed_in_admin(staff_auth, admin_staff)
    page = f"/admin/staff/{clerk.id}"
    token_page = client.get(page).get_data(as_text=True)
    assert token_page
    db.session.execute(
        update(StaffSession).values(authenticated_at=utcnow().replace(year=utcnow().year - 1))
    )
    db.session.commit()
    response = post_form(client, f"{page}/disable", {"confirm_login_id": "clerk"}, page=page)
    assert response.status_code == 302
    assert "/admin/reauth" in response.headers["Location"]
    assert _staff("clerk").active


@pytest.mark.parametrize("role", ["support", "billing", "privacy_officer"])
def test_other_roles_get_403_and_a_denied_record(client, staff_auth, make_staff, role):
    staff = make_staff(role)
    staff_auth.login(staff)
    for path in ("/admin/staff", "/admin/staff/new", "/admin/staff/role-log"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert FORBIDDEN in response.get_data(as_text=True)
    response = post_form(
        client,
        f"/admin/staff/{staff.id}/disable",
        {"confirm_login_id": staff.login_id},
        page="/admin/",
    )
    assert response.status_code == 403
    db.session.expire_all()
    denied = db.session.scalar(
        select(func.count())
        .select_from(AccessRecord)
        .where(AccessRecord.actor == staff.login_id, AccessRecord.action == "denied")
    )
    assert denied == 4
    assert _staff(staff.login_id).active
    assert "직원 계정" not in client.get("/admin/").get_data(as_text=True)


def test_staff_posts_need_the_csrf_token(client, staff_auth, admin_staff, make_staff):
    clerk = make_staff("support", login_id="clerk")
    _signed_in_admin(staff_auth, admin_staff)
    response = client.post(f"/admin/staff/{clerk.id}/disable", data={"confirm_login_id": "clerk"})
    assert response.status_code == 400
    assert _staff("clerk").active
    response = client.post(
        "/admin/staff/new", data={"login_id": "sneaky", "name": "x", "role": "admin"}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Staff)) == 2


def test_unknown_staff_is_404(client, staff_auth, admin_staff):
    _signed_in_admin(staff_auth, admin_staff)
    assert client.get("/admin/staff/999999").status_code == 404


def test_totp_of_a_created_account_is_a_valid_secret(client, staff_auth, admin_staff):
    _signed_in_admin(staff_auth, admin_staff)
    response = post_form(
        client,
        "/admin/staff/new",
        {
            "login_id": "typed_pw",
            "name": "박입력",
            "role": "privacy_officer",
            "password": "Typed-By-Admin-2026!",
        },
    )
    html = response.get_data(as_text=True)
    assert PASSWORD_RE.search(html) is None  # the admin typed it: nothing to show
    assert len(pyotp.TOTP(SECRET_RE.search(html).group(1)).now()) == 6
