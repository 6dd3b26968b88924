"""The customer import screen: the CLI's service, all or nothing, secrets shown once."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from portal.audit.models import AccessRecord
from portal.customers.models import Customer
from portal.extensions import db
from tests.auth.test_imports import _csv, _row
from tests.conftest import csrf_from

URL = "/admin/customers/import"


def _upload(client, body: bytes, **extra):
    token = csrf_from(client.get(URL).get_data(as_text=True))
    data = {"csrf_token": token, "file": (io.BytesIO(body), "forms.csv"), **extra}
    return client.post(URL, data=data, content_type="multipart/form-data")


def _customers() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Customer))


def test_a_good_file_registers_everyone_and_shows_the_sheet_once(client, staff_auth, make_staff):
    staff_auth.login(make_staff("support"))
    response = _upload(client, _csv(_row("kim_minjun"), _row("lee_jiwoo", phone="010-3456-7890")))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert 'id="import-sheet"' in page and "kim_minjun" in page and "lee_jiwoo" in page
    assert page.count('class="card-grid"') == 2
    assert _customers() == 2
    registered = db.session.scalars(select(Customer).order_by(Customer.id)).all()
    assert all(c.must_activate for c in registered)
    rows = db.session.execute(
        select(AccessRecord.customer_id, AccessRecord.fields).where(
            AccessRecord.action == "register"
        )
    ).all()
    assert sorted(r.customer_id for r in rows) == [c.id for c in registered]
    # Names and values never reach the log.
    assert all("김민준" not in r.fields and "@" not in r.fields for r in rows)
    # The sheet is not there a second time.
    assert "import-sheet" not in client.get(URL).get_data(as_text=True)


def test_a_bad_row_in_the_middle_registers_nobody(client, staff_auth, make_staff):
    staff_auth.login(make_staff("admin"))
    body = _csv(_row("kim_minjun"), _row("x"), _row("lee_jiwoo", phone="010-3456-7890"))
    response = _upload(client, body)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="import-errors"' in page and "<td>3</td>" in page
    assert _customers() == 0


def test_dry_run_checks_and_writes_nothing(client, staff_auth, make_staff):
    staff_auth.login(make_staff("support"))
    response = _upload(client, _csv(_row("kim_minjun")), dry_run="1")
    assert response.status_code == 200
    assert 'id="import-checked"' in response.get_data(as_text=True)
    assert _customers() == 0


def test_a_refused_file_and_a_missing_one_say_why(client, staff_auth, make_staff):
    staff_auth.login(make_staff("support"))
    refused = _upload(client, b"login_id,name,password\nkim,\xea\xb9\x80,pw\n")
    assert refused.status_code == 400 and 'id="import-problem"' in refused.get_data(as_text=True)
    token = csrf_from(client.get(URL).get_data(as_text=True))
    missing = client.post(URL, data={"csrf_token": token})
    assert missing.status_code == 400


def test_the_screen_caps_the_rows(client, app, staff_auth, make_staff):
    app.config["PORTAL_IMPORT_SCREEN_MAX_ROWS"] = 2
    staff_auth.login(make_staff("support"))
    rows = [_row(f"user_{n:03d}", phone=f"010-2345-{n:04d}") for n in range(3)]
    response = _upload(client, _csv(*rows))
    assert response.status_code == 400
    assert _customers() == 0


def test_billing_staff_may_not_import_customers(client, staff_auth, make_staff):
    staff_auth.login(make_staff("billing"))
    assert client.get(URL).status_code == 403
