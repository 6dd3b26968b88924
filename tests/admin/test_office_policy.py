"""Notices and policy revisions on screen: the CLI's services, the 7/30-day rule shown first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AccessRecord
from portal.dbtypes import kst_today
from portal.extensions import db
from portal.policy.models import Notice, PolicyVersion
from tests.conftest import post_form

BODY = "## 1. 목적\n\n새 처리방침입니다.\n\n<script>alert(1)</script>"


@pytest.fixture
def officer(client, staff_auth, make_staff):
    staff = make_staff("privacy_officer", login_id="officer")
    staff_auth.login(staff)
    return client


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_earliest_effective_date_is_shown_before_submitting(officer):
    page = officer.get("/admin/policy/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert (kst_today() + timedelta(days=7)).isoformat() in html
    assert (kst_today() + timedelta(days=30)).isoformat() in html
    assert 'aria-describedby="earliest-effective"' in html


def test_a_too_soon_effective_date_is_refused_with_the_rule(officer):
    before = _count(PolicyVersion)
    too_soon = kst_today() + timedelta(days=6)
    response = post_form(
        officer,
        "/admin/policy/new",
        {
            "label": "2099-01-01",
            "title": "개인정보 처리방침",
            "body": BODY,
            "effective_on": too_soon.isoformat(),
            "announced_on": kst_today().isoformat(),
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "시행일은 공고일로부터 최소 7일 뒤여야 합니다." in html
    assert (kst_today() + timedelta(days=7)).isoformat() in html
    assert 'value="2099-01-01"' in html  # what was typed stays
    material = post_form(
        officer,
        "/admin/policy/new",
        {
            "label": "2099-01-01",
            "title": "개인정보 처리방침",
            "body": BODY,
            "effective_on": (kst_today() + timedelta(days=10)).isoformat(),
            "announced_on": kst_today().isoformat(),
            "material": "1",
        },
    )
    assert material.status_code == 400
    assert "최소 30일 뒤" in material.get_data(as_text=True)
    bad_date = post_form(
        officer,
        "/admin/policy/new",
        {"label": "x", "title": "t", "body": "b", "effective_on": "내일"},
    )
    assert bad_date.status_code == 400
    assert "YYYY-MM-DD" in bad_date.get_data(as_text=True)
    assert _count(PolicyVersion) == before


def test_a_revision_is_announced_through_the_service(officer):
    before_notices = _count(Notice)
    before_versions = _count(PolicyVersion)
    effective = kst_today() + timedelta(days=400)
    preview = post_form(
        officer,
        "/admin/policy/new",
        {
            "label": "2099-01-01",
            "title": "개인정보 처리방침",
            "body": BODY,
            "effective_on": effective.isoformat(),
            "announced_on": kst_today().isoformat(),
            "preview": "1",
        },
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="preview"' in html
    assert "<script>alert(1)</script>" not in html  # sanitised
    assert 'id="section-1"' in html
    assert _count(PolicyVersion) == before_versions  # a preview saves nothing

    response = post_form(
        officer,
        "/admin/policy/new",
        {
            "label": "2099-01-01",
            "title": "개인정보 처리방침",
            "body": BODY,
            "effective_on": effective.isoformat(),
            "announced_on": kst_today().isoformat(),
        },
    )
    assert response.status_code == 302
    version = db.session.scalars(
        select(PolicyVersion).where(PolicyVersion.label == "2099-01-01")
    ).one()
    assert version.effective_on == effective
    assert _count(Notice) == before_notices + 1
    listing = officer.get("/admin/policy").get_data(as_text=True)
    assert "2099-01-01" in listing and "시행 예정" in listing
    assert (
        db.session.scalars(
            select(AccessRecord.fields).where(AccessRecord.action == "policy_announce")
        ).one()
        == "policy:2099-01-01"
    )


def test_a_notice_is_posted_and_previewed(officer):
    before = _count(Notice)
    preview = post_form(
        officer,
        "/admin/notices/new",
        {"title": "점검 안내", "body": "**내일** 점검", "preview": "1"},
    )
    assert preview.status_code == 200
    assert "<strong>내일</strong>" in preview.get_data(as_text=True)
    assert _count(Notice) == before
    response = post_form(
        officer,
        "/admin/notices/new",
        {"title": "점검 안내", "body": "**내일** 점검", "pinned": "1", "popup": "1"},
    )
    assert response.status_code == 302
    notice = db.session.scalars(select(Notice).order_by(Notice.id.desc())).first()
    assert notice.title == "점검 안내" and notice.popup and notice.pinned_until.year == 9999
    assert "점검 안내" in officer.get("/admin/notices").get_data(as_text=True)
    empty = post_form(officer, "/admin/notices/new", {"title": "", "body": ""})
    assert empty.status_code == 400
    assert "제목을 입력해 주세요." in empty.get_data(as_text=True)
    past = post_form(
        officer,
        "/admin/notices/new",
        {"title": "t", "body": "b", "popup": "1", "popup_until": "2000-01-01"},
    )
    assert past.status_code == 400
    assert "종료일은 오늘 이후여야 합니다" in past.get_data(as_text=True)
    assert _count(Notice) == before + 1


def test_policy_posts_need_the_csrf_token(officer):
    before = _count(Notice)
    response = officer.post("/admin/notices/new", data={"title": "t", "body": "b"})
    assert response.status_code == 400
    assert _count(Notice) == before


@pytest.mark.parametrize("role", ["support", "billing"])
def test_other_roles_get_403(client, staff_auth, make_staff, role):
    staff = make_staff(role)
    staff_auth.login(staff)
    for path in ("/admin/notices", "/admin/notices/new", "/admin/policy", "/admin/policy/new"):
        assert client.get(path).status_code == 403, path
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AccessRecord)
            .where(AccessRecord.actor == staff.login_id, AccessRecord.action == "denied")
        )
        == 4
    )
