"""Fixtures of the billing tests."""

from __future__ import annotations

import pytest

from portal.customers.models import Customer
from portal.extensions import db as _db
from tests.account.conftest import password_session

ACCOUNT = "110-2345-678901"  # 12 digits; never to be found in plain text anywhere
ACCOUNT_DIGITS = ACCOUNT.replace("-", "")


def customer_row(demo) -> Customer:
    _db.session.expire_all()
    return _db.session.get(Customer, demo.id)


def auto_debit_fields(**overrides) -> dict:
    fields = {
        "kind": "auto_debit",
        "holder_name": "홍길동",
        "holder_birth_date": "1990-01-01",
        "bank_code_value": "004",
        "account_number_value": ACCOUNT,
        "phone": "010-1234-5678",
        "email": "pay@example.kr",
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def signed_in(auth, customer):
    auth.login(customer)
    return customer


@pytest.fixture
def business(make_customer):
    return make_customer(
        login_id="arion_biz",
        name="아리온물류(주)",
        customer_type="business",
        birth_date=None,
        business_number="1248100998",
    )


@pytest.fixture
def fresh_session(customer):
    return password_session(customer.id)
