"""Phones are stored E.164 and shown as the customer writes them (PRODUCT.md §1): the national form
for general members (010-1234-5678), the international form for overseas members."""

from __future__ import annotations

import json

import pytest
from flask import render_template_string

from portal.customers import validation as v
from portal.customers.models import Customer
from tests.account.conftest import fresh, version_from
from tests.conftest import csrf_from, post_form

EDIT = "/account/profile/edit"


@pytest.mark.parametrize(
    ("stored", "member_type", "shown"),
    [
        ("+821012345678", "general", "010-1234-5678"),
        ("+82212345678", "general", "02-1234-5678"),
        ("+82313456789", "general", "031-345-6789"),
        ("+8215881234", "general", "1588-1234"),
        ("+12025550123", "overseas", "+1 202-555-0123"),
        ("+14155552671", "overseas", "+1 415-555-2671"),
        ("+442079460958", "overseas", "+44 20 7946 0958"),
        # A foreign number on a general member (data from before the rule) stays unambiguous.
        ("+14155552671", "general", "+1 415-555-2671"),
        ("", "general", ""),
        (None, "overseas", ""),
        ("not a number", "general", "not a number"),
    ],
)
def test_display_phone(stored, member_type, shown):
    assert v.display_phone(stored, member_type) == shown


@pytest.mark.parametrize(
    ("stored", "member_type"),
    [
        ("+821012345678", "general"),
        ("+82212345678", "general"),
        ("+8215881234", "general"),
        ("+14155552671", "overseas"),
        ("+442079460958", "overseas"),
    ],
)
def test_shown_form_parses_back_to_the_stored_number(stored, member_type):
    """The edit form shows the display form: submitted unchanged, it must be no change."""
    assert v.phone(v.display_phone(stored, member_type), member_type=member_type) == stored


def test_jinja_filter(app):
    with app.test_request_context():
        out = render_template_string(
            "{{ a|phone('general') }} / {{ b|phone('overseas') }}",
            a="+821012345678",
            b="+12025550123",
        )
    assert out == "010-1234-5678 / +1 202-555-0123"


# --- every place a phone is shown -------------------------------------------------------


def test_profile_shows_national_form_for_general_member(signed_in, client):
    html = client.get("/account/profile").get_data(as_text=True)
    assert "010-1234-5678" in html
    assert "+821012345678" not in html


def test_profile_shows_international_form_for_overseas_member(auth, overseas, client):
    auth.login(overseas)
    html = client.get("/account/profile").get_data(as_text=True)
    assert "+1 415-555-2671" in html
    assert "+14155552671" not in html


def test_edit_form_starts_from_the_national_form_and_unchanged_is_no_change(db, signed_in, client):
    html = client.get(EDIT).get_data(as_text=True)
    assert 'name="phone" type="tel" value="010-1234-5678"' in html
    assert "+821012345678" not in html
    _submit_form_as_shown(client, html)
    assert fresh(signed_in.id).version == 1
    assert fresh(signed_in.id).phone == "+821012345678"


def test_edit_form_starts_from_the_international_form_for_overseas(auth, overseas, client):
    auth.login(overseas)
    html = client.get(EDIT).get_data(as_text=True)
    assert 'name="phone" type="tel" value="+1 415-555-2671"' in html
    assert "+14155552671" not in html
    _submit_form_as_shown(client, html)
    assert fresh(overseas.id).version == 1


def _submit_form_as_shown(client, html: str) -> None:
    import re

    values = dict(re.findall(r'name="(\w+)" type="[a-z]+" value="([^"]*)"', html))
    # Selects (the overseas member's country) post their selected option.
    values.update(
        re.findall(r'name="(\w+)"[^>]*>\s*(?:<option[^>]*>[^<]*</option>\s*)*?'
                   r'<option value="([^"]*)" selected', html)
    )  # fmt: skip
    assert {"email", "phone", "username"} <= set(values)
    data = {**values, "version": version_from(html), "csrf_token": csrf_from(html)}
    response = client.post(EDIT, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "바뀐 내용이 없어" in client.get("/account/profile").get_data(as_text=True)


@pytest.mark.parametrize(
    ("kind", "phone", "shown", "stored"),
    [
        ("general", "02-1234-5678", "02-1234-5678", "+82212345678"),
        ("overseas", "+1 202 555 0123", "+1 202-555-0123", "+12025550123"),
    ],
)
def test_stale_edit_page_shows_the_display_form(app, db, make_customer, kind, phone, shown, stored):
    from tests.conftest import AuthActions

    extra = (
        {"member_type": "overseas", "postal_code": None, "country": "US", "address": "Main St"}
        if kind == "overseas"
        else {}
    )
    demo = make_customer(login_id=f"stale_{kind}", phone=phone, **extra)
    client = app.test_client()
    AuthActions(client).login(demo)
    html = client.get(EDIT).get_data(as_text=True)
    row = db.session.get(Customer, demo.id)
    row.username = "다른 창"
    row.version = 2
    db.session.commit()
    data = {
        "email": "x@example.kr",
        "phone": phone,
        "postal_code": "04524",
        "country": "US",
        "address": "Main St",
        "username": "u",
        "version": version_from(html),
    }
    response = post_form(client, EDIT, data, page=EDIT)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert shown in page and stored not in page


@pytest.mark.parametrize(
    ("kind", "stored", "shown"),
    [
        ("general", "+821012345678", "010-1234-5678"),
        ("overseas", "+14155552671", "+1 415-555-2671"),
    ],
)
def test_export_keeps_e164_and_adds_the_display_form(
    auth, client, customer, overseas, kind, stored, shown
):
    auth.login(customer if kind == "general" else overseas)
    response = post_form(client, "/account/export", {}, page="/account/profile")
    profile = json.loads(response.get_data(as_text=True))["profile"]
    assert profile["phone"] == stored  # machine-readable, unambiguous in any country
    assert profile["phone_display"] == shown  # as on screen
