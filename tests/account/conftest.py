"""Fixtures of the account tests (kept here: tests/conftest.py is shared)."""

from __future__ import annotations

import re
import secrets
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from portal.auth.models import UserSession
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.extensions import db as _db

VERSION_RE = re.compile(r'name="version" value="(\d+)"')


def version_from(html: str) -> str:
    match = VERSION_RE.search(html)
    assert match, "no version field on the page"
    return match.group(1)


def fresh(customer_id: int) -> Customer:
    """The customer as stored now (requests commit in their own session)."""
    _db.session.expire_all()
    row = _db.session.get(Customer, customer_id)
    assert row is not None
    return row


def password_session(customer_id: int, *, minutes_ago: float = 0) -> UserSession:
    """A server-side session whose password was typed ``minutes_ago`` (committed), for
    service tests: profile edits need a recent password (PRODUCT.md §2)."""
    row = UserSession(
        token_hash=secrets.token_hex(32),
        customer_id=customer_id,
        authenticated_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    _db.session.add(row)
    _db.session.commit()
    return row


@pytest.fixture
def signed_in(auth, customer):
    """The default (general, individual, card) customer, signed in through the forms."""
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
def overseas(make_customer):
    return make_customer(
        login_id="park_abroad",
        member_type="overseas",
        phone="+1 415 555 2671",
        postal_code=None,
        country="US",
        address="500 Howard St, San Francisco, CA 94105",
    )


@contextmanager
def count_statements(engine):
    """Count the SQL statements sent to ``engine`` inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
