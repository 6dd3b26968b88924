"""Two hosts: two gunicorns on different ports, production configuration over HTTPS, the
same secrets, one PostgreSQL and one Redis, as behind a load balancer that does not pin a
browser to a host.

A session made through one host works through the other, logging out through one ends it on
both, the account lockout (counted in the database) and the per-IP rate limit (counted in
Redis) reached through one host hold on the other, and a notice published elsewhere reaches
both hosts' memory-served public pages within seconds. Needs PostgreSQL and Redis: skipped
without them, a failure under REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import http.client
import re
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import redis
from cryptography.fernet import Fernet

from portal.config import format_hash_peppers, parse_hash_peppers
from tests.conftest import CHALLENGE_RE, CSRF_RE, REQUIRE_POSTGRES, TEST_REDIS_URL
from tests.livehost import gunicorn
from tests.security.live import self_signed as _self_signed

# Every host gets the same secrets, and so do the customers the test makes in-process.
SECRET_KEY = "two-hosts-" + "s" * 40
DATA_KEY = Fernet.generate_key().decode()
PEPPERS = parse_hash_peppers("h1:" + "p" * 40, "test")
COOKIE = "__Host-portal_session"
LOGIN_LIMIT = 10  # RATELIMIT_LOGIN: 10 POSTs a minute per IP to each sign-in form


@dataclass
class Hosts:
    a: int
    b: int
    context: ssl.SSLContext


@pytest.fixture(scope="module")
def two_hosts(database, tmp_path_factory):
    kind, url = database
    if kind != "postgresql":
        pytest.skip("two hosts share a PostgreSQL database (this is the SQLite run)")
    if not TEST_REDIS_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_REDIS_URL is not set: two hosts need Redis")
        pytest.skip("TEST_REDIS_URL not set")
    tmp = tmp_path_factory.mktemp("two_hosts")
    cert, key = _self_signed(tmp)
    env = {
        "PORTAL_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "PORTAL_DATA_KEYS": DATA_KEY,
        "PORTAL_HASH_PEPPERS": format_hash_peppers(PEPPERS),
        "PORTAL_TRUSTED_HOSTS": "127.0.0.1",
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL,
        "PORTAL_SINGLE_PROCESS": "0",
        "BCRYPT_ROUNDS": "4",
    }
    with (
        gunicorn(
            {**env, "PORTAL_INSTANCE_PATH": str(tmp / "a")}, tmp / "a.log",
            target="wsgi:app", tls=(cert, key),
        ) as a,
        gunicorn(
            {**env, "PORTAL_INSTANCE_PATH": str(tmp / "b")}, tmp / "b.log",
            target="wsgi:app", tls=(cert, key),
        ) as b,
    ):  # fmt: skip
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        yield Hosts(a, b, context)


@pytest.fixture(autouse=True)
def same_secrets(config):
    """Customers made in-process open with the hosts' data keys; counters start at zero."""
    config.SECRET_KEY = SECRET_KEY
    config.PORTAL_DATA_KEYS = [DATA_KEY]
    config.PORTAL_HASH_PEPPERS = PEPPERS
    if TEST_REDIS_URL:
        client = redis.Redis.from_url(TEST_REDIS_URL)
        client.flushdb()  # this run's own Redis database: the rate-limit windows
        client.close()


@dataclass
class Reply:
    status: int
    location: str
    body: str
    headers: list[tuple[str, str]]


class Browser:
    """One browser whose requests a balancer sends to either host: one cookie jar."""

    def __init__(self, hosts: Hosts) -> None:
        self.hosts = hosts
        self.cookies: dict[str, str] = {}

    def request(self, port: int, method: str, path: str, data: dict | None = None) -> Reply:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=60, context=self.hosts.context
        )
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # Browsers send a same-origin Referer over HTTPS; the CSRF check insists on it.
            headers["Referer"] = f"https://127.0.0.1{path}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            all_headers = response.getheaders()
        finally:
            conn.close()
        for name, value in all_headers:
            if name.lower() != "set-cookie":
                continue
            cookie_name, _, rest = value.partition("=")
            cookie_value = rest.split(";", 1)[0]
            if "max-age=0" in value.lower() or not cookie_value:
                self.cookies.pop(cookie_name, None)
            else:
                self.cookies[cookie_name] = cookie_value
        return Reply(response.status, response.getheader("Location") or "", text, all_headers)

    def form(self, port: int, path: str) -> tuple[str, str]:
        reply = self.request(port, "GET", path)
        assert reply.status == 200, (path, reply.status, reply.location)
        match = CSRF_RE.search(reply.body)
        assert match, f"no csrf_token on {path}"
        return match[1], reply.body

    def password(self, port: int, login_id: str, password: str) -> Reply:
        token, _ = self.form(port, "/login")
        form = {"csrf_token": token, "login_id": login_id, "password": password}
        return self.request(port, "POST", "/login", form)

    def sign_in(self, port: int, customer) -> None:
        """Password then card, both through ``port``."""
        assert self.password(port, customer.login_id, customer.password).status == 302
        token, html = self.form(port, "/login/verify")
        first, last = (int(n) for n in CHALLENGE_RE.search(html).groups())
        code_first, code_last = customer.card_answer(first, last)
        reply = self.request(
            port,
            "POST",
            "/login/verify",
            {"csrf_token": token, "code_first": code_first, "code_last": code_last},
        )
        assert reply.status == 302 and reply.location.endswith("/account"), reply


