"""Terms of use (이용약관): their own versions through the policy's version machinery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.policy import versions
from portal.policy.errors import TooSoon
from portal.policy.models import Notice, PolicyVersion
from portal.policy.seed import TERMS_SEED_LABEL, terms_seed_markdown
from portal.policy.seed.loader import ensure_terms_seed
from tests.policy.conftest import NOW

TODAY = NOW.date()


@pytest.fixture(autouse=True)
def terms(db):
    ensure_terms_seed()
    db.session.commit()


def announce_terms(db, *, days: int = 7, label: str = "2026-12-terms"):
    body = (
        terms_seed_markdown()
        .replace(
            "## 제11조 (손해배상)",
            "## 제10조의2 (위치정보의 이용 중지)\n\n"
            "회원은 언제든지 위치 조회를 중지할 수 있습니다.\n\n## 제11조 (손해배상)",
        )
        .replace("2개월 이상", "3개월 이상")
    )
    version = versions.announce_revision(
        label=label,
        title="서비스 이용약관",
        body_md=body,
        effective_on=TODAY + timedelta(days=days),
        document="terms",
    )
    db.session.commit()
    return version


def test_terms_page_shows_the_first_version_with_article_anchors(client, frozen):
    response = client.get("/terms")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 lang="ko">서비스 이용약관</h1>' in html
    assert 'id="section-1"' in html and "제1조 (목적)" in html
    assert 'lang="ko"' in html
    assert "이 문서는 한국어로만 제공됩니다" not in html  # Korean mode: no note


def test_terms_history_is_separate_from_the_policy(client, db, frozen):
    # The same label in both histories; each document has its own version in force.
    assert versions.current_version("terms").label == TERMS_SEED_LABEL
    assert versions.current_version().document == "privacy"
    announce_terms(db)
    assert versions.upcoming_version("terms").label == "2026-12-terms"
    assert versions.upcoming_version() is None  # no privacy revision, no policy banner
    html = client.get("/terms/versions").get_data(as_text=True)
    assert "2026-12-terms" in html and TERMS_SEED_LABEL in html
    assert "2026-12-terms" not in client.get("/privacy/versions").get_data(as_text=True)
    assert client.get("/privacy/versions/2026-12-terms").status_code == 404
    page = client.get("/terms/versions/2026-12-terms")
    assert page.status_code == 200 and "시행됩니다" in page.get_data(as_text=True)
    # The announcement is a pinned notice linking to the terms, not to the policy.
    notice = versions.announcement_notice(versions.version_by_label("2026-12-terms", "terms"))
    assert notice.title.startswith("이용약관 개정 안내")
    shown = client.get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "/terms/versions/2026-12-terms" in shown and "/terms/diff?" in shown


def test_terms_follow_the_seven_day_rule(db, frozen):
    with pytest.raises(TooSoon):
        announce_terms(db, days=6)
    db.session.rollback()
    assert (
        db.session.scalar(
            select(func.count(PolicyVersion.id)).where(PolicyVersion.document == "terms")
        )
        == 1
    )


def test_terms_diff_is_a_comparison_table(client, db, frozen):
    announce_terms(db)
    html = client.get("/terms/diff").get_data(as_text=True)
    assert 'data-key="제10조의2"' in html and "신설" in html
    assert '<ins><span class="visually-hidden">[추가] </span>3개월</ins>' in html
    assert "<h1>변경 내용 비교</h1>" in html


def test_cli_announces_terms_and_keeps_the_policy_command(runner, db, frozen, tmp_path):
    body = tmp_path / "terms.md"
    body.write_text(terms_seed_markdown().replace("2개월", "3개월"), encoding="utf-8")
    effective = (TODAY + timedelta(days=7)).isoformat()
    args = ["policy", "announce", "--label", "t2", "--title", "서비스 이용약관",
            "--body", str(body), "--effective", effective, "--json"]  # fmt: skip
    result = runner.invoke(args=[*args, "--document", "terms"])
    assert result.exit_code == 0, result.output
    assert '"document": "terms"' in result.output
    assert versions.version_by_label("t2", "terms") is not None
    assert versions.version_by_label("t2") is None
    # Without --document: the privacy policy, as the contract's command always did.
    result = runner.invoke(args=[*args[:2], "--label", "p2", *args[4:]])
    assert result.exit_code == 0, result.output
    assert versions.version_by_label("p2").document == "privacy"
    assert db.session.scalar(select(func.count(Notice.id))) == 2


def test_english_mode_marks_the_korean_text_and_says_it_prevails(client, frozen):
    client.set_cookie("lang", "en")
    for url in ("/terms", "/privacy"):
        html = client.get(url).get_data(as_text=True)
        assert 'id="korean-only"' in html, url
        assert "Korean text prevails" in html, url
        assert '<article class="policy-body card" lang="ko"' in html, url


def test_unknown_terms_version_is_404(client, frozen):
    assert client.get("/terms/versions/nope").status_code == 404
    assert client.get("/terms/diff?from=nope").status_code == 404
