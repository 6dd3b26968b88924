"""``flask demo load``: one staff account per role, printed with its TOTP secret, idempotent."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.admin.models import Staff
from portal.extensions import db
from tests.admin.conftest import DemoStaff

STAFF_LINE = re.compile(
    r"- staff \((\w+)\): 아이디 (\w+) / 비밀번호 (\S+)\n"
    r"  OTP secret \(인증 앱에 입력\): ([A-Z2-7]+)"
)


def test_demo_load_prints_a_staff_sign_in_per_role(runner, client, staff_auth):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "/admin/login" in first.output
    printed = STAFF_LINE.findall(first.output)
    assert sorted(role for role, *_ in printed) == [
        "admin",
        "billing",
        "privacy_officer",
        "support",
    ]
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert STAFF_LINE.findall(second.output) == printed
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Staff)) == 4

    role, login_id, password, secret = next(p for p in printed if p[0] == "privacy_officer")
    staff = db.session.scalars(select(Staff).where(Staff.login_id == login_id)).one()
    staff_auth.login(DemoStaff(login_id, password, secret, role, staff.id))
    assert client.get("/admin/access-log").status_code == 200
    assert client.get("/admin/staff").status_code == 403
