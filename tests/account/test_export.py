"""The data download: everything held, secrets never, re-authentication first."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, select, update

from portal.account import export as export_service
from portal.account.corrections import approve_correction, request_correction
from portal.account.disclosures import record_disclosure
from portal.account.inquiries import answer_inquiry, submit_inquiry
from portal.auth.models import UserSession
from portal.customers.models import Customer, ServiceLine
from portal.dbtypes import utcnow
from portal.extensions import db as _db
from portal.withdrawal.models import RightsRequest, WithdrawalRequest
from tests.conftest import post_form

EXPORT = "/account/export"


def _download(client):
    return post_form(client, EXPORT, {}, page="/account/profile")


# --- coverage of every customer table ---------------------------------------------------


def test_every_customer_table_is_exported_or_excluded_with_a_reason(app):
    """Fails when a table holding customer rows is added without being covered by the export."""
    assert export_service.uncovered_tables(_db.metadata) == set()
    known = set(_db.metadata.tables)
    listed = set(export_service.EXPORTED_TABLES) | set(export_service.NOT_EXPORTED)
    assert listed <= known, f"export lists tables that do not exist: {listed - known}"
    assert not set(export_service.EXPORTED_TABLES) & set(export_service.NOT_EXPORTED)
    assert all(reason.strip() for reason in export_service.NOT_EXPORTED.values())


def test_coverage_check_catches_a_new_table(app):
    """The check above can fail: a new direct or indirect child of customers is reported."""
    metadata = MetaData()
    for table in _db.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table(
        "loyalty_points",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("customer_id", ForeignKey("customers.id")),
    )
    Table(
        "point_redemptions",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("points_id", ForeignKey("loyalty_points.id")),
        Column("note", String(10)),
    )
    assert export_service.uncovered_tables(metadata) == {"loyalty_points", "point_redemptions"}


def test_customer_tables_follow_foreign_keys(app):
    tables = export_service.customer_tables(_db.metadata)
    assert {"customers", "service_lines", "card_used_pairs", "correction_notices"} <= tables
    assert "notices" not in tables and "staff" not in tables


# --- content -------------------------------------------------------------------------


def _fill_every_table(db, demo):
    """Give the customer at least one row in every exported table."""
    customer = db.session.get(Customer, demo.id)
    db.session.add(
        ServiceLine(
            customer_id=customer.id,
            service="spot",
            plan="스팟 라이트",
            device_label="가방",
            device_number="SP-1",
            activated_on=utcnow().date(),
        )
    )
    from portal.auth import otp

    otp.enrol_confirmed(customer)
    otp.regenerate_recovery_codes(customer)
    record_disclosure(customer, recipient="서울경찰청", legal_basis="수사", items="name,phone")
    inquiry = submit_inquiry(customer, subject="요금 문의", body="청구서가 안 와요")
    answer_inquiry(inquiry.id, body="다시 보내 드렸습니다")
    req = request_correction(customer, field="name", value="홍길순", reason="개명")
    approve_correction(req.id)
    request_correction(customer, field="birth_date", value="1990-01-02", reason="오기")
    # A cancelled withdrawal request (an open one would not block the download either).
    db.session.add(WithdrawalRequest(customer_id=customer.id, status="cancelled"))
    db.session.add(
        RightsRequest(
            customer_id=customer.id, kind="suspension", detail="마케팅", due_on=utcnow().date()
        )
    )
    db.session.commit()


def test_export_contains_every_exported_table_and_no_secret(app, db, signed_in, client):
    _fill_every_table(db, signed_in)
    response = _download(client)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".json" in disposition
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["schema_version"] == export_service.SCHEMA_VERSION
    assert data["generated_at"].endswith("+00:00")
    for table, key in export_service.EXPORTED_TABLES.items():
        assert data[key], f"{table} ({key}) is empty in the export"
    profile = data["profile"]
    assert profile["login_id"] == "hong_gildong"
    assert profile["name"] == "홍길순"  # the corrected value; the old one is gone
    assert profile["birth_date"] == "1990-01-01"  # under correction: still shown to its owner
    assert data["billing"] == {"payment_method": None, "invoices": [], "payments": []}
    assert data["disclosures"][0]["items"] == "name,phone"
    assert data["inquiries"][0]["answer"] == "다시 보내 드렸습니다"
    assert data["inquiries"][0]["retention_category"] == "complaint"
    assert {r["field"] for r in data["correction_requests"]} == {"name", "birth_date"}
    assert data["correction_notices"][0]["recipient"] == "서울경찰청"
    assert any(e["kind"] == "login_success" for e in data["events"])

    text = response.get_data(as_text=True)
    for secret in (
        "password_hash",
        "token_hash",
        "code_hash",
        "codes_encrypted",
        "secret_encrypted",
        "challenge_first",
        "$2b$",
        "홍길동",
    ):
        assert secret not in text, secret
    # The security card serial is masked as on screen.
    serial = data["security_cards"][0]["serial"]
    assert serial.startswith("*") and not serial[-4:].startswith("*")


def test_export_is_logged_and_only_the_customers_own_data(app, db, make_customer, auth, client):
    other = make_customer(login_id="other_user", email="other@example.kr")
    record_disclosure(
        db.session.get(Customer, other.id), recipient="타인 수신처", legal_basis="x", items="name"
    )
    db.session.commit()
    me = make_customer()
    auth.login(me)
    text = _download(client).get_data(as_text=True)
    assert "other_user" not in text and "타인 수신처" not in text
    from portal.audit.models import SecurityEvent

    assert (
        db.session.scalar(
            select(SecurityEvent.customer_id).where(SecurityEvent.kind == "data_exported")
        )
        == me.id
    )


def test_export_needs_recent_password(app, db, signed_in, client):
    with db.engine.begin() as conn:
        conn.execute(
            update(UserSession.__table__).values(authenticated_at=utcnow() - timedelta(minutes=10))
        )
    response = _download(client)
    assert response.status_code == 302
    assert "/reauth" in response.headers["Location"]
    # Back to the download page, not the profile: the file is one click away (issue 14).
    assert response.headers["Location"].endswith("/reauth?next=/account/export")


def test_after_reauth_the_download_page_offers_the_file(app, db, signed_in, client):
    with db.engine.begin() as conn:
        conn.execute(
            update(UserSession.__table__).values(authenticated_at=utcnow() - timedelta(minutes=10))
        )
    assert _download(client).status_code == 302
    response = post_form(
        client, "/reauth", {"password": signed_in.password, "next": EXPORT}, page="/reauth"
    )
    assert response.status_code == 302 and response.headers["Location"] == EXPORT
    page = client.get(EXPORT).get_data(as_text=True)
    assert 'id="export-button"' in page and 'action="/account/export"' in page
    response = post_form(client, EXPORT, {})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]


def test_export_page_and_download_refuse_anonymous(client):
    response = client.get(EXPORT)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = _download_anonymous(client)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _download_anonymous(client):
    return post_form(client, EXPORT, {}, page="/login")  # a page with a form, signed out


def test_export_without_csrf_is_refused(signed_in, client):
    response = client.post(EXPORT, data={})
    assert response.status_code == 400
