"""What the step-2 page offers is decided by the service, not by the template."""

from __future__ import annotations

import pytest

from portal.auth.signin import StepTwo
from tests.conftest import AuthActions


@pytest.mark.parametrize(
    ("method", "methods", "switch_to", "recovery"),
    [
        ("card", ["card"], None, False),
        ("otp", ["otp"], None, True),
        ("card", ["card", "otp"], "otp", True),
        ("otp", ["card", "otp"], "card", True),
        (None, [], None, False),
    ],
)
def test_step_two_offers(method, methods, switch_to, recovery):
    state = StepTwo(method=method, methods=methods)
    assert state.switch_to == switch_to
    assert state.recovery_offered is recovery


def test_card_only_page(client, auth, customer):
    auth.step_one(customer)
    html = client.get("/login/verify").get_data(as_text=True)
    assert 'id="card-challenge"' in html
    assert "switch-method" not in html and "/login/recovery" not in html
    assert "로그인 1단계 후 5분 안에 인증을 마쳐야 합니다." in html


def test_otp_only_page_offers_recovery_codes(client, auth, otp_customer):
    auth.step_one(otp_customer)
    html = client.get("/login/verify").get_data(as_text=True)
    assert 'id="f-otp"' in html and "switch-method" not in html
    assert 'href="/login/recovery"' in html


def test_the_time_allowed_follows_the_setting(config, app_factory, customer):
    config.PORTAL_STEP2_SECONDS = 600
    client = app_factory(config).test_client()
    AuthActions(client).step_one(customer)
    html = client.get("/login/verify").get_data(as_text=True)
    assert "로그인 1단계 후 10분 안에 인증을 마쳐야 합니다." in html
    client.get("/language/en")
    html = client.get("/login/verify").get_data(as_text=True)
    assert "within 10 minutes of completing" in html
