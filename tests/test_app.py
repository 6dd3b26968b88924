"""The foundation: configuration, headers, errors, CSRF, cookies, health."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from portal import ConfigError, create_app
from portal import config as portal_config
from portal.config import ProductionConfig
from tests.conftest import ROOT, UNREACHABLE_REDIS_URL, AuthActions, csrf_from, post_form

BASELINE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def assert_baseline_headers(response):
    for name, value in BASELINE.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["X-Request-ID"])


def test_home_page_in_korean_with_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert "개인정보 처리방침" in html and "/privacy" in html
    assert "/login" in html
    assert "등록된 공지사항이 없습니다" in html
    assert_baseline_headers(response)
    # A public page: no Strict-Transport-Security outside production.
    assert "Strict-Transport-Security" not in response.headers


def test_home_lists_latest_notices(app, client, db):
    from portal.policy.models import Notice

    db.session.add(Notice(title="서비스 점검 안내", body_md="점검"))
    db.session.commit()
    assert "서비스 점검 안내" in client.get("/").get_data(as_text=True)


def test_unknown_url_gives_korean_404_with_reference(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "페이지를 찾을 수 없습니다" in html
    assert response.headers["X-Request-ID"] in html
    assert_baseline_headers(response)


def test_500_page_has_reference_and_no_traceback(app_factory):
    app = app_factory()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret-internal-detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "일시적인 오류가 발생했습니다" in html
    assert "secret-internal-detail" not in html and "Traceback" not in html
    assert response.headers["X-Request-ID"] in html
    assert_baseline_headers(response)


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"login_id": "someone", "password": "x" * 12})
    assert response.status_code == 400
    assert "보안 확인 정보가 없거나 만료되었습니다" in response.get_data(as_text=True)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_language_switch_to_english(client):
    response = client.get("/language/en?next=/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    assert client.get("/language/fr").status_code == 404


def test_language_switch_refuses_offsite_next(client):
    response = client.get("/language/en?next=//evil.example")
    assert response.headers["Location"] == "/"


def test_public_pages_set_no_cookie(client):
    # No session, no CSRF token on public pages: they stay cacheable.
    assert "Set-Cookie" not in client.get("/").headers


def test_untrusted_host_is_refused(config, app_factory):
    config.TRUSTED_HOSTS = ["portal.example.kr"]
    app = app_factory(config)
    client = app.test_client()
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "portal.example.kr"}).status_code == 200


PEPPER = "p1:" + "q" * 40


def _production_env(**extra) -> dict:
    secrets_ = ("SECRET_KEY", "PORTAL_DATA_KEYS", "PORTAL_HASH_PEPPERS")
    env = {k: v for k, v in os.environ.items() if k not in secrets_}
    env.update({"PORTAL_ENV": "production", "DATABASE_URL": "sqlite:///:memory:"})
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("extra", "missing"),
    [
        ({}, "SECRET_KEY, PORTAL_DATA_KEYS and PORTAL_HASH_PEPPERS"),
        (
            {"PORTAL_DATA_KEYS": Fernet.generate_key().decode(), "PORTAL_HASH_PEPPERS": PEPPER},
            "needs SECRET_KEY in",
        ),
        ({"SECRET_KEY": "k" * 40, "PORTAL_HASH_PEPPERS": PEPPER}, "needs PORTAL_DATA_KEYS in"),
        (
            {"SECRET_KEY": "k" * 40, "PORTAL_DATA_KEYS": Fernet.generate_key().decode()},
            "needs PORTAL_HASH_PEPPERS in",
        ),
    ],
)
def test_production_refuses_to_start_without_secrets(extra, missing, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=_production_env(PORTAL_INSTANCE_PATH=str(tmp_path), **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr


def test_production_refuses_a_bad_data_key(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "sqlite:///:memory:")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("PORTAL_DATA_KEYS", "not-a-key")
    with pytest.raises(ConfigError, match="PORTAL_DATA_KEYS"):
        create_app(ProductionConfig)


def test_development_keeps_its_own_secrets(monkeypatch, tmp_path, app_factory):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_DATA_KEYS", raising=False)
    monkeypatch.delenv("PORTAL_HASH_PEPPERS", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/dev.sqlite3")
    first = app_factory("development")
    second = app_factory("development")
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["PORTAL_DATA_KEYS"] == second.config["PORTAL_DATA_KEYS"]
    assert first.config["PORTAL_HASH_PEPPERS"] == second.config["PORTAL_HASH_PEPPERS"]
    # The pepper is not derived from SECRET_KEY: changing one leaves the other.
    assert first.config["PORTAL_HASH_PEPPERS"][0][1] != first.config["SECRET_KEY"]
    for name in ("secret_key", "data_keys", "hash_peppers"):
        assert oct((tmp_path / name).stat().st_mode & 0o777) == "0o600"


@pytest.fixture
def production_app(monkeypatch, tmp_path, database_url, app_factory):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("PORTAL_TRUSTED_HOSTS", "localhost")
    # One process: these tests drive a single in-process app.
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("PORTAL_SINGLE_PROCESS", "1")
    return app_factory("production")


def test_production_cookie_flags_and_hsts(production_app):
    client = production_app.test_client()
    response = client.get("/login", base_url="https://localhost")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["Cache-Control"] == "no-store"


def test_production_logs_are_json_lines_without_secrets(production_app):
    import io

    stream = io.StringIO()
    production_app.logger.handlers[0].setStream(stream)
    client = production_app.test_client()
    client.get("/login?password=hunter2", base_url="https://localhost")
    err = stream.getvalue()
    line = next(row for row in err.splitlines() if '"path": "/login"' in row)
    import json

    entry = json.loads(line)
    assert re.fullmatch(r"[0-9a-f]{16}", entry["request_id"])
    assert "hunter2" not in err


def test_login_page_is_not_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "url", ["/privacy/versions/%00", "/privacy/diff?from=%00&to=x", "/notices?page=%00", "/%00"]
)
def test_nul_bytes_in_urls_are_a_clear_400(client, url):
    # PostgreSQL refuses NUL in text: without the guard these reached a query and gave 500.
    response = client.get(url)
    assert response.status_code == 400
    assert "잘못된 요청입니다" in response.get_data(as_text=True)


def test_nul_bytes_in_the_login_form_are_just_a_wrong_login(client, customer):
    from tests.conftest import post_form

    for login_id in ("\x00", customer.login_id + "\x00"):
        response = post_form(client, "/login", {"login_id": login_id, "password": "x" * 10})
        assert response.status_code == 200
        assert "아이디 또는 비밀번호가 올바르지 않습니다" in response.get_data(as_text=True)


def _config_from_environment(monkeypatch, config, **environ):
    """A testing config read from the environment, as a real process reads it; same database
    and keys as the ``config`` fixture, so customers made by the fixtures can sign in."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    cfg = portal_config.TestingConfig()
    for name in ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "SECRET_KEY"):
        setattr(cfg, name, getattr(config, name))
    cfg.PORTAL_DATA_KEYS = config.PORTAL_DATA_KEYS
    cfg.RATELIMIT_STORAGE_URI = "memory://"
    cfg.RATELIMIT_LOGIN = "3 per minute"
    return cfg


