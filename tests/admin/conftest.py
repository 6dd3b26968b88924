"""Staff fixtures: accounts made through the service, sign-in through the real forms."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp
import pytest

from tests.conftest import post_form

STAFF_PASSWORD = "Staff-pass-2026!"


@dataclass
class DemoStaff:
    login_id: str
    password: str
    otp_secret: str
    role: str
    id: int

    def code(self, steps_ahead: int = 0) -> str:
        """The TOTP code of the current step, or of a later one (each step is single-use)."""
        return pyotp.TOTP(self.otp_secret).at(time.time() + 30 * steps_ahead)


class StaffActions:
    """Signs staff in and out through /admin/login and /admin/login/verify."""

    def __init__(self, client):
        self.client = client
        self._step = {}

    def step_one(self, staff: DemoStaff, password: str | None = None):
        return post_form(
            self.client,
            "/admin/login",
            {"login_id": staff.login_id, "password": password or staff.password},
        )

    def answer(self, code: str):
        return post_form(self.client, "/admin/login/verify", {"otp": code})

    def login(self, staff: DemoStaff):
        response = self.step_one(staff)
        assert response.status_code == 302, response.get_data(as_text=True)
        # A second sign-in of one account in a test uses the next step (codes are single-use).
        step = self._step.get(staff.login_id, -1) + 1
        self._step[staff.login_id] = step
        response = self.answer(staff.code(min(step, 1)))
        assert response.status_code == 302, response.get_data(as_text=True)
        assert response.headers["Location"].endswith("/admin/")
        return response

    def logout(self):
        return post_form(self.client, "/admin/logout", {}, page="/admin/")


@pytest.fixture
def make_staff(app):
    from portal.admin.services import create_staff
    from portal.extensions import db

    def factory(role: str = "admin", login_id: str | None = None, **kwargs) -> DemoStaff:
        login = login_id or f"staff_{role}"[:20]
        staff, secret = create_staff(
            login_id=login,
            name=kwargs.pop("name", f"직원 {role}"),
            role=role,
            password=kwargs.pop("password", STAFF_PASSWORD),
            **kwargs,
        )
        db.session.commit()
        return DemoStaff(login, STAFF_PASSWORD, secret, role, staff.id)

    return factory


@pytest.fixture
def staff_auth(client):
    return StaffActions(client)


@pytest.fixture
def admin_staff(make_staff) -> DemoStaff:
    return make_staff("admin", login_id="boss")
