"""Rules of policy versions and notices (PRODUCT.md §5), called as services."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.policy import errors, notices, versions
from portal.policy.banner import PolicyBanner, forget_banner, policy_banner
from portal.policy.diff import diff_lines, diff_versions
from portal.policy.markdown import render_markdown
from portal.policy.messages import message_for
from portal.policy.models import Notice, PolicyVersion, PrivacyOfficer
from portal.policy.officers import list_officers
from portal.policy.seed import SEED_LABEL, seed_markdown
from portal.policy.seed.loader import ensure_seed
from tests.policy.conftest import NOW

TODAY = NOW.date()


def revision_body(old: str = "6개월", new: str = "1년") -> str:
    return seed_markdown().replace(old, new)


def announce(**overrides) -> PolicyVersion:
    fields = {
        "label": "2026-12-rev",
        "title": "개인정보 처리방침",
        "body_md": revision_body(),
        "effective_on": TODAY + timedelta(days=10),
        "author": "privacy_officer",
    }
    fields.update(overrides)
    return versions.announce_revision(**fields)


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def test_seed_is_in_force_with_officers(db, frozen):
    current = versions.current_version()
    assert current is not None and current.label == SEED_LABEL
    assert current.announced_on == date(2023, 9, 15)
    assert current.effective_on == date(2023, 9, 25)
    assert "오늘 하루 이 창을 열지 않음" not in current.body_md
    officers = list_officers()
    assert [(o.role, o.phone) for o in officers] == [
        ("개인정보 관리책임자", "02-6309-6800"),
        ("개인정보 관리담당자", "02-2679-8705"),
    ]
    assert versions.upcoming_version() is None


def test_ensure_seed_is_idempotent(db):
    assert ensure_seed() is False
    db.session.commit()
    assert count(PolicyVersion) == 1
    assert count(PrivacyOfficer) == 2


@pytest.mark.parametrize(
    ("days", "material", "allowed"),
    [
        (6, False, False),
        (7, False, True),
        (29, True, False),
        (30, True, True),
        (29, False, True),
        (0, False, False),
    ],
)
def test_notice_period_boundaries(db, frozen, days, material, allowed):
    effective = TODAY + timedelta(days=days)
    if allowed:
        version = announce(effective_on=effective, material=material)
        db.session.commit()
        assert version.effective_on == effective
        return
    with pytest.raises(errors.TooSoon) as caught:
        announce(effective_on=effective, material=material)
    assert caught.value.earliest == TODAY + timedelta(days=30 if material else 7)
    assert f"최소 {30 if material else 7}일" in message_for(caught.value)
    db.session.rollback()
    assert count(PolicyVersion) == 1 and count(Notice) == 0


def test_announcement_in_the_past_is_refused(db, frozen):
    with pytest.raises(errors.AnnouncedInPast):
        announce(announced_on=TODAY - timedelta(days=1), effective_on=TODAY + timedelta(days=20))


def test_future_announcement_counts_from_its_own_date(db, frozen):
    later = TODAY + timedelta(days=3)
    with pytest.raises(errors.TooSoon):
        announce(announced_on=later, effective_on=later + timedelta(days=6))
    version = announce(announced_on=later, effective_on=later + timedelta(days=7))
    db.session.commit()
    notice = db.session.scalars(select(Notice)).one()
    # Scheduled: not on the board before its announcement day.
    assert notices.notice_by_id(notice.id) is None
    assert notices.latest_notice_heads() == ()
    assert version.announced_on == later


@pytest.mark.parametrize("label", ["", "   ", "../etc", "a b", "x" * 41, "<script>", "개정"])
def test_malformed_labels_are_refused(db, frozen, label):
    with pytest.raises(errors.InvalidInput):
        announce(label=label)


def test_empty_title_or_body_is_refused(db, frozen):
    with pytest.raises(errors.InvalidInput):
        announce(title="  ")
    with pytest.raises(errors.InvalidInput):
        announce(body_md="\n  \n")


def test_effective_dates_must_move_forward(db, frozen):
    announce(label="first", effective_on=TODAY + timedelta(days=10))
    db.session.commit()
    with pytest.raises(errors.OutOfOrder):
        announce(label="second", effective_on=TODAY + timedelta(days=10))
    with pytest.raises(errors.OutOfOrder):
        announce(label="third", effective_on=TODAY + timedelta(days=8))


def test_announcement_publishes_a_pinned_notice(db, frozen):
    version = announce()
    db.session.commit()
    notice = db.session.scalars(select(Notice)).one()
    assert notice.policy_version_id == version.id
    assert notice.pinned_until == version.effective_on
    assert not notice.popup
    assert version.effective_on.isoformat() in notice.title
    assert notices.is_pinned(notice)
    assert notices.notices_page(1).items[0].id == notice.id


def test_notice_and_version_share_one_transaction(db, frozen, monkeypatch):
    def broken_notice(version):
        raise RuntimeError("notice insert failed")

    monkeypatch.setattr(versions, "_publish_announcement", broken_notice)
    with pytest.raises(RuntimeError):
        announce()
    # The version was flushed but nothing was committed: the caller's rollback removes it.
    db.session.rollback()
    assert count(PolicyVersion) == 1  # the seed only
    assert count(Notice) == 0


def test_duplicate_label_leaves_neither_row(db, frozen):
    announce(label="dup", effective_on=TODAY + timedelta(days=10))
    db.session.commit()
    with pytest.raises(errors.LabelTaken):
        announce(label="dup", effective_on=TODAY + timedelta(days=20))
    db.session.rollback()
    assert count(PolicyVersion) == 2
    assert count(Notice) == 1


def test_current_version_switches_at_midnight_kst(db, frozen):
    effective = TODAY + timedelta(days=7)
    announce(label="next", effective_on=effective)
    db.session.commit()
    assert versions.current_version().label == SEED_LABEL
    assert versions.upcoming_version().label == "next"

    # 23:59:59 in Seoul the day before (14:59:59 UTC): the old version still holds.
    frozen.move_to(NOW.replace(hour=23, minute=59, second=59) + timedelta(days=6))
    assert versions.current_version().label == SEED_LABEL
    assert policy_banner().label == "next"

    frozen.move_to(NOW.replace(hour=0, minute=0, second=0) + timedelta(days=7))
    assert versions.current_version().label == "next"
    assert versions.upcoming_version() is None
    assert policy_banner() is None
    statuses = {row.version.label: row.status for row in versions.list_versions()}
    assert statuses == {"next": "in_force", SEED_LABEL: "past"}


def test_banner_names_the_version_it_replaces(db, frozen):
    announce(label="next", effective_on=TODAY + timedelta(days=9))
    db.session.commit()
    banner = policy_banner()
    assert banner == PolicyBanner(
        label="next", effective_on=TODAY + timedelta(days=9), previous_label=SEED_LABEL
    )


def test_banner_cache_is_per_day_and_cleared_by_an_announcement(app, db, frozen):
    app.config["PORTAL_BANNER_CACHE_SECONDS"] = 60
    try:
        assert policy_banner() is None  # cached: no revision upcoming
        # A revision written straight to the table (as another worker's would look from
        # here) is not seen until the cache expires...
        db.session.add(
            PolicyVersion(
                label="elsewhere",
                title="t",
                body_md="b",
                announced_on=TODAY,
                effective_on=TODAY + timedelta(days=8),
                material=False,
                author="",
            )
        )
        db.session.commit()
        assert policy_banner() is None
        frozen.shift(timedelta(seconds=61))
        assert policy_banner().label == "elsewhere"
        # ...while an announcement made in this process clears the cache at once.
        forget_banner()
        assert policy_banner().label == "elsewhere"  # cached again
        announce(label="here", effective_on=TODAY + timedelta(days=10))
        db.session.delete(versions.version_by_label("elsewhere"))
        db.session.commit()
        assert policy_banner().label == "here"
        # And the day is part of the key: the next morning is computed afresh.
        announce(label="later", effective_on=TODAY + timedelta(days=11))
        db.session.commit()
        assert policy_banner().label == "here"  # cached for today
        frozen.move_to(NOW.replace(hour=0, minute=0, second=0) + timedelta(days=10))
        assert policy_banner().label == "later"
    finally:
        forget_banner()


def test_diff_of_seed_against_a_revision(db, frozen):
    seed = versions.version_by_label(SEED_LABEL)
    body = seed_markdown().replace("  - 보존 기간 : 6개월\n", "  - 보존 기간 : 1년\n")
    body += "\n## 11. 부칙\n\n이 처리방침은 2026년 12월 11일부터 시행합니다.\n"
    revision = announce(body_md=body)
    diff = diff_versions(seed, revision)
    assert not diff.identical
    assert diff.added == 5 and diff.removed == 1  # 1 changed line, 4 new at the end
    removed = [line for line in diff.lines if line.kind == "removed"]
    added = [line for line in diff.lines if line.kind == "added"]
    assert ("removed", "6개월") in removed[0].parts
    assert ("added", "1년") in added[0].parts
    assert any(("added", "## 11. 부칙") in line.parts for line in added)
    assert diff_versions(seed, seed).identical


def test_render_markdown_keeps_structure_and_drops_script():
    rendered = render_markdown(
        "# 제목\n\n## 1. 첫째\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n"
        "<script>alert(1)</script>\n\n[나쁜 링크](javascript:alert(1)) [좋은 링크](https://example.kr)"
        '\n\n<img src=x onerror="alert(1)"> <a href="#" onclick="x()">a</a>'
    )
    html = str(rendered.html)
    assert '<h2 id="section-1">1. 첫째</h2>' in html
    assert "<table>" in html and "style=" not in html
    tags = re.findall(r"<[^>]*>", html)
    assert not [t for t in tags if re.search(r"script|img|\son\w+=|javascript:|style=", t)]
    assert "&lt;script&gt;" in html  # shown as text, never run
    assert '<a href="https://example.kr" rel="noopener noreferrer nofollow">' in html
    assert [entry.anchor for entry in rendered.toc] == ["section-p1", "section-1"]


def test_page_numbers(db, frozen):
    assert notices.parse_page(None) == 1
    assert notices.parse_page("3") == 3
    for raw in ["-1", "0", "abc", "1.5", "10" * 5, "１", " 1"]:
        with pytest.raises(errors.PageNotFound):
            notices.parse_page(raw)
    assert notices.notices_page(1).items == []  # an empty board still has page 1
    with pytest.raises(errors.PageNotFound):
        notices.notices_page(2)


@pytest.mark.parametrize(
    ("page", "pages", "numbers"),
    [
        (1, 1, [1]),
        (1, 20, [1, 2, 3, 4, 5]),
        (10, 20, list(range(6, 15))),
        (20, 20, [16, 17, 18, 19, 20]),
    ],
)
def test_pager_links_four_pages_either_side(page, pages, numbers):
    assert list(notices.Page(items=[], page=page, pages=pages).numbers) == numbers


def test_board_page_marks_the_notices_pinned_today(db, frozen):
    pinned = notices.post_notice(
        title="고정", body_md="고정", pinned_until=TODAY + timedelta(days=1)
    )
    notices.post_notice(title="일반", body_md="일반")
    db.session.commit()
    assert notices.notices_page(1).pinned_ids == {pinned.id}
    frozen.move_to(NOW + timedelta(days=2))
    assert notices.notices_page(1).pinned_ids == frozenset()


def test_table_of_contents_lists_the_top_level_sections():
    rendered = render_markdown("## 1. 첫째\n\n### 가. 세부\n\n## 2. 둘째\n")
    assert [entry.anchor for entry in rendered.toc] == ["section-1", "section-1-1", "section-2"]
    assert [entry.text for entry in rendered.contents] == ["1. 첫째", "2. 둘째"]


def test_popups_hidden_by_cookie_and_ended_by_date(db, frozen):
    first = notices.post_notice(title="점검", body_md="점검 안내", popup=True)
    second = notices.post_notice(
        title="이벤트", body_md="이벤트", popup=True, popup_until=TODAY + timedelta(days=1)
    )
    notices.post_notice(title="일반", body_md="일반 공지")
    db.session.commit()
    assert {n.id for n in notices.active_popups()} == {first.id, second.id}
    hidden = notices.hidden_popup_ids({f"notice_hidden_{first.id}": "1", "notice_hidden_x": "1"})
    assert hidden == {first.id}
    assert [n.id for n in notices.active_popups(hidden)] == [second.id]
    frozen.move_to(NOW + timedelta(days=2))
    assert [n.id for n in notices.active_popups()] == [first.id]


def test_post_notice_refuses_past_end_dates(db, frozen):
    with pytest.raises(errors.InvalidInput):
        notices.post_notice(title="x", body_md="y", pinned_until=TODAY - timedelta(days=1))


_lines = st.lists(
    st.sampled_from(
        ["## 1. 항목", "- 아이디", "- 성명", "보존 기간 : 5년", "", "새 문장", "x" * 300]
    ),
    max_size=25,
)


@settings(deadline=None)
@given(old=_lines, new=_lines)
def test_diff_of_any_two_texts_never_fails(old, new):
    # Deletions, insertions and uneven replacements of every shape (a shorter revision once
    # crashed the word-level pass with an IndexError).
    old_md, new_md = "\n".join(old), "\n".join(new)
    lines, added, removed = diff_lines(old_md, new_md)
    a, b = old_md.splitlines(), new_md.splitlines()
    assert added - removed == len(b) - len(a)
    assert added == sum(1 for line in lines if line.kind == "added")
    assert removed == sum(1 for line in lines if line.kind == "removed")
    if a == b:
        assert lines == ()
    for line in lines:
        if line.kind == "added":
            assert line.new_no in range(1, len(b) + 1)