def _signed_in(browser: Browser, port: int) -> bool:
    reply = browser.request(port, "GET", "/account")
    if reply.status == 200:
        return True
    assert reply.status == 302 and "/login" in reply.location, reply.status
    return False


def test_a_session_made_on_one_host_works_on_the_other(two_hosts, customer):
    browser = Browser(two_hosts)
    browser.sign_in(two_hosts.a, customer)
    assert COOKIE in browser.cookies
    assert _signed_in(browser, two_hosts.b)
    # Not only reading: a form served by one host is accepted by the other (one CSRF token,
    # bound to the session both share).
    token, _ = browser.form(two_hosts.a, "/account/profile")
    reply = browser.request(
        two_hosts.b, "POST", "/account/session/extend", {"csrf_token": token, "next": "/account"}
    )
    assert reply.status == 302 and reply.location.endswith("/account"), reply.status
    assert _signed_in(browser, two_hosts.a)


def test_logout_on_one_host_ends_the_session_on_both(two_hosts, customer):
    browser = Browser(two_hosts)
    browser.sign_in(two_hosts.b, customer)
    stolen = dict(browser.cookies)  # a copy of the cookie, kept by someone else
    assert _signed_in(browser, two_hosts.a)
    token, _ = browser.form(two_hosts.a, "/account")
    assert browser.request(two_hosts.a, "POST", "/logout", {"csrf_token": token}).status == 302
    replay = Browser(two_hosts)
    replay.cookies = stolen
    assert not _signed_in(replay, two_hosts.b)
    assert not _signed_in(replay, two_hosts.a)
    assert not _signed_in(browser, two_hosts.b)


def test_a_lockout_reached_through_one_host_holds_on_the_other(two_hosts, customer):
    browser = Browser(two_hosts)
    for _ in range(5):  # PORTAL_LOGIN_MAX_FAILURES, all through host A
        reply = browser.password(two_hosts.a, customer.login_id, "Wrong-password-123!")
        assert reply.status == 200
    assert "계정이 잠겼습니다" in reply.body
    # The right password through host B meets the same lock.
    reply = browser.password(two_hosts.b, customer.login_id, customer.password)
    assert reply.status == 200 and "계정이 잠겼습니다" in reply.body
    assert not _signed_in(browser, two_hosts.b)


def test_a_rate_limit_reached_through_one_host_holds_on_the_other(two_hosts):
    # A fixed window of one minute: start early in one, so that all the posts share it.
    if time.time() % 60 > 40:
        time.sleep(61 - time.time() % 60)
    browser = Browser(two_hosts)
    token, _ = browser.form(two_hosts.a, "/login")
    form = {"csrf_token": token, "login_id": "nobody_here", "password": "Whatever-123!"}
    statuses = [
        browser.request(two_hosts.a, "POST", "/login", form).status for _ in range(LOGIN_LIMIT)
    ]
    assert 429 not in statuses, statuses
    refused = browser.request(two_hosts.b, "POST", "/login", form)
    assert refused.status == 429
    assert re.fullmatch(r"\d+", dict(refused.headers).get("Retry-After", ""))


def test_a_notice_published_elsewhere_shows_on_every_host_within_seconds(two_hosts, app, db):
    # Each host keeps its anonymous pages in memory (portal.pagecache, portal.frontcache)
    # and re-reads the shared content version every PORTAL_CONTENT_VERSION_SECONDS (2 by
    # default): a notice published anywhere reaches every host's visitors within that.
    from portal.policy.notices import post_notice

    visitor = Browser(two_hosts)  # no cookies: served from memory once kept
    title = f"두 서버 공지 {time.monotonic_ns()}"
    for port in (two_hosts.a, two_hosts.b):
        for _ in range(3):
            assert title not in visitor.request(port, "GET", "/notices").body
    post_notice(title=title, body_md="본문")
    db.session.commit()  # another process: neither host is told
    published = time.monotonic()
    waited = {}
    for port in (two_hosts.a, two_hosts.b):
        while title not in visitor.request(port, "GET", "/notices").body:
            assert time.monotonic() - published < 10, f"host {port} still shows the old board"
            time.sleep(0.1)
        waited[port] = time.monotonic() - published
    # The TTL plus a request's time; generous for a loaded CI machine.
    assert max(waited.values()) < 6, waited