@pytest.mark.parametrize(("proxies", "seen"), [("1", "203.0.113.7"), ("0", "127.0.0.1")])
def test_session_ip_is_the_forwarded_client_only_behind_a_trusted_proxy(
    monkeypatch, config, app_factory, customer, db, proxies, seen
):
    from portal.auth.models import UserSession

    cfg = _config_from_environment(monkeypatch, config, PORTAL_TRUSTED_PROXIES=proxies)
    client = app_factory(cfg).test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    AuthActions(client).login(customer)
    assert db.session.scalars(select(UserSession.ip)).one() == seen


def test_rate_limit_keys_on_the_forwarded_client_behind_a_trusted_proxy(
    monkeypatch, config, app_factory
):
    cfg = _config_from_environment(monkeypatch, config, PORTAL_TRUSTED_PROXIES="1")
    client = app_factory(cfg).test_client()
    data = {"login_id": "someone", "password": "x" * 10}

    def attempt(ip: str) -> int:
        return post_form(client, "/login", data, headers={"X-Forwarded-For": ip}).status_code

    assert [attempt("203.0.113.7") for _ in range(4)] == [200, 200, 200, 429]
    assert attempt("198.51.100.9") == 200  # another client behind the same proxy


def test_forged_forwarded_for_is_ignored_without_a_trusted_proxy(monkeypatch, config, app_factory):
    cfg = _config_from_environment(monkeypatch, config, PORTAL_TRUSTED_PROXIES="0")
    client = app_factory(cfg).test_client()
    data = {"login_id": "someone", "password": "x" * 10}
    statuses = [
        post_form(client, "/login", data, headers={"X-Forwarded-For": f"203.0.113.{n}"})
        for n in range(4)
    ]
    # A new forged address per try buys nothing: the limit counts the real peer.
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]


@pytest.mark.parametrize("value", ["-1", "two"])
def test_trusted_proxies_must_be_a_count(monkeypatch, value):
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigError, match="PORTAL_TRUSTED_PROXIES"):
        portal_config.TestingConfig()


