"""Fixtures of the billing tests."""

from __future__ import annotations

import pytest

from portal.customers.models import Customer

# The account tests' fixtures serve here too: the same customers, signed in the same way.
from tests.account.conftest import business, fresh, password_session, signed_in  # noqa: F401

ACCOUNT = "110-2345-678901"  # 12 digits; never to be found in plain text anywhere
ACCOUNT_DIGITS = ACCOUNT.replace("-", "")


def customer_row(demo) -> Customer:
    """The customer's row as stored now."""
    return fresh(demo.id)


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
def fresh_session(customer):
    return password_session(customer.id)
