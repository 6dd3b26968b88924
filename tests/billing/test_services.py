"""Billing services: the payment method (encrypted), invoices, payments, status, balance."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet
from sqlalchemy import select

from portal.audit.models import SecurityEvent
from portal.auth.errors import ReauthNeeded
from portal.billing.errors import InvoiceAlreadyPaid, PaymentTooLarge
from portal.billing.invoices import add_invoice, invoice_status, record_payment
from portal.billing.methods import holder_identity, payment_method_of, set_payment_method
from portal.billing.models import Payment, PaymentMethod
from portal.billing.summary import balance_due, billing_export, payment_method_summary
from portal.customers.errors import ValidationFailed
from portal.dbtypes import KST
from portal.security import decrypt, encrypt
from tests.account.conftest import password_session
from tests.billing.conftest import ACCOUNT, ACCOUNT_DIGITS, auto_debit_fields, customer_row

# --- payment method ---------------------------------------------------------------------


def test_auto_debit_is_stored_encrypted_with_last4(app, db, customer, fresh_session):
    row = set_payment_method(
        customer_row(customer), session_row=fresh_session, **auto_debit_fields()
    )
    db.session.commit()
    assert row.account_last4 == "8901"
    assert ACCOUNT_DIGITS.encode() not in row.account_number_encrypted
    assert decrypt(row.account_number_encrypted) == ACCOUNT_DIGITS
    assert holder_identity(row) == "1990-01-01"
    assert b"1990" not in row.holder_birth_date_encrypted
    summary = payment_method_summary(customer_row(customer))
    assert summary.label == "자동이체 · KB국민은행 ***-****-8901"
    event = db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.kind == "payment_method_changed")
    ).one()
    assert event.detail == "auto_debit" and "8901" not in event.detail


def test_same_account_number_encrypts_differently_each_time(app):
    assert encrypt(ACCOUNT_DIGITS) != encrypt(ACCOUNT_DIGITS)  # a fresh IV per value


def test_business_customer_gives_a_business_number(app, db, business):
    session = password_session(business.id)
    row = set_payment_method(
        customer_row(business),
        session_row=session,
        kind="deposit",
        holder_name="아리온물류(주)",
        holder_business_number="124-81-00998",
        phone="02-6309-6800",
        email="pay@arion.example.kr",
    )
    assert holder_identity(row) == "1248100998" and row.account_number_encrypted is None
    with pytest.raises(ValidationFailed) as info:
        set_payment_method(
            customer_row(business),
            session_row=session,
            kind="deposit",
            holder_name="x",
            holder_business_number="124-81-00999",  # bad check digit
            phone="02-6309-6800",
            email="pay@arion.example.kr",
        )
    assert "holder_business_number" in info.value.errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account_number_value", "110-2345-67890a"),  # a letter
        ("account_number_value", "123456789"),  # 9 digits
        ("account_number_value", "12345678901234567"),  # 17 digits
        ("account_number_value", "--1234567890"),
        ("account_number_value", ""),
        ("bank_code_value", "999"),
        ("bank_code_value", ""),
        ("holder_birth_date", "2999-01-01"),  # future
        ("holder_birth_date", "1990-13-01"),
        ("email", "not-an-email"),
        ("phone", "12"),
        ("kind", "bitcoin"),
        ("holder_name", ""),
    ],
)
def test_bad_payment_method_input_is_refused_and_nothing_saved(
    app, db, customer, fresh_session, field, value
):
    target = "account_number" if field == "account_number_value" else field
    target = "bank_code" if field == "bank_code_value" else target
    with pytest.raises(ValidationFailed) as info:
        set_payment_method(
            customer_row(customer), session_row=fresh_session, **auto_debit_fields(**{field: value})
        )
    assert target in info.value.errors
    db.session.rollback()
    assert payment_method_of(customer.id) is None


def test_payment_method_needs_a_recent_password(app, db, customer):
    stale = password_session(customer.id, minutes_ago=6)
    with pytest.raises(ReauthNeeded):
        set_payment_method(customer_row(customer), session_row=stale, **auto_debit_fields())
    with pytest.raises(ReauthNeeded):
        set_payment_method(customer_row(customer), session_row=None, **auto_debit_fields())


# --- encryption keys ---------------------------------------------------------------------


def test_round_trip_with_two_keys_and_after_rotation(app, db, customer, fresh_session, runner):
    old = app.config["PORTAL_DATA_KEYS"][0]
    row = set_payment_method(
        customer_row(customer), session_row=fresh_session, **auto_debit_fields()
    )
    db.session.commit()
    before = bytes(row.account_number_encrypted)
    new = Fernet.generate_key().decode()
    app.config["PORTAL_DATA_KEYS"] = [new, old]  # a new key in front: old values still open
    assert decrypt(before) == ACCOUNT_DIGITS
    assert decrypt(encrypt("x")) == "x"
    with pytest.raises(Exception):  # noqa: B017 - the new key alone does not open old values
        Fernet(new.encode()).decrypt(before)

    dry = runner.invoke(args=["keys", "rotate", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    counts = json.loads(dry.output)["counts"]
    assert counts["payment_methods.account_number_encrypted"] == 1
    assert counts["payment_methods.holder_birth_date_encrypted"] == 1
    assert counts["security_cards.codes_encrypted"] == 1
    db.session.expire_all()
    assert bytes(payment_method_of(customer.id).account_number_encrypted) == before  # unchanged

    done = runner.invoke(args=["keys", "rotate", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["counts"] == counts
    db.session.expire_all()
    after = bytes(payment_method_of(customer.id).account_number_encrypted)
    assert after != before
    assert Fernet(new.encode()).decrypt(after).decode() == ACCOUNT_DIGITS
    app.config["PORTAL_DATA_KEYS"] = [new]  # the old key can now be dropped
    assert holder_identity(payment_method_of(customer.id)) == "1990-01-01"
    again = runner.invoke(args=["keys", "rotate", "--json"])  # a rerun has nothing to do
    assert set(json.loads(again.output)["counts"].values()) == {0}


def test_rotation_covers_every_encrypted_column(app, db):
    from portal.keys.rotation import ENCRYPTED_COLUMNS, column_name

    listed = {column_name(c) for c in ENCRYPTED_COLUMNS}
    found = {
        f"{t.name}.{c.name}"
        for t in db.metadata.sorted_tables
        for c in t.columns
        if c.name.endswith("_encrypted")
    }
    assert found == listed


# --- invoices and payments ----------------------------------------------------------------


def test_partial_payments_status_and_balance(app, db, customer):
    row = customer_row(customer)
    invoice = add_invoice(row, amount="33,000", due="2026-12-25", period="2026-11")
    assert invoice.items[0].amount == 33000
    record_payment(invoice.id, amount=10000, method="deposit")
    assert balance_due(row) == 23000
    with pytest.raises(PaymentTooLarge) as info:
        record_payment(invoice.id, amount=23001)
    assert info.value.due == 23000
    record_payment(invoice.id, amount=23000)
    with pytest.raises(InvoiceAlreadyPaid):
        record_payment(invoice.id, amount=1)
    assert balance_due(row) == 0
    db.session.commit()
    assert all(
        p.retention_category == "payment_record" for p in db.session.scalars(select(Payment))
    )
    assert invoice.retention_category == "e_invoice"


@pytest.mark.parametrize("amount", ["0", "-100", "12.5", "1e3", "abc", "", "99999999999"])
def test_bad_amounts_are_refused(app, db, customer, amount):
    with pytest.raises(ValidationFailed):
        add_invoice(customer_row(customer), amount=amount, due="2026-12-25")
    invoice = add_invoice(customer_row(customer), amount=1000, due="2026-12-25")
    with pytest.raises(ValidationFailed):
        record_payment(invoice.id, amount=amount)


def test_bad_due_date_and_period_are_refused(app, db, customer):
    with pytest.raises(ValidationFailed):
        add_invoice(customer_row(customer), amount=1000, due="2026-02-30")
    with pytest.raises(ValidationFailed):
        add_invoice(customer_row(customer), amount=1000, due="2026-02-01", period="2026-13")


def test_status_is_derived_from_due_date_and_payments(app, db, customer):
    row = customer_row(customer)
    with time_machine.travel(datetime(2026, 12, 1, 12, tzinfo=KST), tick=False):
        invoice = add_invoice(row, amount=20000, due="2026-12-25")
        db.session.commit()
        assert invoice_status(20000, 0, invoice.due_on) == "issued"
    # 25 Dec 23:59 KST is still the due date; 26 Dec 00:00 KST is overdue (KST, not UTC).
    with time_machine.travel(datetime(2026, 12, 25, 23, 59, tzinfo=KST), tick=False):
        assert invoice_status(20000, 0, invoice.due_on) == "issued"
    with time_machine.travel(datetime(2026, 12, 26, 0, 0, tzinfo=KST), tick=False):
        assert invoice_status(20000, 0, invoice.due_on) == "overdue"
        assert invoice_status(20000, 19999, invoice.due_on) == "overdue"
        record_payment(invoice.id, amount=20000)
        export = billing_export(row)
        assert export["invoices"][0]["status"] == "paid"
    assert invoice_status(1, 1, date(2000, 1, 1)) == "paid"
    assert invoice_status(1, 0, date.today() + timedelta(days=400)) == "issued"


def test_export_has_every_billing_table_masked(app, db, customer, fresh_session):
    row = customer_row(customer)
    set_payment_method(row, session_row=fresh_session, **auto_debit_fields())
    invoice = add_invoice(
        row, amount=33000, due="2026-12-25", items=[("애니트랙 베이직", 2, 33000)]
    )
    record_payment(invoice.id, amount=3000)
    db.session.commit()
    data = billing_export(row)
    text = json.dumps(data, ensure_ascii=False)
    assert data["payment_method"]["account_number"] == "***-****-8901"
    assert ACCOUNT_DIGITS not in text and ACCOUNT not in text and "encrypted" not in text
    assert "1990-01-01" not in text
    assert data["invoices"][0]["items"] == [
        {"description": "애니트랙 베이직", "quantity": 2, "amount": 33000}
    ]
    assert data["payments"][0]["amount"] == 3000
    # Every billing table the export declares is really in it.
    from portal.account.export import EXPORTED_TABLES

    billing_tables = {t for t, key in EXPORTED_TABLES.items() if key == "billing"}
    assert billing_tables == {"payment_methods", "invoices", "invoice_items", "payments"}
    assert db.session.scalar(select(PaymentMethod.id)) is not None
