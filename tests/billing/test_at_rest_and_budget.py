"""No plain account number in the database (file, WAL, every table); /billing's budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from portal.billing.invoices import add_invoice, record_payment
from tests.account.conftest import count_statements
from tests.billing.conftest import ACCOUNT, ACCOUNT_DIGITS, customer_row
from tests.conftest import post_form

BUDGET = 4


def _needles() -> list[bytes]:
    return [
        ACCOUNT_DIGITS.encode(),
        ACCOUNT.encode(),
        ACCOUNT_DIGITS.encode("utf-16-le"),
    ]


def test_no_plain_account_number_in_the_database(app, db, signed_in, client):
    response = post_form(
        client,
        "/billing/payment-method",
        {
            "kind": "auto_debit",
            "holder_name": "홍길동",
            "holder_birth_date": "1990-01-01",
            "bank_code": "004",
            "account_number": ACCOUNT,
            "phone": "010-1234-5678",
            "email": "pay@example.kr",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    # Every column of every table, read back through SQL (SQLite and PostgreSQL).
    dump = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            dump.append(repr(tuple(row)))
    text = "\n".join(dump)
    assert "8901" in text  # the last 4 digits are there (the check can see values)
    assert ACCOUNT_DIGITS not in text and ACCOUNT not in text
    if db.engine.dialect.name == "sqlite":
        db.session.remove()
        path = Path(db.engine.url.database)
        files = [path, Path(f"{path}-wal")]
        assert files[0].exists()
        raw = b"".join(f.read_bytes() for f in files if f.exists())
        assert b"pay@example.kr" in raw  # the file is readable: the check can see values
        for needle in _needles():
            assert needle not in raw, needle


def _statements(db, client, url: str) -> list[str]:
    client.get(url)
    with count_statements(db.engine) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return statements


@pytest.mark.parametrize("url", ["/billing", "/account", "/account/profile"])
def test_statement_budget_with_1_and_50_invoices(app, db, signed_in, client, url):
    row = customer_row(signed_in)
    first = add_invoice(row, amount=33000, due="2026-01-25")
    record_payment(first.id, amount=1000, paid_on=first.issued_on)
    db.session.commit()
    few = _statements(db, client, url)
    for i in range(49):
        invoice = add_invoice(row, amount=1000 + i, due=f"2025-{i % 12 + 1:02d}-10")
        if i % 3 == 0:
            record_payment(invoice.id, amount=500, paid_on=invoice.issued_on)
    db.session.commit()
    many = _statements(db, client, url)
    assert len(few) <= BUDGET, few
    assert len(many) == len(few), many
