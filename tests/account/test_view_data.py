"""The printable 열람 page (/account/data): the download's collection, for people."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, update

from portal.account import readable
from portal.account.export import EXPORTED_TABLES
from portal.audit.models import SecurityEvent
from portal.auth.models import UserSession
from portal.dbtypes import utcnow
from tests.account.test_export import _download, _fill_every_table
from tests.conftest import csrf_from

VIEW = "/account/data"


def test_needs_sign_in_and_recent_password(db, signed_in, client):
    with db.engine.begin() as conn:
        conn.execute(
            update(UserSession.__table__).values(authenticated_at=utcnow() - timedelta(hours=1))
        )
    response = client.get(VIEW)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/reauth?next=/account/data")
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(True))})
    assert client.get(VIEW).headers["Location"].startswith("/login")


def test_every_section_of_the_download_is_on_the_page_in_korean(app, db, signed_in, client):
    _fill_every_table(db, signed_in)
    response = client.get(VIEW)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert '<h1 id="held-h">보유 개인정보 열람</h1>' in html
    # Each exported key is a section: the page and the file come from one collection.
    data = json.loads(_download(client).get_data(as_text=True))
    keys = {key for key in EXPORTED_TABLES.values() if key not in ("billing",)}
    for key in keys | {"billing.invoices", "billing.payments", "billing.payment_method"}:
        assert f'data-section="{key}"' in html, key
    for title in ("회원 정보", "접속·보안 기록", "제3자 제공 내역", "정정 신청", "문의"):
        assert title in html, title
    # Korean labels, values as the file holds them, times in Seoul (UTC+9).
    assert "<dt>아이디</dt><dd>hong_gildong</dd>" in html
    assert "<dt>받는 곳</dt><dd>서울경찰청</dd>" in html
    created = data["profile"]["created_at"]
    shown = readable.display(created)
    assert shown.endswith("KST") and shown in html
    assert "+00:00" not in html and "password_hash" not in html and "$2b$" not in html
    # The look is recorded, apart from a download.
    kinds = set(db.session.scalars(select(SecurityEvent.kind)))
    assert {"data_viewed", "data_exported"} <= kinds


def test_profile_links_to_the_page(signed_in, client):
    html = client.get("/account/profile").get_data(as_text=True)
    assert 'id="view-data-link"' in html and 'href="/account/data"' in html


def test_display_reads_times_in_seoul_and_flags_in_korean(app):
    with app.test_request_context():
        assert readable.display("2026-12-01T01:00:00+00:00") == "2026-12-01 10:00:00 KST"
        assert readable.display(True) == "예" and readable.display(None) == "—"
        assert readable.display("2026-12-01") == "2026-12-01"
        assert readable.display([{"amount": 1000}]) == "금액: 1000"
        # A key without a label yet still shows, under its own name: never dropped.
        sections = readable.readable_sections({"profile": {"new_col": 1}, "brand_new": []})
        assert [s.key for s in sections] == ["profile", "brand_new"]
        assert sections[0].records == [[("new_col", "1")]]
