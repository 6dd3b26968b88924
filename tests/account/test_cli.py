"""`flask inquiries answer`: the answer is --body TEXT (literal) or --body-file PATH."""

from __future__ import annotations

import pytest

from portal.account.inquiries import submit_inquiry
from portal.account.models import Inquiry
from portal.customers.models import Customer


@pytest.fixture
def inquiry(db, customer) -> int:
    row = submit_inquiry(db.session.get(Customer, customer.id), subject="요금 문의", body="질문")
    db.session.commit()
    return row.id


def _answer(db, inquiry_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(Inquiry, inquiry_id).answer


def test_body_naming_an_existing_file_is_taken_literally(db, runner, inquiry, tmp_path):
    # Staff may well answer with a path ("/etc/hosts 파일을 확인해 주세요"); it must never
    # turn into that file's content, sent to a customer.
    secret_file = tmp_path / "internal-notes.txt"
    secret_file.write_text("내부 메모: 고객에게 보내면 안 됨", encoding="utf-8")
    result = runner.invoke(args=["inquiries", "answer", str(inquiry), "--body", str(secret_file)])
    assert result.exit_code == 0, result.output
    assert _answer(db, inquiry) == str(secret_file)


def test_body_file_reads_the_answer(db, runner, inquiry, tmp_path):
    answer = tmp_path / "answer.md"
    answer.write_text("확인 결과 정상 청구입니다.\n감사합니다.", encoding="utf-8")
    result = runner.invoke(args=["inquiries", "answer", str(inquiry), "--body-file", str(answer)])
    assert result.exit_code == 0, result.output
    assert _answer(db, inquiry) == "확인 결과 정상 청구입니다.\n감사합니다."


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ([], "exactly one of --body TEXT or --body-file PATH"),
        (["--body", "답변", "--body-file", "answer.md"], "exactly one of --body"),
        (["--body-file", "no-such-file.md"], "cannot read"),
    ],
)
def test_answer_needs_exactly_one_readable_source(db, runner, inquiry, options, reason, tmp_path):
    (tmp_path / "answer.md").write_text("답변", encoding="utf-8")
    options = [str(tmp_path / o) if o.endswith(".md") else o for o in options]
    result = runner.invoke(args=["inquiries", "answer", str(inquiry), *options])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert reason in result.output
    assert _answer(db, inquiry) is None
