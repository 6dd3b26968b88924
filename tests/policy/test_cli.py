"""flask policy announce / flask notices post (REFERENCE.md command line)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.policy.models import Notice, PolicyVersion
from portal.policy.seed import seed_markdown
from tests.policy.conftest import NOW

TODAY = NOW.date()


@pytest.fixture
def body_file(tmp_path):
    path = tmp_path / "policy.md"
    path.write_text(seed_markdown().replace("6개월", "1년"), encoding="utf-8")
    return str(path)


def announce_args(body_file: str, days: int, *extra: str) -> list[str]:
    effective = (TODAY + timedelta(days=days)).isoformat()
    return [
        "policy", "announce", "--label", "2026-12-rev", "--title", "개인정보 처리방침",
        "--body", body_file, "--effective", effective, *extra,
    ]  # fmt: skip


def counts(db) -> tuple[int, int]:
    versions = db.session.scalar(select(func.count(PolicyVersion.id)))
    notices = db.session.scalar(select(func.count(Notice.id)))
    return versions, notices


def test_announce_schedules_a_revision_and_its_notice(runner, db, frozen, body_file):
    result = runner.invoke(args=announce_args(body_file, 7, "--json"))
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["label"] == "2026-12-rev" and out["effective_on"] == "2026-12-08"
    db.session.expire_all()
    notice = db.session.get(Notice, out["notice_id"])
    assert notice.pinned_until.isoformat() == "2026-12-08"
    assert counts(db) == (2, 1)


@pytest.mark.parametrize(
    ("days", "extra", "expected"),
    [
        (6, [], "최소 7일"),
        (29, ["--material"], "최소 30일"),
        (10, ["--announce", (TODAY - timedelta(days=1)).isoformat()], "공고일"),
    ],
)
def test_announce_refuses_with_one_line(runner, db, frozen, body_file, days, extra, expected):
    result = runner.invoke(args=announce_args(body_file, days, *extra))
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.output
    assert "Traceback" not in result.output
    assert counts(db) == (1, 0)


def test_announce_material_at_thirty_days(runner, db, frozen, body_file):
    result = runner.invoke(args=announce_args(body_file, 30, "--material"))
    assert result.exit_code == 0, result.output
    assert "announced: 2026-12-rev" in result.output


def test_announce_bad_date_and_missing_file(runner, db, frozen, body_file, tmp_path):
    args = announce_args(body_file, 7)
    args[args.index("--effective") + 1] = "2026-13-45"
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
    result = runner.invoke(args=announce_args(str(tmp_path / "missing.md"), 7))
    assert result.exit_code != 0 and "cannot read" in result.output


def test_announce_same_label_twice(runner, db, frozen, body_file):
    assert runner.invoke(args=announce_args(body_file, 7)).exit_code == 0
    result = runner.invoke(args=announce_args(body_file, 14))
    assert result.exit_code != 0 and "2026-12-rev" in result.output
    assert counts(db) == (2, 1)


def test_notices_post(runner, db, frozen, tmp_path, client):
    body = tmp_path / "notice.md"
    body.write_text("**12월 5일** 02:00~04:00 점검합니다.", encoding="utf-8")
    args = ["notices", "post", "--title", "정기 점검 안내", "--body", str(body)]
    result = runner.invoke(args=[*args, "--pinned", "--popup", "--json"])
    assert result.exit_code == 0, result.output
    notice_id = json.loads(result.output)["notice_id"]
    db.session.expire_all()
    notice = db.session.get(Notice, notice_id)
    assert notice.popup and notice.pinned_until is not None
    html = client.get(f"/notices/{notice_id}").get_data(as_text=True)
    assert "<strong>12월 5일</strong>" in html
    assert "정기 점검 안내" in client.get("/").get_data(as_text=True)


def test_notices_post_refuses_an_empty_body(runner, db, frozen, tmp_path):
    body = tmp_path / "empty.md"
    body.write_text("  \n", encoding="utf-8")
    result = runner.invoke(args=["notices", "post", "--title", "빈 공지", "--body", str(body)])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert counts(db) == (1, 0)
