"""An edited phone number is gone from the SQLite file and its -wal once the edit commits
(issue 11: it used to stay readable in the -wal until some later checkpoint)."""

from __future__ import annotations

import pytest

from portal.account.services import update_profile
from portal.customers.models import Customer
from portal.extensions import db as _db
from tests.account.conftest import password_session

OLD = "+821076543210"


def _bytes() -> bytes:
    path = _db.engine.url.database
    blob = b""
    for suffix in ("", "-wal"):
        try:
            with open(path + suffix, "rb") as fh:
                blob += fh.read()
        except FileNotFoundError:
            pass
    return blob


def test_edited_phone_is_gone_from_file_and_wal(app, make_customer, database):
    if database[0] != "sqlite":
        pytest.skip("the -wal file is SQLite's")
    demo = make_customer(login_id="wal_kim", phone="010-7654-3210")
    assert OLD.encode() in _bytes()
    row = password_session(demo.id)
    customer = _db.session.get(Customer, demo.id)
    update_profile(
        customer,
        session_row=row,
        version=customer.version,
        email=customer.email,
        phone="010-1111-2222",
        address=customer.address,
        username=customer.username,
        postal_code=customer.postal_code,
    )
    _db.session.commit()
    assert OLD.encode() not in _bytes()
