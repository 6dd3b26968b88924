"""Hypothesis: whatever is typed into the sign-in forms, never a 500 and no counter drift."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.auth.models import SecurityCard
from tests.conftest import post_form


@pytest.fixture(autouse=True)
def generous_rate_limit(app):
    # Each example is one more POST from the same address; the limit has its own test.
    app.config["RATELIMIT_LOGIN"] = "100000 per minute"


FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=300
) | st.sampled_from(["", " ", "０１", "12", "<script>alert(1)</script>", "' OR 1=1 --", "x" * 5000])


@FUZZ
@given(login_id=text, password=text)
def test_login_form_never_500(client, login_id, password):
    response = post_form(client, "/login", {"login_id": login_id, "password": password})
    assert response.status_code in (200, 400, 429)
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


@FUZZ
@given(first=text, last=text, shown_first=text, shown_last=text)
def test_card_form_never_500(client, auth, customer, db, first, last, shown_first, shown_last):
    auth.step_one(customer)
    data = {"code_first": first, "code_last": last}
    if shown_first:
        data["challenge_first"] = shown_first
        data["challenge_last"] = shown_last
    # After a lock (no form on the page) or a lucky right answer (signed in), the token
    # comes from the home page's header forms or the login page.
    page = (
        "/login/verify"
        if 'name="csrf_token"' in client.get("/login/verify").get_data(as_text=True)
        else "/login"
    )
    response = post_form(client, "/login/verify", data, page=page)
    assert response.status_code in (200, 302, 400)
    db.session.expire_all()
    card = db.session.scalars(select(SecurityCard)).one()
    # Only well-formed answers to the pinned pair may count as failures.
    assert card.failed_attempts <= 5


@FUZZ
@given(code=text)
def test_otp_and_recovery_forms_never_500(client, auth, otp_customer, code):
    auth.step_one(otp_customer)
    assert post_form(client, "/login/verify", {"otp": code}).status_code in (200, 302, 400)
    assert post_form(client, "/login/recovery", {"recovery_code": code}).status_code in (
        200,
        302,
        400,
    )
