"""Withdrawal (PRODUCT.md §6): each outcome through the real form, destruction for real, the
retention store, the staff queue and the retired login ID."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from portal.account.export import customer_tables
from portal.auth.registration import register_customer
from portal.billing.invoices import add_invoice, record_payment
from portal.billing.methods import save_payment_method
from portal.customers.errors import LoginIdTaken
from portal.customers.models import Customer, LoginId
from portal.customers.services import NewCustomer
from portal.dbtypes import KST
from portal.extensions import db as _db
from portal.retention.models import RetainedRecord
from portal.retention.store import payload_of, subject_key
from portal.withdrawal import messages as wm
from portal.withdrawal.models import WithdrawalRequest
from portal.withdrawal.services import (
    DESTROYED_TABLES,
    RETAINED_TABLES,
    complete_withdrawal,
)
from tests.conftest import post_form

NAME = "김파기"
EMAIL = "destroy.me@example.kr"
PHONE_DISPLAY = "010-9876-5432"
PHONE_FORMS = ("+821098765432", "01098765432", PHONE_DISPLAY, "1098765432")
ACCOUNT = "110234567890"


@pytest.fixture
def victim(make_customer):
    return make_customer(login_id="pagi_kim", name=NAME, email=EMAIL, phone=PHONE_DISPLAY)


@pytest.fixture
def signed_in(auth, victim):
    auth.login(victim)
    return victim


def _row(customer_id: int) -> Customer | None:
    _db.session.expire_all()
    return _db.session.get(Customer, customer_id)


def _withdraw(client, *, password, confirm="y"):
    return post_form(
        client,
        "/account/withdraw",
        {"password": password, "confirm": confirm},
    )


def test_every_customer_table_is_retained_or_destroyed_with_a_reason(app):
    tables = customer_tables(_db.metadata)
    assert tables == set(RETAINED_TABLES) | set(DESTROYED_TABLES)


def test_page_explains_periods_from_the_same_data(signed_in, client):
    html = client.get("/account/withdraw").get_data(as_text=True)
    assert "본인확인에 관한 기록" in html and "6개월" in html
    assert "국세청 고시 제2016-3호" in html and "3년" in html
    assert 'href="/account/withdraw"' in client.get("/account").get_data(as_text=True)


def test_unpaid_balance_is_refused_with_the_amount(signed_in, client):
    add_invoice(_row(signed_in.id), amount=33000, due=date.today() + timedelta(days=10))
    _db.session.commit()
    response = _withdraw(client, password=signed_in.password)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "33,000" in html and 'href="/billing"' in html and "02-2679-8705" in html
    assert _row(signed_in.id) is not None
    assert _db.session.scalar(select(func.count()).select_from(WithdrawalRequest)) == 0


def test_history_records_a_request_that_can_be_cancelled(signed_in, client, auth):
    invoice = add_invoice(_row(signed_in.id), amount=11000, due=date.today())
    record_payment(invoice.id, amount=11000)
    _db.session.commit()
    response = _withdraw(client, password=signed_in.password)
    assert response.status_code == 302
    html = client.get("/account/withdraw").get_data(as_text=True)
    assert "탈퇴 신청이 접수되었습니다" in html
    created = _db.session.scalar(select(WithdrawalRequest)).created_at
    assert created.astimezone(KST).date().isoformat() in html
    assert _row(signed_in.id) is not None
    # A second submit: a clear answer, no second request.
    again = _withdraw(client, password=signed_in.password)
    assert again.status_code == 409
    assert str(wm.ALREADY_OPEN) in again.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(WithdrawalRequest)) == 1
    # The customer can still sign in meanwhile.
    auth.logout()
    auth.login(signed_in)
    response = post_form(client, "/account/withdraw/cancel", {}, page="/account/withdraw")
    assert response.status_code == 302
    _db.session.expire_all()
    row = _db.session.scalar(select(WithdrawalRequest))
    assert row.status == "cancelled" and row.open_customer_id is None
    # Cancelling twice: a message, not an error.
    response = post_form(client, "/account/withdraw/cancel", {}, page="/account/withdraw")
    assert response.status_code == 302


def test_no_history_completes_at_once(signed_in, client, auth, make_customer):
    other = make_customer(login_id="other_one")
    response = _withdraw(client, password=signed_in.password)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/withdraw/done")
    assert "탈퇴가 완료되었습니다" in client.get("/account/withdraw/done").get_data(as_text=True)
    assert client.get("/account").status_code == 302  # signed out
    assert _row(signed_in.id) is None
    register = _db.session.scalar(select(LoginId).where(LoginId.login_id == "pagi_kim"))
    assert register.retired_at is not None
    # No row of any customer table is left for the customer; the other customer is intact.
    for name in customer_tables(_db.metadata):
        table = _db.metadata.tables[name]
        if "customer_id" in table.c:
            left = _db.session.scalar(
                select(func.count()).select_from(table).where(table.c.customer_id == signed_in.id)
            )
            assert left == 0, name
    assert _row(other.id) is not None
    # Cannot sign in again.
    assert auth.step_one(signed_in).status_code != 302


def test_wrong_password_or_missing_confirmation_destroys_nothing(signed_in, client):
    response = _withdraw(client, password="wrong-password-1!")
    assert response.status_code == 200 and "flash-error" in response.get_data(as_text=True)
    response = _withdraw(client, password=signed_in.password, confirm="")
    assert response.status_code == 400
    assert str(wm.CONFIRMATION_MISSING) in response.get_data(as_text=True)
    assert _row(signed_in.id) is not None


def _fill(customer_id: int) -> None:
    customer = _db.session.get(Customer, customer_id)
    save_payment_method(
        customer,
        kind="auto_debit",
        holder_name=NAME,
        holder_birth_date="1990-01-01",
        bank_code_value="004",
        account_number_value=ACCOUNT,
        phone=PHONE_DISPLAY,
        email=EMAIL,
    )
    _db.session.commit()


def _sqlite_bytes() -> bytes:
    path = _db.engine.url.database
    blob = b""
    for suffix in ("", "-wal"):
        try:
            with open(path + suffix, "rb") as fh:
                blob += fh.read()
        except FileNotFoundError:
            pass
    return blob


def _pg_text() -> str:
    dump = []
    for table in _db.metadata.sorted_tables:
        dump.extend(_db.session.execute(text(f'SELECT t::text FROM "{table.name}" t')).scalars())
    _db.session.rollback()
    return "\n".join(dump)


def test_destroyed_bytes_are_gone_from_the_database(app, victim, database):
    _fill(victim.id)
    kind, _where = database
    # Stored forms before: the name, email and E.164 phone are there (the account number
    # never is in the clear, encrypted from the start).
    before = _sqlite_bytes().decode("utf-8", "replace") if kind == "sqlite" else _pg_text()
    assert NAME in before and EMAIL in before and "+821098765432" in before
    complete_withdrawal(_db.session.get(Customer, victim.id), actor="test")
    _db.session.commit()
    needles = [NAME, EMAIL, *PHONE_FORMS, ACCOUNT]
    if kind == "sqlite":
        blob = _sqlite_bytes()
        for needle in needles:
            assert needle.encode("utf-8") not in blob, needle
    else:
        joined = _pg_text()
        for needle in needles:
            assert needle not in joined, needle


def test_retained_records_decrypt_with_their_purge_dates(app, victim, auth, client):
    import time_machine

    with time_machine.travel("2026-03-10 12:00:00+09:00", tick=False):
        auth.login(victim)  # a sign-in event (identity verification record)
        customer = _db.session.get(Customer, victim.id)
        invoice = add_invoice(customer, amount=22000, due=date(2026, 3, 20))
        record_payment(invoice.id, amount=22000, paid_on=date(2026, 3, 9))
        _db.session.commit()
        customer = _row(victim.id)
        register_id = customer.login_id_id
        complete_withdrawal(customer, actor="staff-kim")
        _db.session.commit()
    rows = list(_db.session.scalars(select(RetainedRecord).order_by(RetainedRecord.id)))
    by_category = {}
    for row in rows:
        by_category.setdefault(row.category, []).append(row)
        assert row.subject_key == subject_key(register_id)
        assert "pagi_kim" not in row.subject_key and NAME not in row.subject_key
    contract = by_category["contract"][0]
    assert contract.purge_after == date(2031, 3, 10)
    assert contract.legal_basis == "전자상거래법"
    payload = payload_of(contract)
    assert payload["name"] == NAME and payload["completed_by"] == "staff-kim"
    assert by_category["payment_record"][0].purge_after == date(2031, 3, 9)
    assert payload_of(by_category["payment_record"][0])["amount"] == 22000
    invoice_row = by_category["e_invoice"][0]
    assert invoice_row.purge_after == date(2031, 3, 10)
    assert payload_of(invoice_row)["items"]
    events = by_category["identity_verification"]
    assert events and all(e.purge_after == date(2026, 9, 10) for e in events)
    assert all(e.legal_basis == "정보통신망법" for e in events)


def test_retired_login_id_is_never_issued_again(app, victim):
    complete_withdrawal(_db.session.get(Customer, victim.id), actor="test")
    _db.session.commit()
    fields = {
        "login_id": "PAGI_KIM",
        "name": "새사람",
        "email": "new@example.kr",
        "phone": "010-1111-2222",
        "member_type": "general",
        "customer_type": "individual",
        "birth_date": "1991-01-01",
        "postal_code": "04524",
        "address": "서울",
        "username": "",
        "password": "Trk-Portal-7731!",
        "second_factor": "card",
        "activated": True,
    }
    with pytest.raises(LoginIdTaken):
        register_customer(NewCustomer(**fields))


def test_customers_create_refuses_a_retired_login_id(app, victim, runner):
    complete_withdrawal(_db.session.get(Customer, victim.id), actor="test")
    _db.session.commit()
    result = runner.invoke(
        args=[
            "customers",
            "create",
            "--login-id",
            "Pagi_Kim",
            "--name",
            "새사람",
            "--email",
            "new@example.kr",
            "--phone",
            "010-1111-2222",
            "--birth-date",
            "1991-01-01",
            "--postal-code",
            "04524",
            "--address",
            "서울",
            "--password",
            "Trk-Portal-7731!",
        ]
    )
    assert result.exit_code != 0, result.output
    assert _db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_logs_never_name_the_customer(signed_in, client, caplog):
    caplog.set_level("DEBUG")
    response = _withdraw(client, password=signed_in.password)
    assert response.headers["Location"].endswith("/account/withdraw/done")
    for needle in (NAME, EMAIL, *PHONE_FORMS):
        assert needle not in caplog.text


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(confirm=st.text(max_size=20).filter(lambda s: s.strip().lower() != "y"))
def test_anything_but_y_destroys_nothing(signed_in, client, confirm):
    response = _withdraw(client, password=signed_in.password, confirm=confirm)
    assert response.status_code == 400
    assert _row(signed_in.id) is not None


def test_through_the_page_the_bytes_are_gone_too(signed_in, client, database):
    _fill(signed_in.id)
    response = _withdraw(client, password=signed_in.password)
    assert response.headers["Location"].endswith("/account/withdraw/done")
    if database[0] == "sqlite":
        blob = _sqlite_bytes()
        for needle in (NAME, EMAIL, *PHONE_FORMS, ACCOUNT):
            assert needle.encode("utf-8") not in blob, needle
    else:
        joined = _pg_text()
        for needle in (NAME, EMAIL, *PHONE_FORMS, ACCOUNT):
            assert needle not in joined, needle
