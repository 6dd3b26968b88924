"""Hypothesis: whatever is typed into the staff sign-in forms, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.auth.test_fuzz import FUZZ, text
from tests.conftest import post_form


@pytest.fixture(autouse=True)
def generous_rate_limit(app):
    app.config["RATELIMIT_LOGIN"] = "100000 per minute"


@FUZZ
@given(login_id=text, password=text)
def test_staff_login_form_never_500(client, login_id, password):
    response = post_form(client, "/admin/login", {"login_id": login_id, "password": password})
    assert response.status_code in (200, 400)
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


@FUZZ
@given(code=text)
def test_staff_otp_form_never_500(client, staff_auth, admin_staff, code):
    staff_auth.step_one(admin_staff)
    response = post_form(client, "/admin/login/verify", {"otp": code})
    assert response.status_code in (200, 302, 400)


@FUZZ
@given(new=text, confirm=st.none() | text)
def test_staff_password_form_never_500(client, staff_auth, admin_staff, new, confirm):
    # The current password is the right one (wrong ones lock the account: tested apart);
    # a lucky valid new password becomes the current one for the next example.
    if client.get("/admin/password").status_code != 200:
        staff_auth.login(admin_staff)
    data = {
        "current_password": admin_staff.password,
        "new_password": new,
        "new_password_confirm": new if confirm is None else confirm,
    }
    response = post_form(client, "/admin/password", data)
    assert response.status_code in (200, 302, 400)
    if response.status_code == 302:
        admin_staff.password = new
