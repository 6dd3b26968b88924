"""Anonymous public pages replayed before Flask (portal.frontcache).

A replayed response must be the one Flask would send (but for its request id), be logged
like any other, and never outlive what it depends on: the content version, the KST date,
the visitor's cookies and validators. Whatever is not a shared page must reach Flask.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from portal import pagecache
from portal.dbtypes import kst_today
from portal.logs import JsonFormatter
from portal.policy.notices import post_notice
from tests.account.conftest import count_statements


@pytest.fixture
def config(config):
    config.PORTAL_CONTENT_VERSION_SECONDS = 60  # as in production: a few seconds at least
    return config


@pytest.fixture(autouse=True)
def seeded(app, db):
    from portal.policy.seed.loader import ensure_seed

    ensure_seed()
    db.session.commit()


@pytest.fixture
def dispatched(monkeypatch):
    """How many requests reached Flask's dispatch (a replayed one does not)."""
    calls: list[str] = []
    original = Flask.full_dispatch_request

    def counting(self):
        from flask import request

        calls.append(request.path)
        return original(self)

    monkeypatch.setattr(Flask, "full_dispatch_request", counting)
    return calls


@pytest.fixture
def visitor(app):
    """An anonymous visitor who keeps no cookies, like a crawler or the bench's wrk."""
    return app.test_client(use_cookies=False)


def _without_request_id(response) -> list[tuple[str, str]]:
    return [(n, v) for n, v in response.headers.items() if n != "X-Request-ID"]


@pytest.mark.parametrize(
    "path", ["/privacy", "/notices", "/privacy/versions", "/notices?page=1", "/"]
)
def test_a_public_page_is_replayed_as_flask_sent_it(app, db, visitor, dispatched, path):
    first = visitor.get(path)
    assert first.status_code == 200 and dispatched == [path.split("?")[0]]
    assert "Set-Cookie" not in first.headers
    with count_statements(db.engine) as statements:
        again = visitor.get(path)
    assert dispatched == [path.split("?")[0]]  # not dispatched again
    assert list(statements) == []
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert _without_request_id(again) == _without_request_id(first)
    # Each response its own id, as for pages Flask serves.
    assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert len(again.headers["X-Request-ID"]) == 16


def test_a_revalidation_is_replayed_as_a_304(app, visitor, dispatched):
    etag = visitor.get("/privacy").headers["ETag"]
    conditional = {"If-None-Match": etag}
    first = visitor.get("/privacy", headers=conditional)
    again = visitor.get("/privacy", headers=conditional)
    assert first.status_code == again.status_code == 304
    assert dispatched == ["/privacy", "/privacy"]
    assert _without_request_id(again) == _without_request_id(first)
    assert again.get_data() == b""


def test_a_replayed_request_is_logged_with_its_own_id(app, visitor, dispatched):
    handler = app.logger.handlers[0]
    stream = io.StringIO()
    handler.setStream(stream)
    handler.setFormatter(JsonFormatter())
    visitor.get("/privacy")
    again = visitor.get("/privacy")
    assert dispatched == ["/privacy"]
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    served, replayed = entries[-2:]
    assert replayed["message"] == served["message"] == "GET /privacy 200"
    assert (replayed["method"], replayed["path"]) == ("GET", "/privacy")
    assert replayed["request_id"] == again.headers["X-Request-ID"]
    assert replayed["request_id"] != served["request_id"]


def test_each_language_and_cookie_set_is_its_own_copy(app, visitor, dispatched):
    korean = visitor.get("/privacy").get_data(as_text=True)
    english = visitor.get("/privacy", headers={"Cookie": "lang=en"}).get_data(as_text=True)
    assert dispatched == ["/privacy", "/privacy"]
    assert korean != english and 'lang="en"' in english
    assert visitor.get("/privacy", headers={"Cookie": "lang=en"}).get_data(as_text=True) == english
    assert visitor.get("/privacy").get_data(as_text=True) == korean
    assert len(dispatched) == 2


def test_a_new_notice_shows_at_once_on_this_worker(app, db, visitor, dispatched):
    assert "새 소식 알림" not in visitor.get("/notices").get_data(as_text=True)
    visitor.get("/notices")
    post_notice(title="새 소식 알림", body_md="본문")
    db.session.commit()  # the commit drops this worker's pages (pagecache.forget)
    assert "새 소식 알림" in visitor.get("/notices").get_data(as_text=True)
    assert dispatched == ["/notices", "/notices"]