# Every id column is an INTEGER: 32 bits signed on PostgreSQL (64 on SQLite).
ID_MAX = 2**31 - 1
BEYOND = [ID_MAX, ID_MAX + 1, 2**63 - 1, 2**63, 10**40]


@pytest.mark.parametrize("number", BEYOND)
def test_public_ids_beyond_the_id_range_are_not_found(client, db, number):
    from portal.policy.models import Notice

    db.session.add(Notice(title="팝업 공지", body_md="본문", popup=True))
    db.session.commit()
    # Every <int:…> route stops at the id columns' range: 404, never a 500.
    assert client.get(f"/notices/{number}").status_code == 404
    dismissed = post_form(client, f"/notices/{number}/dismiss-today", {}, page="/")
    assert dismissed.status_code == 404


@pytest.mark.parametrize("number", BEYOND)
def test_signed_in_ids_beyond_the_id_range_are_not_found(client, auth, customer, number):
    auth.login(customer)
    assert client.get(f"/account/inquiries/{number}").status_code == 404
    ended = post_form(
        client, f"/account/security/sessions/{number}/end", {}, page="/account/security"
    )
    assert ended.status_code == 404


@pytest.mark.parametrize(
    "referer",
    [
        # The same host as the request, so the origin check gets as far as the port.
        "https://localhost:99999999/",
        "https://localhost:abc/",
        "https://localhost:-1/",
        "https://[::1/login",  # urlparse refuses this one outright
        "https://x:abc/",
    ],
)
def test_post_over_https_with_a_malformed_referer_is_a_csrf_failure(app, referer):
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    response = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": referer},
        data={"csrf_token": csrf_from(page), "login_id": "someone", "password": "x" * 10},
    )
    assert response.status_code == 400
    assert "보안 확인 정보가 없거나 만료되었습니다" in response.get_data(as_text=True)


def test_post_over_https_with_a_same_origin_referer_passes(app):
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    response = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={"csrf_token": csrf_from(page), "login_id": "someone", "password": "x" * 10},
    )
    assert response.status_code == 200
    assert "보안 확인 정보가" not in response.get_data(as_text=True)


def test_healthz_names_an_unreachable_rate_limit_store(config, app_factory, limiter_health):
    config.RATELIMIT_STORAGE_URI = UNREACHABLE_REDIS_URL
    response = app_factory(config).test_client().get("/healthz")
    # Still serving (sign-in falls back to per-worker limits), and saying so.
    assert response.status_code == 200
    assert response.get_data(as_text=True) == (
        "degraded: rate-limit storage unavailable (limits per worker)"
    )


def test_healthz_ok_with_redis(config, app_factory, redis_url):
    config.RATELIMIT_STORAGE_URI = redis_url
    response = app_factory(config).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


PRODUCTION_READY = {
    "SECRET_KEY": "k" * 40,
    "PORTAL_HASH_PEPPERS": PEPPER,
    "PORTAL_TRUSTED_HOSTS": "portal.example.kr",
    # Only read at start-up here; no request below reaches the rate-limit storage.
    "RATELIMIT_STORAGE_URI": UNREACHABLE_REDIS_URL,
}


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"PORTAL_TRUSTED_HOSTS": ""}, "PORTAL_TRUSTED_HOSTS"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "PORTAL_SINGLE_PROCESS=1"),
        ({"RATELIMIT_STORAGE_URI": ""}, "PORTAL_SINGLE_PROCESS=1"),  # memory:// by default
        (
            {"RATELIMIT_STORAGE_URI": "memory://", "PORTAL_SINGLE_PROCESS": "0"},
            "PORTAL_SINGLE_PROCESS=1",
        ),
    ],
)
def test_production_refuses_to_start_unsafe(change, complaint, tmp_path):
    env = _production_env(
        PORTAL_INSTANCE_PATH=str(tmp_path),
        PORTAL_DATA_KEYS=Fernet.generate_key().decode(),
        **{**PRODUCTION_READY, **change},
    )
    if "PORTAL_SINGLE_PROCESS" not in change:
        env.pop("PORTAL_SINGLE_PROCESS", None)
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("portal: configuration error: ")
    assert complaint in lines[0] and "refusing to start" in lines[0]


