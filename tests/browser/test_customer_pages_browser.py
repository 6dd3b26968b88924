"""The revision table, officers, terms and 열람 pages at a phone's and a desktop's width:
axe clean, no horizontal scroll, the comparison readable (issue #14, part B)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.dbtypes import kst_today
from tests.browser.conftest import axe_violations, sign_in

WIDTHS = [390, 1280]


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def sized(request, browser, live_server):
    context = browser.new_context(
        locale="ko-KR", timezone_id="Asia/Seoul", viewport={"width": request.param, "height": 800}
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def two_versions(app, db):
    """The seed policy and terms, each with an announced revision: an article added, one
    removed, one changed."""
    from portal.policy import versions
    from portal.policy.seed import seed_markdown, terms_seed_markdown
    from portal.policy.seed.loader import ensure_seed, ensure_terms_seed

    ensure_seed()
    ensure_terms_seed()
    policy = seed_markdown().replace("개정 최소 7일전부터", "개정 최소 30일전부터")
    policy = policy.replace(policy[policy.index("## 5. ") : policy.index("## 6. ")], "")
    policy += "\n## 11. 위치정보의 보호\n\n회사는 **위치정보**를 암호화하여 보관합니다.\n"
    terms = terms_seed_markdown().replace("2개월 이상", "3개월 이상")
    effective = kst_today() + timedelta(days=8)
    versions.announce_revision(
        label="rev-2", title="개인정보 처리방침", body_md=policy, effective_on=effective
    )
    versions.announce_revision(
        label="rev-2",
        title="서비스 이용약관",
        body_md=terms,
        effective_on=effective,
        document="terms",
    )
    db.session.commit()


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_revision_table(sized, live_server, two_versions):
    response = sized.goto(live_server + "/privacy/diff")
    assert response.status == 200
    table = sized.locator("table.compare-table")
    assert table.is_visible()
    for key in ("5.", "10.", "11."):
        assert sized.locator(f"tbody[data-key='{key}']").count() == 1, key
    text = table.inner_text()
    assert "##" not in text and "**" not in text and "\\<" not in text
    assert "30일전부터" in sized.locator("tbody[data-key='10.'] ins").first.inner_text()
    # The folded line diff is there but does not take the page.
    assert not sized.locator("#line-diff ol.diff").is_visible()
    assert _no_horizontal_scroll(sized)
    assert axe_violations(sized) == []
    if sized.viewport_size["width"] < 600:
        # Stacked: each cell says which side it is.
        cell = sized.locator("tbody[data-key='10.'] td").first
        label = cell.evaluate("el => getComputedStyle(el, '::before').content")
        assert "현행" in label


@pytest.mark.parametrize("path", ["/privacy/officers", "/terms", "/terms/versions", "/terms/diff"])
def test_public_pages(sized, live_server, two_versions, path):
    response = sized.goto(live_server + path)
    assert response.status == 200
    assert sized.locator("#business-info").is_visible()
    assert _no_horizontal_scroll(sized), path
    assert axe_violations(sized) == []


def test_view_data_page(sized, live_server, customer):
    sign_in(sized, live_server, customer)
    sized.goto(live_server + "/account/profile")
    sized.click("#view-data-link")
    sized.wait_for_url(live_server + "/account/data")
    assert sized.locator("h1").inner_text() == "보유 개인정보 열람"
    assert sized.locator("[data-section='profile'] dd").first.is_visible()
    assert "KST" in sized.locator("[data-section='profile']").inner_text()
    assert _no_horizontal_scroll(sized)
    assert axe_violations(sized) == []
    # Printed, the navigation and the footer go: the report only.
    sized.emulate_media(media="print")
    assert not sized.locator(".site-header").is_visible()
    assert sized.locator("[data-section='profile']").is_visible()