def test_another_hosts_change_shows_once_the_version_is_read_again(app, db, visitor, dispatched):
    visitor.get("/notices")
    # Another host publishes: the shared row changes, this worker is not told.
    post_notice(title="다른 서버의 공지", body_md="본문")
    worker = app.extensions["pagecache"]
    kept = dict(worker.responses)
    db.session.commit()
    with worker.lock:
        worker.responses.update(kept)  # as if the commit had happened elsewhere
        worker.version = kept[next(iter(kept))].content_key[0]
    assert "다른 서버의 공지" not in visitor.get("/notices").get_data(as_text=True)
    assert dispatched == ["/notices"]  # still fresh: replayed
    worker.checked_at -= 60  # PORTAL_CONTENT_VERSION_SECONDS have passed
    assert "다른 서버의 공지" in visitor.get("/notices").get_data(as_text=True)
    assert dispatched == ["/notices", "/notices"]


def test_a_new_day_in_seoul_goes_to_flask(app, visitor, dispatched, monkeypatch):
    visitor.get("/privacy")
    visitor.get("/privacy")
    assert len(dispatched) == 1
    tomorrow = kst_today() + timedelta(days=1)
    monkeypatch.setattr(pagecache, "kst_today", lambda: tomorrow)
    visitor.get("/privacy")
    assert len(dispatched) == 2


def test_a_scheduled_change_that_came_due_goes_to_flask(app, visitor, dispatched):
    visitor.get("/privacy")
    worker = app.extensions["pagecache"]
    worker.next_change_at = pagecache.utcnow() - timedelta(seconds=1)
    visitor.get("/privacy")
    assert len(dispatched) == 2


def test_a_visitor_with_a_session_cookie_always_reaches_flask(app, client, dispatched):
    client.get("/login")  # the form's CSRF token starts a session
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None
    client.get("/privacy")
    client.get("/privacy")
    assert dispatched == ["/login", "/privacy", "/privacy"]


def test_a_signed_in_customer_is_never_served_a_shared_copy(app, auth, customer, dispatched):
    auth.login(customer)
    auth.client.get("/privacy")
    page = auth.client.get("/privacy")
    assert dispatched[-2:] == ["/privacy", "/privacy"]
    assert page.headers["Cache-Control"] == "no-store"


def test_the_home_page_with_a_popup_is_not_kept(app, db, visitor, dispatched):
    # The popup's "not today" form works without JavaScript: it carries the visitor's own
    # CSRF token, so the page starts a session and is served by Flask each time.
    post_notice(title="점검 안내", body_md="본문", popup=True)
    db.session.commit()
    for _ in range(2):
        response = visitor.get("/")
        assert "점검 안내" in response.get_data(as_text=True)
        assert "Set-Cookie" in response.headers
    assert dispatched == ["/", "/"]


def test_a_page_that_sets_a_cookie_is_not_kept(app, visitor, dispatched):
    for _ in range(2):
        response = visitor.get("/login")
        assert "Set-Cookie" in response.headers  # its own CSRF token, in its own session
    assert dispatched == ["/login", "/login"]
    assert app.extensions["pagecache"].responses == {}


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("head", {}),
        ("get", {"data": b"x=1", "content_type": "application/x-www-form-urlencoded"}),
        ("post", {}),
    ],
)
def test_only_a_bodiless_get_is_replayed(app, visitor, dispatched, method, kwargs):
    visitor.get("/privacy")
    getattr(visitor, method)("/privacy", **kwargs)
    assert len(dispatched) == 2


def test_errors_and_redirects_are_never_kept(app, visitor, dispatched):
    for _ in range(2):
        assert visitor.get("/notices/999999").status_code == 404
        assert visitor.get("/account").status_code == 302
    assert len(dispatched) == 4
    assert app.extensions["pagecache"].responses == {}


def test_the_version_row_read_again_drops_every_kept_response(app, db, visitor, dispatched):
    visitor.get("/privacy")
    worker = app.extensions["pagecache"]
    assert len(worker.responses) == 1
    db.session.execute(text("UPDATE content_version SET version = version + 1"))
    db.session.commit()
    worker.checked_at -= 60
    visitor.get("/privacy")
    assert len(dispatched) == 2
    # Only the copy made under the new version is left.
    (kept,) = worker.responses.values()
    assert kept.content_key == worker.fresh_key(60)


def test_kept_responses_are_bounded_in_number_and_bytes(app, visitor, monkeypatch):
    from portal import frontcache

    # A visitor varying the query string at will: the oldest copies go first.
    monkeypatch.setattr(frontcache, "MAX_RESPONSES", 3)
    for n in range(5):
        visitor.get(f"/privacy?n={n}")
    responses = app.extensions["pagecache"].responses
    assert [key[1] for key in responses] == ["n=2", "n=3", "n=4"]
    size = len(next(iter(responses.values())).body)
    monkeypatch.setattr(frontcache, "MAX_BYTES", size * 2)
    visitor.get("/privacy?n=5")
    assert [key[1] for key in responses] == ["n=4", "n=5"]
