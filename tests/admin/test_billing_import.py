"""The billing import screen: the CLI's service, all or nothing, an access record per customer."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from portal.audit.models import AccessRecord
from portal.billing.models import Invoice, Payment
from portal.extensions import db
from tests.billing.test_cli_import import HEADER
from tests.conftest import csrf_from


def _upload(client, body: bytes, name: str = "billing.csv"):
    token = csrf_from(client.get("/admin/billing/import").get_data(as_text=True))
    return client.post(
        "/admin/billing/import",
        data={"csrf_token": token, "file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_good_file_imports_and_logs_each_customer(client, staff_auth, make_staff, customer):
    staff_auth.login(make_staff("billing"))
    body = (
        "\ufeff"
        + HEADER
        + f"invoice,INV-10,{customer.login_id},2026-10,2026-11-25,33000,애니트랙,1,,,\n"
        + "payment,INV-10,,,,13000,,,2026-11-20,auto_debit,PAY-10\n"
    ).encode()
    response = _upload(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "청구서 1건 추가" in response.get_data(as_text=True)
    assert _count(Invoice) == 1 and _count(Payment) == 1
    rows = db.session.execute(
        select(AccessRecord.customer_id, AccessRecord.fields).where(
            AccessRecord.action == "billing_import"
        )
    ).all()
    assert rows == [(customer.id, "invoices")]


def test_a_bad_row_imports_nothing_and_names_its_line(client, staff_auth, make_staff, customer):
    staff_auth.login(make_staff("billing"))
    body = (
        HEADER
        + f"invoice,INV-1,{customer.login_id},2026-10,2026-11-25,33000,,1,,,\n"
        + "invoice,INV-2,nobody_here,2026-10,2026-11-25,10000,,,,,\n"
    ).encode()
    response = _upload(client, body)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="import-errors"' in page and "<td>3</td>" in page and "nobody_here" in page
    assert _count(Invoice) == 0
    assert _count(AccessRecord) >= 1  # the sign-in; no billing_import record
    assert not db.session.scalar(
        select(func.count())
        .select_from(AccessRecord)
        .where(AccessRecord.action == "billing_import")
    )


def test_missing_and_non_utf8_files_get_a_message(client, staff_auth, make_staff):
    staff_auth.login(make_staff("admin"))
    token = csrf_from(client.get("/admin/billing/import").get_data(as_text=True))
    missing = client.post("/admin/billing/import", data={"csrf_token": token})
    assert missing.status_code == 400 and "CSV 파일을 골라" in missing.get_data(as_text=True)
    euc_kr = _upload(client, (HEADER + "invoice,가,나\n").encode("euc-kr"))
    assert euc_kr.status_code == 400 and "UTF-8" in euc_kr.get_data(as_text=True)


def test_support_may_not_import_billing(client, staff_auth, make_staff):
    staff_auth.login(make_staff("support"))
    assert client.get("/admin/billing/import").status_code == 403
