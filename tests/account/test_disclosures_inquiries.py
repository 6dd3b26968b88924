"""/account/disclosures and /account/inquiries, with their staff commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.account.disclosures import disclosures_of, record_disclosure
from portal.account.errors import InquiryAlreadyAnswered
from portal.account.inquiries import answer_inquiry, inquiries_of, submit_inquiry
from portal.account.models import Disclosure, Inquiry
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer
from portal.dbtypes import kst_today
from tests.conftest import post_form

# --- disclosures ----------------------------------------------------------------------


def test_disclosures_page_empty(signed_in, client):
    html = client.get("/account/disclosures").get_data(as_text=True)
    assert "제3자에게 제공한 내역이 없습니다" in html


def test_cli_records_and_customer_sees_newest_first(app, db, signed_in, client, runner):
    result = runner.invoke(
        args=[
            "disclosures",
            "record",
            "--login-id",
            "HONG_GILDONG",
            "--recipient",
            "서울중앙지방검찰청",
            "--basis",
            "형사소송법 제199조",
            "--items",
            "name, phone",
            "--date",
            "2025-01-02",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "disclosures",
            "record",
            "--login-id",
            "hong_gildong",
            "--recipient",
            "<b>X카드</b>",
            "--basis",
            "결제 처리",
            "--items",
            "billing,email",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    assert '"disclosure_id"' in result.output
    html = client.get("/account/disclosures").get_data(as_text=True)
    newest, oldest = html.index("&lt;b&gt;X카드&lt;/b&gt;"), html.index("서울중앙지방검찰청")
    assert newest < oldest
    assert "2025-01-02" in html and kst_today().isoformat() in html
    assert "형사소송법 제199조" in html and "성명, 연락처" in html and "결제 정보, 이메일" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--login-id", "nobody"], "no customer"),
        (["--items", "name,shoe_size"], "제공 항목이 올바르지 않습니다"),
        (["--items", ""], "제공 항목이 올바르지 않습니다"),
        (["--date", "2999-01-01"], "제공일"),
        (["--date", "yesterday"], "제공일"),
        (["--recipient", " "], "필수 항목"),
        (["--basis", "x" * 301], "300자 이하"),
    ],
)
def test_cli_record_refuses_bad_input_in_one_line(app, db, customer, runner, args, message):
    base = {
        "--login-id": "hong_gildong",
        "--recipient": "경찰서",
        "--basis": "수사",
        "--items": "name",
    }
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = ["disclosures", "record"]
    for flag, value in base.items():
        argv += [flag, value]
    result = runner.invoke(args=argv)
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert db.session.scalar(select(Disclosure.id)) is None


def test_cli_record_refused_while_item_under_correction(app, db, customer, runner):
    from portal.account.corrections import request_correction

    request_correction(
        db.session.get(Customer, customer.id), field="name", value="홍길순", reason="개명"
    )
    db.session.commit()
    result = runner.invoke(
        args=[
            "disclosures",
            "record",
            "--login-id",
            "hong_gildong",
            "--recipient",
            "경찰서",
            "--basis",
            "수사",
            "--items",
            "name",
        ]
    )
    assert result.exit_code != 0 and "정정 신청이 처리 중인 정보(성명)" in result.output


def test_disclosures_paginated(app, db, signed_in, client):
    customer = db.session.get(Customer, signed_in.id)
    for n in range(25):
        record_disclosure(
            customer,
            recipient=f"기관{n:02d}",
            legal_basis="법",
            items="phone",
            disclosed_on=kst_today() - timedelta(days=n),
        )
    db.session.commit()
    first = disclosures_of(customer.id, page=1, per_page=20)
    assert len(first.items) == 20 and first.has_next
    last = disclosures_of(customer.id, page=2, per_page=20)
    assert len(last.items) == 5 and not last.has_next
    page1 = client.get("/account/disclosures").get_data(as_text=True)
    assert "기관00" in page1 and "기관24" not in page1 and "?page=2" in page1
    page2 = client.get("/account/disclosures?page=2").get_data(as_text=True)
    assert "기관24" in page2 and "기관00" not in page2


# --- inquiries -----------------------------------------------------------------------


def test_submit_list_and_read_answer(app, db, signed_in, client, runner, tmp_path):
    response = post_form(
        client,
        "/account/inquiries",
        {
            "subject": "요금 문의",
            "body": "<script>x</script>\n두 줄",
            "customer_id": "999",
            "answer": "forged",
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert "문의를 접수했습니다" in html and "아직 답변이 등록되지 않았습니다" in html
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    row = db.session.scalars(select(Inquiry)).one()
    assert row.customer_id == signed_in.id and row.answer is None
    assert row.retention_category == "complaint"

    result = runner.invoke(args=["inquiries", "list"])
    assert f"#{row.id} hong_gildong" in result.output
    answer_file = tmp_path / "answer.txt"
    answer_file.write_text("확인 결과 정상 청구입니다.", encoding="utf-8")
    result = runner.invoke(
        args=["inquiries", "answer", str(row.id), "--body-file", str(answer_file)]
    )
    assert result.exit_code == 0, result.output
    html = client.get(location).get_data(as_text=True)
    assert "확인 결과 정상 청구입니다." in html
    assert "답변 완료" in client.get("/account/inquiries").get_data(as_text=True)
    result = runner.invoke(args=["inquiries", "answer", str(row.id), "--body", "again"])
    assert result.exit_code != 0 and "이미 답변한 문의" in result.output


def test_cli_answer_with_text_and_errors(app, db, customer, runner):
    row = submit_inquiry(db.session.get(Customer, customer.id), subject="s", body="b")
    db.session.commit()
    assert runner.invoke(args=["inquiries", "answer", "999", "--body", "x"]).exit_code != 0
    result = runner.invoke(args=["inquiries", "answer", str(row.id), "--body", " "])
    assert result.exit_code != 0 and "필수 항목" in result.output
    result = runner.invoke(args=["inquiries", "answer", str(row.id), "--body", "답변입니다"])
    assert result.exit_code == 0
    with pytest.raises(InquiryAlreadyAnswered):
        answer_inquiry(row.id, body="x")
    assert runner.invoke(args=["inquiries", "list", "--json"]).output.strip() == (
        '{"inquiries": []}'
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subject": "", "body": "b"}, "제목을 입력해 주세요"),
        ({"subject": "s", "body": ""}, "내용을 입력해 주세요"),
        ({"subject": "가" * 201, "body": "b"}, "200자 이하"),
        ({"subject": "s", "body": "가" * 5001}, "5000자 이하"),
        ({"subject": "s", "body": "x" * 30_000}, "입력 형식"),
        ({"subject": "s\x00", "body": "b"}, "입력할 수 없는 문자"),
    ],
)
def test_bad_inquiries_are_refused(signed_in, client, db, data, message):
    response = post_form(client, "/account/inquiries", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Inquiry.id)) is None


def test_someone_elses_inquiry_is_404(app, db, make_customer, auth, client):
    other = make_customer(login_id="other_user", email="o@example.kr")
    row = submit_inquiry(db.session.get(Customer, other.id), subject="비밀", body="남의 문의")
    db.session.commit()
    auth.login(make_customer())
    response = client.get(f"/account/inquiries/{row.id}")
    assert response.status_code == 404
    assert "남의 문의" not in response.get_data(as_text=True)
    assert "비밀" not in client.get("/account/inquiries").get_data(as_text=True)


def test_inquiry_service_rules(app, db, customer):
    row = db.session.get(Customer, customer.id)
    with pytest.raises(ValidationFailed) as info:
        submit_inquiry(row, subject=" ", body=None)
    assert set(info.value.errors) == {"subject", "body"}
    first = submit_inquiry(row, subject="첫째", body="b")
    second = submit_inquiry(row, subject="둘째", body="b")
    db.session.commit()
    assert [q.id for q in inquiries_of(row.id).items] == [second.id, first.id]


def test_inquiry_submits_are_rate_limited(signed_in, client):
    from portal.account.views import SUBMIT_LIMIT

    limit = int(SUBMIT_LIMIT.split()[0])
    statuses = [
        post_form(client, "/account/inquiries", {"subject": f"s{n}", "body": "b"}).status_code
        for n in range(limit + 1)
    ]
    assert statuses[:limit] == [302] * limit
    assert statuses[-1] == 429
