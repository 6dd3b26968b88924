"""Public policy and notice pages, popups, banner, caching (PRODUCT.md §5, REFERENCE.md pages)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.http import http_date, parse_date

from portal.dbtypes import KST
from portal.policy import notices, officers, versions
from portal.policy.models import Notice
from portal.policy.seed import SEED_LABEL, seed_markdown
from tests.conftest import csrf_from, post_form
from tests.policy.conftest import NOW

TODAY = NOW.date()
BANNER_RE = re.compile(r"개인정보 처리방침이 (\d{4}-\d{2}-\d{2})에 변경됩니다")


def announce_revision(db, *, days: int = 7, label: str = "2026-12-rev", body: str | None = None):
    version = versions.announce_revision(
        label=label,
        title="개인정보 처리방침",
        body_md=body or seed_markdown().replace("  - 보존 기간 : 6개월\n", "  - 보존 기간 : 1년\n"),
        effective_on=TODAY + timedelta(days=days),
    )
    db.session.commit()
    return version


def test_privacy_page_shows_the_seed_with_ten_sections(client, frozen):
    response = client.get("/privacy")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for n in range(1, 11):
        assert re.search(rf'<h2 id="section-{n}">{n}\. ', html), n
        assert f'href="#section-{n}"' in html  # table of contents
    assert html.count('<h2 id="section-') == 10
    assert "① 본인확인에 관한 기록" in html and "보존 기간 : 6개월" in html
    assert "<td>02-6309-6800</td>" in html  # the officers table of §9
    assert "2023-09-25" in html and "시행 중" in html
    assert "오늘 하루 이 창을 열지 않음" not in html
    assert 'style="' not in html and "<script>" not in html


def test_officers_page_lists_roles_and_phones_from_data(client, db, frozen):
    html = client.get("/privacy/officers").get_data(as_text=True)
    assert "개인정보 관리책임자" in html and "대표이사" in html
    assert 'href="tel:0263096800"' in html and "02-2679-8705" in html
    officer = officers.list_officers()[1]
    officer.phone = "02-0000-1111"
    db.session.commit()
    assert "02-0000-1111" in client.get("/privacy/officers").get_data(as_text=True)


def test_versions_page_shows_status_of_each_version(client, db, frozen):
    announce_revision(db)
    html = client.get("/privacy/versions").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", html, re.S)
    assert len(rows) == 2
    assert "2026-12-rev" in rows[0] and "시행 예정" in rows[0] and "2026-12-08" in rows[0]
    assert SEED_LABEL in rows[1] and "시행 중" in rows[1] and "2023-09-15" in rows[1]


def test_past_and_upcoming_versions_stay_readable(client, db, frozen):
    announce_revision(db)
    upcoming = client.get("/privacy/versions/2026-12-rev").get_data(as_text=True)
    assert "보존 기간 : 1년" in upcoming and "2026-12-08부터 시행됩니다" in upcoming
    frozen.move_to(NOW + timedelta(days=7))
    past = client.get(f"/privacy/versions/{SEED_LABEL}")
    assert past.status_code == 200
    assert "지난 버전입니다" in past.get_data(as_text=True)
    assert "보존 기간 : 1년" in client.get("/privacy").get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/privacy/versions/nope",
        "/privacy/versions/..%2F..%2Fetc",
        "/privacy/diff?from=nope&to=2023-09-15",
        "/privacy/diff?from=2023-09-15&to=nope",
        "/privacy/diff?to=2023-09-15",  # the seed has nothing before it
        "/privacy/diff?to=" + "x" * 500,
        "/notices/999",
        "/notices/abc",
        "/notices?page=-1",
        "/notices?page=0",
        "/notices?page=abc",
        f"/notices?page={10**9}",
        "/notices?page=2",
        "/notices?page=99999999999999999999",
    ],
)
def test_bad_input_is_a_clean_404(client, frozen, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "페이지를 찾을 수 없습니다" in response.get_data(as_text=True)


def test_diff_marks_added_and_removed_text_not_by_colour_only(client, db, frozen):
    announce_revision(db)
    response = client.get(f"/privacy/diff?from={SEED_LABEL}&to=2026-12-rev")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<del>6개월</del>" in html and "<ins>1년</ins>" in html
    assert '<span class="visually-hidden">삭제: </span>' in html
    assert '<span class="visually-hidden">추가: </span>' in html
    assert "추가된 줄 1개, 삭제된 줄 1개" in html
    # Without parameters: the upcoming revision against the version it replaces.
    assert "<ins>1년</ins>" in client.get("/privacy/diff").get_data(as_text=True)


def test_banner_on_every_page_until_the_effective_date(client, db, frozen):
    assert not BANNER_RE.search(client.get("/").get_data(as_text=True))
    announce_revision(db, days=7)
    for url in ("/", "/privacy", "/notices", "/login", "/no-such-page"):
        html = client.get(url).get_data(as_text=True)
        match = BANNER_RE.search(html)
        assert match and match.group(1) == "2026-12-08", url
        assert 'href="/privacy/versions/2026-12-rev"' in html
        assert f'href="/privacy/diff?from={SEED_LABEL}&amp;to=2026-12-rev"' in html
    frozen.move_to(datetime(2026, 12, 7, 23, 59, 59, tzinfo=KST))
    assert BANNER_RE.search(client.get("/").get_data(as_text=True))
    frozen.move_to(datetime(2026, 12, 8, 0, 0, 0, tzinfo=KST))
    html = client.get("/").get_data(as_text=True)
    assert not BANNER_RE.search(html)
    assert "보존 기간 : 1년" in client.get("/privacy").get_data(as_text=True)


def test_announcement_notice_links_to_text_and_diff(client, db, frozen):
    version = announce_revision(db)
    notice = db.session.scalars(select(Notice)).one()
    assert notice.policy_version_id == version.id
    board = client.get("/notices").get_data(as_text=True)
    assert f'href="/notices/{notice.id}"' in board and "중요" in board
    html = client.get(f"/notices/{notice.id}").get_data(as_text=True)
    assert 'href="/privacy/versions/2026-12-rev"' in html
    assert f'href="/privacy/diff?from={SEED_LABEL}&amp;to=2026-12-rev"' in html
    assert "2026-12-08" in html


def test_board_pages_pinned_first_then_newest(client, db, frozen):
    pinned = notices.post_notice(
        title="고정 공지", body_md="고정", pinned_until=TODAY + timedelta(days=3)
    )
    pinned.published_at = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(44):
        notice = notices.post_notice(title=f"공지 {n:02d}", body_md="본문")
        notice.published_at = datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=n)
    db.session.commit()

    def titles(page: int) -> list[str]:
        html = client.get(f"/notices?page={page}").get_data(as_text=True)
        return re.findall(r'<a href="/notices/\d+">([^<]+)</a>', html)

    first = titles(1)
    assert len(first) == 20
    assert first[0] == "고정 공지" and first[1] == "공지 43" and first[19] == "공지 25"
    assert titles(2)[0] == "공지 24"
    assert len(titles(3)) == 5 and titles(3)[-1] == "공지 00"
    assert client.get("/notices?page=4").status_code == 404
    assert client.get("/notices").status_code == 200
    # Unpinned once its date has passed: back in date order.
    frozen.move_to(NOW + timedelta(days=4))
    assert titles(1)[0] == "공지 43"
    assert titles(3)[-1] == "고정 공지"


def test_script_in_a_notice_body_is_sanitized(client, db, frozen):
    notice = notices.post_notice(
        title="<script>alert('제목')</script>",
        body_md="<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[클릭](javascript:alert(1)) <a href='javascript:alert(2)'>x</a>",
        popup=True,
    )
    db.session.commit()
    for url in (f"/notices/{notice.id}", "/", "/notices"):
        html = client.get(url).get_data(as_text=True)
        tags = re.findall(r"<[^>]*>", html)
        assert not [t for t in tags if re.search(r"<img src=\"?x|\son\w+=|javascript:", t)], url
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;" in html, url


def hide_cookie(response, notice_id: int) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"notice_hidden_{notice_id}="):
            return header
    return None


@pytest.mark.parametrize(
    ("now", "expires"),
    [
        # 10:00 KST → the coming midnight in Seoul is 15:00 UTC the same day.
        (datetime(2026, 12, 1, 10, 0, tzinfo=KST), datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),
        # 23:59:59 KST: one second left.
        (datetime(2026, 12, 1, 23, 59, 59, tzinfo=KST), datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),
        # 00:00 KST: a whole day (the UTC date is still the day before).
        (datetime(2026, 12, 2, 0, 0, tzinfo=KST), datetime(2026, 12, 2, 15, 0, tzinfo=UTC)),
    ],
)
def test_popup_not_today_without_javascript(client, db, frozen, now, expires):
    frozen.move_to(now)
    notice = notices.post_notice(title="시스템 점검 안내", body_md="점검합니다", popup=True)
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert f'aria-labelledby="popup-title-{notice.id}"' in html and 'role="dialog"' in html
    assert "오늘 하루 이 창을 열지 않음" in html and "닫기" in html
    assert f'action="/notices/{notice.id}/dismiss-today"' in html

    response = post_form(client, f"/notices/{notice.id}/dismiss-today", {}, page="/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = hide_cookie(response, notice.id)
    assert cookie is not None and "Path=/" in cookie and "SameSite=Lax" in cookie
    match = re.search(r"Expires=([^;]+)", cookie)
    assert match and parse_date(match.group(1)) == expires, cookie
    assert http_date(expires) in cookie
    home = client.get("/").get_data(as_text=True)
    assert f"popup-title-{notice.id}" not in home
    assert "시스템 점검 안내" in home  # still on the notices list, just not as a popup


def test_dismiss_today_needs_csrf_and_a_real_notice(client, db, frozen):
    notice = notices.post_notice(title="팝업", body_md="x", popup=True)
    db.session.commit()
    assert client.post(f"/notices/{notice.id}/dismiss-today").status_code == 400
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/notices/999/dismiss-today", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize(
    "url", ["/privacy", "/privacy/versions", f"/privacy/versions/{SEED_LABEL}", "/notices"]
)
def test_public_pages_answer_304(client, db, frozen, url):
    first = client.get(url)
    assert first.status_code == 200
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "private" in first.headers["Cache-Control"]
    assert "no-cache" in first.headers["Cache-Control"]
    assert "no-store" not in first.headers["Cache-Control"]
    # The same session's second visit: the page would be identical, so 304 and no body.
    cached = client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b""
    assert cached.headers["ETag"] == etag
    assert "Content-Security-Policy" in cached.headers
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    # A new revision changes the page (banner, list): full answer with a new ETag.
    announce_revision(db)
    fresh = client.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag


def test_last_modified_moves_at_midnight_kst(client, frozen):
    etag = client.get("/privacy").headers["ETag"]
    assert client.get("/privacy", headers={"If-None-Match": etag}).status_code == 304
    frozen.move_to(datetime(2026, 12, 2, 0, 0, tzinfo=KST))
    after = client.get("/privacy", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert parse_date(after.headers["Last-Modified"]) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_footer_links_use_the_real_endpoints(client, frozen):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/privacy"' in html and 'href="/notices"' in html


def test_anonymous_visitors_share_a_copy_but_not_across_languages(app, client, frozen):
    first = client.get("/privacy")
    etag = first.headers["ETag"].strip('"')
    assert "Set-Cookie" not in first.headers  # no session, no CSRF token on public pages
    other = app.test_client()
    assert other.get("/privacy", headers={"If-None-Match": etag}).status_code == 304
    other.get("/language/en")
    english = other.get("/privacy", headers={"If-None-Match": etag})
    assert english.status_code == 200
    assert english.headers["ETag"].strip('"') != etag


def test_signed_in_pages_stay_no_store(client, auth, customer, frozen):
    auth.login(customer)
    response = client.get("/privacy")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_banner_costs_one_query_per_page(app, client, db, frozen):
    from sqlalchemy import event

    announce_revision(db)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        html = client.get("/login").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert BANNER_RE.search(html)
    assert len([s for s in statements if "policy_versions" in s]) == 1


def test_compare_link_appears_only_once_there_is_a_revision(client, db, frozen):
    """Issue 14: with one version, "변경 내용 비교" would lead to a page not found."""
    for url in ("/privacy", "/privacy/versions", "/privacy/officers"):
        html = client.get(url).get_data(as_text=True)
        assert 'href="/privacy/diff"' not in html and "변경 내용 비교" not in html, url
    assert client.get("/privacy/diff").status_code == 404
    announce_revision(db)
    html = client.get("/privacy/versions").get_data(as_text=True)
    assert 'href="/privacy/diff"' in html
    assert client.get("/privacy/diff").status_code == 200


def test_policy_page_keeps_contents_and_top_in_reach(client, frozen):
    html = client.get("/privacy").get_data(as_text=True)
    assert 'id="policy-toc"' in html
    bar = html.split('id="policy-to-top">')[1].split("</p>")[0]
    assert bar == '<a href="#policy-toc">목차</a><a href="#main">맨 위로</a>'


def test_officers_page_shows_name_department_phone_and_email(client, db, frozen):
    officers.fill_officer_contact(
        "개인정보 관리담당자",
        name="박지훈",
        department="솔루션사업팀",
        phone="02-2679-8705",
        email="privacy-desk@arion.example.kr",
    )
    db.session.commit()
    html = client.get("/privacy/officers").get_data(as_text=True)
    assert "박지훈" in html and "솔루션사업팀" in html
    assert 'href="mailto:privacy-desk@arion.example.kr"' in html
    # Filling is idempotent and never overwrites what someone set.
    officers.fill_officer_contact(
        "개인정보 관리담당자", name="다른 사람", department="", phone="", email=""
    )
    assert officers.list_officers()[1].name == "박지훈"


def test_footer_shows_the_business_details_from_configuration(app, client, frozen):
    html = client.get("/privacy").get_data(as_text=True)
    footer = html[html.index('<footer class="site-footer">') :]
    for text in ("아리온통신(주)", "정아리", "120-81-47521",
                 "서울특별시 강남구 테헤란로 152", "02-2679-8705", 'href="/terms"'):  # fmt: skip
        assert text in footer, text
    # No 통신판매업 신고번호 is invented: the line appears once one is configured.
    assert "통신판매업 신고번호" not in footer
    business = app.config["PORTAL_BUSINESS"]
    app.config["PORTAL_BUSINESS"] = replace(
        business,
        cs_phone="1588-1234",
        cs_hours="24시간",
        mail_order_number="제2024-서울중구-0420호",
    )
    try:
        footer = client.get("/notices").get_data(as_text=True)
        assert "1588-1234" in footer and "24시간" in footer and 'href="tel:15881234"' in footer
        assert "통신판매업 신고번호" in footer and "제2024-서울중구-0420호" in footer
        # And on error pages, with the hours.
        missing = client.get("/privacy/versions/nope").get_data(as_text=True)
        assert 'id="error-help"' in missing
        help_line = missing[missing.index('id="error-help"') :]
        assert "1588-1234" in help_line[:400] and "24시간" in help_line[:400]
    finally:
        app.config["PORTAL_BUSINESS"] = business
