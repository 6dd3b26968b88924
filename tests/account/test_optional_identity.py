"""Birth date and business number are billing items (policy §1-가-2), not sign-up items:
optional at registration, validated when given, shown as not provided when absent."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from portal.account.corrections import approve_correction, request_correction
from portal.auth.registration import register_customer
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer
from portal.customers.services import NewCustomer
from tests.account.conftest import fresh
from tests.conftest import post_form
from tests.factories import PASSWORD


def _new(**overrides) -> NewCustomer:
    fields = {
        "login_id": "no_birth",
        "name": "김미등",
        "email": "no_birth@example.kr",
        "phone": "010-2222-3333",
        "postal_code": "04524",
        "address": "서울특별시 중구 세종대로 110",
        "password": PASSWORD,
    }
    fields.update(overrides)
    return NewCustomer(**fields)


@pytest.mark.parametrize("absent", [None, "", "   "])
def test_individual_registers_without_birth_date(app, db, absent):
    result = register_customer(_new(birth_date=absent))
    db.session.commit()
    assert fresh(result.customer.id).birth_date is None


@pytest.mark.parametrize("absent", [None, "", "  "])
def test_business_registers_without_business_number(app, db, absent):
    result = register_customer(
        _new(login_id="no_brn", customer_type="business", business_number=absent)
    )
    db.session.commit()
    assert fresh(result.customer.id).business_number is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "1990-13-01"}, "birth_date"),
        ({"customer_type": "business", "business_number": "1248100997"}, "business_number"),
        ({"customer_type": "business", "business_number": "12345"}, "business_number"),
    ],
)
def test_given_values_are_still_validated(app, db, overrides, field):
    with pytest.raises(ValidationFailed) as info:
        register_customer(_new(**overrides))
    assert set(info.value.errors) == {field}
    db.session.rollback()
    assert db.session.scalar(select(Customer.id)) is None


def test_given_values_are_stored(app, db):
    person = register_customer(_new(birth_date="1990-01-02")).customer
    firm = register_customer(
        _new(login_id="with_brn", customer_type="business", business_number="124-81-00998")
    ).customer
    db.session.commit()
    assert fresh(person.id).birth_date == date(1990, 1, 2)
    assert fresh(firm.id).business_number == "1248100998"


# --- shown as not provided -------------------------------------------------------------


def test_profile_and_export_without_birth_date(auth, make_customer, client):
    demo = make_customer(login_id="no_birth", birth_date=None)
    auth.login(demo)
    html = client.get("/account/profile").get_data(as_text=True)
    assert '<dd><span class="muted" id="missing-birth_date">미등록</span>' in html
    assert "-**-**" not in html
    response = post_form(client, "/account/export", {}, page="/account/profile")
    profile = json.loads(response.get_data(as_text=True))["profile"]
    assert "birth_date" in profile and profile["birth_date"] is None
    assert profile["business_number"] is None


def test_profile_and_export_without_business_number(auth, make_customer, client):
    demo = make_customer(
        login_id="no_brn", customer_type="business", birth_date=None, business_number=None
    )
    auth.login(demo)
    html = client.get("/account/profile").get_data(as_text=True)
    assert '<dd><span class="muted" id="missing-business_number">미등록</span>' in html
    response = post_form(client, "/account/export", {}, page="/account/profile")
    profile = json.loads(response.get_data(as_text=True))["profile"]
    assert "business_number" in profile and profile["business_number"] is None


def test_profile_in_english_says_not_provided(auth, make_customer, client):
    demo = make_customer(login_id="no_birth", birth_date=None)
    auth.login(demo)
    client.get("/language/en")
    html = client.get("/account/profile").get_data(as_text=True)
    assert 'id="missing-birth_date">Not provided</span>' in html


# --- correction requests: a missing item can be added, after staff review ---------------


def test_missing_birth_date_can_be_added_through_a_correction_request(
    auth, make_customer, client, db
):
    demo = make_customer(login_id="no_birth", birth_date=None)
    auth.login(demo)
    html = client.get("/account/corrections").get_data(as_text=True)
    assert "생년월일 (미등록)" in html
    response = post_form(
        client,
        "/account/corrections",
        {"field": "birth_date", "value": "1990-01-02", "reason": "등록"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    from portal.customers.models import CorrectionRequest

    req = db.session.scalars(select(CorrectionRequest)).one()
    assert (req.field, req.new_value, req.status) == ("birth_date", "1990-01-02", "open")
    approve_correction(req.id)
    db.session.commit()
    assert fresh(demo.id).birth_date == date(1990, 1, 2)
    assert "1990-**-**" in client.get("/account/profile").get_data(as_text=True)


def test_missing_business_number_request_checks_the_digit(app, db, make_customer):
    demo = make_customer(
        login_id="no_brn", customer_type="business", birth_date=None, business_number=None
    )
    row = db.session.get(Customer, demo.id)
    with pytest.raises(ValidationFailed):
        request_correction(row, field="business_number", value="1248100997", reason="등록")
    db.session.rollback()
    row = db.session.get(Customer, demo.id)
    req = request_correction(row, field="business_number", value="124-81-00998", reason="등록")
    assert req.new_value == "1248100998"
