"""Customer import (``flask customers import`` and its service): every row checked first,
each bad row reported with its line, all or nothing, temporary passwords shown once."""

from __future__ import annotations

import csv
import io
import json
import os
import stat

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.auth import messages as m
from portal.auth.errors import ImportConflict, ImportRefused
from portal.auth.imports import (
    COLUMNS,
    apply_import,
    check_import,
    import_customers,
    row_error,
    temporary_password,
)
from portal.auth.models import SecurityCard
from portal.auth.passwords import password_problems
from portal.customers.models import Customer, LoginId
from portal.dbtypes import utcnow
from tests.conftest import DemoCustomer

HEADER = "login_id,name,email,phone,postal_code,address"


def _row(login_id: str, name: str = "김민준", phone: str = "010-2345-6789", **extra) -> str:
    return f"{login_id},{name},{login_id}@example.kr,{phone},04524,서울특별시 중구 세종대로 110"


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def _write(tmp_path, data: bytes, name: str = "forms.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _customers(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Customer))


def _login_ids(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(LoginId))


def test_good_file_registers_everyone_at_the_first_login_step(app, db, runner, tmp_path, client):
    data = _csv(
        _row("kim_minjun", "김민준"),
        "lee_seoyeon,이서연,lee@example.kr,010-3456-7890,06236,서울 강남구 테헤란로 1,,,,,,,otp",
        header=HEADER + ",member_type,customer_type,birth_date,business_number,country,"
        "username,second_factor",
    )
    # The first row lacks the optional cells' commas: pad it to the header's width.
    text = data.decode().splitlines()
    text[1] += ",,,,,,,"
    path = _write(tmp_path, ("\n".join(text) + "\n").encode())
    out = runner.invoke(args=["customers", "import", path, "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert summary["imported"] == 2 and summary["rows"] == 2 and not summary["dry_run"]
    sheets = {s["login_id"]: s for s in summary["customers"]}
    assert len(sheets["kim_minjun"]["security_card"]["codes"]) == 35
    assert sheets["lee_seoyeon"]["otp_secret"]
    db.session.rollback()
    kim = db.session.scalars(select(Customer).where(Customer.name == "김민준")).one()
    assert kim.must_activate and kim.username == "김민준" and kim.second_factor == "card"
    assert db.session.scalar(select(func.count()).select_from(SecurityCard)) == 1
    # The temporary password works once: straight to the first-login step.
    from tests.conftest import AuthActions

    temp = DemoCustomer(login_id="kim_minjun", password=sheets["kim_minjun"]["temporary_password"])
    response = AuthActions(client).step_one(temp)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login/activate")
    # Secrets are never logged, and stdout held them only because no file was asked for.
    assert sheets["kim_minjun"]["temporary_password"] not in out.stderr


def test_bad_row_in_the_middle_writes_nothing_and_names_its_line(app, db, runner, tmp_path):
    before = _login_ids(db)
    data = _csv(_row("first_ok"), _row("second_bad", phone="010-12"), _row("third_ok"))
    out = runner.invoke(args=["customers", "import", _write(tmp_path, data)])
    assert out.exit_code == 1
    assert "3행: phone: 올바른 전화번호가 아닙니다." in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("Error: 잘못된 행이 1개")
    assert _login_ids(db) == before and _customers(db) == 0


def test_service_is_all_or_nothing(app, db):
    # The service on its own (the back-office screen calls it): a bad row anywhere and not
    # one customer is in the session, not even the rows before it.
    bad = "second_bad,김민준,not-an-email,010-2345-6789,04524,서울"
    data = _csv(_row("first_ok"), bad, _row("third_ok"))
    result = import_customers(data)
    assert not result.ok and result.created == []
    assert result.errors == [(3, "email: 올바른 이메일 주소가 아닙니다.")]
    assert db.session.scalar(select(func.count()).select_from(LoginId)) == 0
    plan = check_import(data)
    assert plan.applications == []
    with pytest.raises(ValueError):
        apply_import(plan)


def test_dry_run_checks_and_writes_nothing(app, db, runner, tmp_path):
    path = _write(tmp_path, _csv(_row("dry_one"), _row("dry_two")))
    out = runner.invoke(args=["customers", "import", path, "--dry-run", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {"dry_run": True, "rows": 2, "imported": 0}
    assert _login_ids(db) == 0
    bad = runner.invoke(
        args=["customers", "import", _write(tmp_path, _csv("x,,,,,"), "b.csv"), "--dry-run"]
    )
    assert bad.exit_code == 1 and "2행: login_id:" in bad.stderr


def test_excel_bom_crlf_and_blank_rows(app, db, runner, tmp_path):
    data = "\ufeff" + HEADER + "\r\n" + _row("bom_user", "최지우") + "\r\n,,,,,\r\n\r\n"
    out = runner.invoke(
        args=["customers", "import", _write(tmp_path, data.encode("utf-8")), "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["imported"] == 1
    db.session.rollback()
    assert db.session.scalars(select(Customer.name)).one() == "최지우"


def test_text_and_stream_sources(app, db):
    text = _csv(_row("text_user")).decode()
    assert check_import(text).ok
    assert check_import(io.StringIO("\ufeff" + text)).ok
    assert check_import(io.BytesIO(text.encode())).ok


def test_duplicates_in_the_file_in_the_database_and_retired(app, db, runner, tmp_path, customer):
    db.session.add(LoginId(login_id="gone_user", retired_at=utcnow()))
    db.session.commit()
    data = _csv(
        _row("new_user"),
        _row("NEW_USER"),  # case-insensitive
        _row(customer.login_id),
        _row("gone_user"),
    )
    out = runner.invoke(args=["customers", "import", _write(tmp_path, data)])
    assert out.exit_code == 1
    lines = out.stderr.strip().splitlines()
    assert lines[:3] == [
        "3행: login_id: 아이디가 2행과 겹칩니다.",
        "4행: login_id: 이미 발급되었거나 사용할 수 없는 아이디입니다.",
        "5행: login_id: 이미 발급되었거나 사용할 수 없는 아이디입니다.",
    ]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("login_id,name,email,phone", ["postal_code", "address"]),
        (HEADER + ",favourite_colour", ["favourite_colour"]),
        (HEADER + ",password", ["비밀번호 열은 받지 않습니다"]),
        (HEADER + ",email", ["같은 열이 두 번", "email"]),
        ("", ["login_id", "name", "email", "phone", "postal_code", "address"]),
    ],
)
def test_header_problems_refused_in_one_line(app, db, runner, tmp_path, header, named):
    out = runner.invoke(
        args=["customers", "import", _write(tmp_path, _csv(_row("hdr_user"), header=header))]
    )
    assert out.exit_code == 1
    assert len(out.output.strip().splitlines()) == 1
    for part in named:
        assert part in out.output
    assert _login_ids(db) == 0


def test_headers_are_matched_loosely_but_cells_strictly(app, db):
    header = " Login-ID ,NAME,email,phone,postal_code,address,,"
    assert check_import(_csv(_row("loose_hdr") + ",,", header=header)).ok
    plan = check_import(_csv(_row("too_many") + ",extra"))
    assert plan.errors == [(2, str(m.IMPORT_CELLS % {"count": 7, "expected": 6}))]
    plan = check_import(_csv("too_few,name"))
    assert plan.errors == [(2, str(m.IMPORT_CELLS % {"count": 2, "expected": 6}))]


def test_empty_file_too_many_rows_and_not_utf8(app, db, runner, tmp_path):
    with pytest.raises(ImportRefused):
        check_import(b"")
    with pytest.raises(ImportRefused):
        check_import(_csv())
    app.config["PORTAL_IMPORT_MAX_ROWS"] = 2
    rows = [_row(f"many_{n:02d}") for n in range(3)]
    out = runner.invoke(args=["customers", "import", _write(tmp_path, _csv(*rows))])
    assert out.exit_code == 1
    assert "4행: 한 번에 2행까지" in out.output
    cp949 = (HEADER + "\n" + _row("cp_user")).encode("cp949")
    out = runner.invoke(args=["customers", "import", _write(tmp_path, cp949, "k.csv")])
    assert out.exit_code == 1 and "2행: UTF-8 텍스트가 아닙니다" in out.output
    unclosed = _csv('"unclosed,x,y,z,w,v')
    out = runner.invoke(args=["customers", "import", _write(tmp_path, unclosed, "q.csv")])
    assert out.exit_code == 1 and "CSV 형식" in out.output
    assert _login_ids(db) == 0


def test_korean_names_and_multi_line_cells(app, db):
    data = _csv(
        _row("namgung", "남궁민수"),
        'multi_line,독고영재,multi_line@example.kr,010-1111-2222,04524,"서울\n중구"',
        _row("after_it", "선우", phone="12"),
    )
    result = import_customers(data)
    # A quoted cell over two lines: the next row is reported by the line it starts on.
    assert [line for line, _ in result.errors] == [5]
    result = import_customers(_csv(_row("namgung", "남궁민수"), _row("hwangbo", "황보 관")))
    assert result.ok and [c.login_id for c in result.created] == ["namgung", "hwangbo"]
    assert sorted(db.session.scalars(select(Customer.name))) == ["남궁민수", "황보 관"]


def test_secrets_file_is_private_and_never_overwritten(app, db, runner, tmp_path):
    sheet = tmp_path / "sheet.json"
    path = _write(tmp_path, _csv(_row("sheet_one"), _row("sheet_two")))
    out = runner.invoke(args=["customers", "import", path, "--secrets-out", str(sheet)])
    assert out.exit_code == 0, out.output
    assert stat.S_IMODE(os.stat(sheet).st_mode) == 0o600
    written = json.loads(sheet.read_text(encoding="utf-8"))["customers"]
    assert [c["login_id"] for c in written] == ["sheet_one", "sheet_two"]
    for c in written:
        assert c["temporary_password"] not in out.output
        assert c["security_card"]["serial"] not in out.output
    other = _write(tmp_path, _csv(_row("x_again")), "b.csv")
    again = runner.invoke(args=["customers", "import", other, "--secrets-out", str(sheet)])
    assert again.exit_code == 1 and "exists" in again.output
    assert json.loads(sheet.read_text(encoding="utf-8"))["customers"] == written


def test_secrets_file_removed_when_the_import_fails(app, db, runner, tmp_path, monkeypatch):
    import portal.admin.customer_import as cli_module

    def conflict(plan, progress=None):
        raise ImportConflict(2, "raced_user")

    monkeypatch.setattr(cli_module, "apply_import", conflict)
    sheet = tmp_path / "sheet.json"
    path = _write(tmp_path, _csv(_row("raced_user")))
    out = runner.invoke(args=["customers", "import", path, "--secrets-out", str(sheet)])
    assert out.exit_code == 1 and "2행: 가져오는 동안 다른 등록과 겹쳤습니다" in out.output
    assert not sheet.exists() and _login_ids(db) == 0


def test_login_id_taken_between_check_and_write(app, db, make_customer):
    plan = check_import(_csv(_row("fresh_one"), _row("raced_user")))
    assert plan.ok
    make_customer(login_id="raced_user")  # another staff member, a moment later
    with pytest.raises(ImportConflict) as caught:
        apply_import(plan)
    assert caught.value.line == 3
    db.session.rollback()
    assert db.session.scalars(select(LoginId.login_id)).all() == ["raced_user"]


def test_progress_bar_for_many_rows(app, db, runner, tmp_path):
    rows = [_row(f"bulk_{n:03d}") for n in range(100)]
    path = _write(tmp_path, _csv(*rows))
    out = runner.invoke(args=["customers", "import", path, "--json"])
    assert out.exit_code == 0, out.output
    assert "importing" in out.stderr
    assert json.loads(out.stdout)["imported"] == 100
    assert _customers(db) == 100


def test_temporary_passwords_pass_the_rules_and_differ(app):
    made = {temporary_password(login_id="abcd") for _ in range(50)}
    assert len(made) == 50
    assert all(password_problems(p, login_id="abcd") == [] for p in made)


def test_messages_in_english(app):
    with force_locale("en"):
        assert row_error(3, "phone: x") == "line 3: phone: x"
        with pytest.raises(ImportRefused) as caught:
            check_import(_csv(header="login_id"))
        assert "name" in m.import_refusal(caught.value)
        assert not any("\uac00" <= ch <= "\ud7a3" for ch in m.import_refusal(caught.value))


# --- fuzz: whatever the cells hold, a per-row reason or a whole-file refusal, never a crash

FUZZ = settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
cell = st.text(max_size=40) | st.sampled_from(
    ["", " ", "０１０-１２３４-５６７８", "+82 10 1234 5678", "1990-02-30", "\x00", "a" * 400]
)


@FUZZ
@given(rows=st.lists(st.lists(cell, min_size=0, max_size=len(COLUMNS) + 2), max_size=6))
def test_fuzzed_cells_never_crash(app, db, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    try:
        result = import_customers(buffer.getvalue(), dry_run=True)
    except ImportRefused as exc:
        assert m.import_refusal(exc)
        return
    assert result.created == []
    for line, reason in result.errors:
        assert line >= 2 and reason.strip()


@FUZZ
@given(body=st.binary(max_size=300))
def test_fuzzed_bytes_never_crash(app, db, runner, tmp_path_factory, body):
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    path.write_bytes(_csv() + body)
    out = runner.invoke(args=["customers", "import", str(path), "--dry-run"])
    assert out.exception is None or isinstance(out.exception, SystemExit), out.output
    assert "Traceback" not in out.output
    if out.exit_code:
        assert out.output.strip().splitlines()[-1].startswith("Error: ")