@pytest.mark.parametrize(
    "storage",
    [
        {"RATELIMIT_STORAGE_URI": UNREACHABLE_REDIS_URL},
        {"RATELIMIT_STORAGE_URI": "memory://", "PORTAL_SINGLE_PROCESS": "1"},
    ],
)
def test_production_starts_when_complete_with_a_host_only_session_cookie(
    monkeypatch, tmp_path, app_factory, limiter_health, storage
):
    for name, value in {
        **PRODUCTION_READY,
        **storage,
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "PORTAL_DATA_KEYS": Fernet.generate_key().decode(),
    }.items():
        monkeypatch.setenv(name, value)
    if "PORTAL_SINGLE_PROCESS" not in storage:
        monkeypatch.delenv("PORTAL_SINGLE_PROCESS", raising=False)
    app = app_factory(ProductionConfig)
    assert app.config["TRUSTED_HOSTS"] == ["portal.example.kr"]
    response = app.test_client().get("/login", base_url="https://portal.example.kr")
    assert response.status_code == 200
    (cookie,) = response.headers.getlist("Set-Cookie")
    # __Host-: the browser keeps it only if Secure, Path=/ and no Domain, so no sibling
    # host or plain-http page can plant or overwrite the session cookie.
    assert cookie.startswith("__Host-portal_session=")
    attributes = [part.strip() for part in cookie.split(";")]
    assert "Secure" in attributes and "Path=/" in attributes and "HttpOnly" in attributes
    assert not any(part.lower().startswith("domain=") for part in attributes)


@pytest.mark.parametrize("value", ["yes", "2"])
def test_single_process_is_a_flag(monkeypatch, value):
    monkeypatch.setenv("PORTAL_SINGLE_PROCESS", value)
    with pytest.raises(ConfigError, match="PORTAL_SINGLE_PROCESS"):
        portal_config.TestingConfig()


def _menu(html: str) -> str:
    return html[html.index('<nav class="main-nav"') : html.index("</nav>")]


def test_cached_menu_and_footer_follow_page_sign_in_and_language(client, auth, customer):
    """The menu and the footer are rendered once per language, sign-in state and endpoint
    (portal.templating.fragment): each page still gets its own."""
    home = client.get("/").get_data(as_text=True)
    assert 'href="/" aria-current="page"' in _menu(home)
    assert "/account" not in _menu(home)  # nobody signed in: no account links
    notices = client.get("/notices").get_data(as_text=True)
    assert 'aria-current="page"' not in _menu(notices)
    assert "개인정보 처리방침" in notices[notices.index('<footer class="site-footer">') :]

    auth.login(customer)
    dashboard = client.get("/account").get_data(as_text=True)
    assert 'href="/account" aria-current="page"' in _menu(dashboard)
    assert 'href="/" aria-current="page"' not in _menu(dashboard)
    billing = client.get("/billing").get_data(as_text=True)
    assert 'href="/billing" aria-current="page"' in _menu(billing)
    assert 'href="/account" aria-current="page"' not in _menu(billing)

    client.get("/language/en")
    english = client.get("/billing").get_data(as_text=True)
    assert 'href="/billing" aria-current="page">Billing</a>' in _menu(english)
    assert "요금·납부" not in _menu(english)
    footer = english[english.index('<footer class="site-footer">') :]
    assert "Privacy Policy" in footer
    assert "개인정보 처리방침" not in footer


def test_isodate_shows_a_stored_time_as_its_date_in_seoul():
    """A UTC time after 15:00 is already the next day in Seoul (the withdrawal page once
    showed the UTC date of a request made between 00:00 and 09:00 KST)."""
    from datetime import UTC, date, datetime

    from portal.templating import iso_date

    assert iso_date(datetime(2026, 11, 30, 15, 30, tzinfo=UTC)) == "2026-12-01"
    assert iso_date(datetime(2026, 11, 30, 14, 59, tzinfo=UTC)) == "2026-11-30"
    assert iso_date(date(2026, 11, 30)) == "2026-11-30"
    assert iso_date(None) == ""


def test_limits_are_checked_by_their_views_only_unless_a_wider_limit_exists(
    config, app_factory, monkeypatch
):
    from portal.extensions import limiter

    # The limiter is one object for every app of the process, and keeps the first default
    # limit it is given: put its (empty) defaults back after this test.
    monkeypatch.setattr(limiter.limit_manager, "_default_limits", [])

    config.RATELIMIT_LOGIN = "3 per minute"
    app = app_factory(config)
    # The portal's limits are all on views: no check before every request.
    assert limiter._check_request_limit not in app.before_request_funcs[None]
    client = app.test_client()
    data = {"login_id": "someone", "password": "x" * 10}
    statuses = [post_form(client, "/login", data).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # the view's own limit still holds

    # A default limit (every route) brings the check back, and it limits a page without one.
    config.RATELIMIT_DEFAULT = "2 per minute"
    limited = app_factory(config)
    assert limiter._check_request_limit in limited.before_request_funcs[None]
    pages = limited.test_client()
    assert [pages.get("/language/en").status_code for _ in range(3)] == [302, 302, 429]
