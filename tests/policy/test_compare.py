"""The 신구조문 대비표 (portal/policy/compare.py) and the comparison page built on it."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.policy import versions
from portal.policy.compare import article_key, articles_of, compare_texts
from portal.policy.seed import SEED_LABEL, seed_markdown
from tests.policy.conftest import NOW

TODAY = NOW.date()

# A two-version fixture: §5 removed, §6 renamed, §10 changed (7 → 30 days), §11 added, and
# the Markdown escapes and emphasis that the line diff shows raw.
OLD = seed_markdown()


def _revised() -> str:
    text = OLD.replace("개정 최소 7일전부터", "개정 최소 30일전부터")
    text = text.replace(
        "## 6. 수집한 개인정보 처리위탁업무 내용 및 수탁자", "## 6. 개인정보 처리의 위탁"
    )
    text = text.replace("\\<일반/해외거주자 회원가입\\>", "\\<일반 회원가입\\>")
    text = text.replace(text[text.index("## 5. ") : text.index("## 6. ")], "")
    return text + "\n## 11. 위치정보의 보호\n\n회사는 **위치정보**를 `암호화`하여 보관합니다.\n"


NEW = _revised()


def rows_by_key(comparison):
    return {row.key: row for row in comparison.rows}


def test_articles_are_cut_at_headings_and_keyed_by_number():
    articles = articles_of(OLD)
    assert [a.key for a in articles] == ["", *[f"{n}." for n in range(1, 11)]]
    assert articles[10].heading == "10. 고지의 의무"
    assert article_key("제3조의2 (정의)") == "제3조의2"
    assert article_key("제 12 조(목적)") == "제12조"
    assert article_key("부칙") == "부칙"


def test_added_removed_and_changed_articles_are_matched_by_heading():
    comparison = compare_texts(OLD, NEW)
    rows = rows_by_key(comparison)
    assert rows["5."].kind == "removed" and rows["5."].new == ()
    assert rows["11."].kind == "added" and rows["11."].old == ()
    assert rows["10."].kind == "changed"
    # Changed words only: "7일전부터" out, "30일전부터" in, the rest of the sentence same.
    old_parts = [p for para in rows["10."].old for p in para.parts if p[0] != "same"]
    new_parts = [p for para in rows["10."].new for p in para.parts if p[0] != "same"]
    assert old_parts == [("removed", "7일전부터")]
    assert new_parts == [("added", "30일전부터")]
    # A renamed article is the same article (matched by its number), its heading marked.
    assert rows["6."].kind == "changed"
    assert ("added", "처리의") in rows["6."].new_heading
    # Unchanged paragraphs of a changed article read "(현행과 같음)" on the new side.
    assert any(p.kind == "as_current" for p in rows["10."].new)
    # Articles both versions share are not rows, only listed.
    assert "2. 개인정보의 수집 및 이용목적" in comparison.unchanged
    assert "2." not in rows and "9." not in rows


def test_markdown_markers_never_reach_the_table():
    comparison = compare_texts(OLD, NEW)
    texts = [
        "".join(text for _, text in para.parts)
        for row in comparison.rows
        for para in (*row.old, *row.new)
    ]
    joined = "\n".join(texts)
    assert "<일반 회원가입>" in joined and "위치정보를 암호화하여" in joined
    for marker in ("##", "**", "\\<", "`", "| ---"):
        assert marker not in joined, marker


def test_identical_texts_have_no_rows():
    comparison = compare_texts(OLD, OLD)
    assert comparison.identical and len(comparison.unchanged) == 11


def announce(db, body: str, *, document: str = "privacy", label: str = "2026-12-rev"):
    version = versions.announce_revision(
        label=label,
        title="개인정보 처리방침" if document == "privacy" else "서비스 이용약관",
        body_md=body,
        effective_on=TODAY + timedelta(days=7),
        document=document,
    )
    db.session.commit()
    return version


def test_comparison_page_shows_the_table_without_markdown(client, db, frozen):
    announce(db, NEW)
    response = client.get(f"/privacy/diff?from={SEED_LABEL}&to=2026-12-rev")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    table = html[html.index('<table class="compare-table"') : html.index("</table>")]
    assert ">현행 <" in table and ">개정 <" in table
    assert 'data-key="5."' in table and 'data-key="11."' in table and 'data-key="10."' in table
    assert 'data-key="2."' not in table
    assert "신설" in table and "삭제" in table and "(현행과 같음)" in table
    assert (
        '<del><span class="visually-hidden">[삭제] </span>7일전부터</del>' in table
        and '<ins><span class="visually-hidden">[추가] </span>30일전부터</ins>' in table
    )
    assert "&lt;일반" in table and "회원가입&gt;" in table
    assert not re.search(r"##|\*\*|\\&lt;|\\<", table)
    # The nav label and the page's heading agree.
    assert '<a href="/privacy/diff" aria-current="page">변경 내용 비교</a>' in html
    assert "<h1>변경 내용 비교</h1>" in html
    # The line diff of the source stays, folded below.
    assert '<details class="card line-diff"' in html


@settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["## 1. 목적", "## 제2조 (정의)", "# 제목", "- 항목", "1. 번호", "| a | b |",
                 "|---|---|", "**굵게**", "\\<", "```", "> 인용", "\n", "제3조의2", "### 가."]
            ),
            st.text(max_size=30),
        ),
        max_size=10,
    ).map("\n".join),
    st.lists(st.text(max_size=40), max_size=6).map("\n".join),
)  # fmt: skip
def test_any_pair_of_texts_compares_without_crashing(old, new):
    for a, b in ((old, new), (new, old), (old, old + new)):
        comparison = compare_texts(a, b)
        for row in comparison.rows:
            assert row.kind in ("changed", "added", "removed")
            for para in (*row.old, *row.new):
                assert all(kind in ("same", "added", "removed") for kind, _ in para.parts)
