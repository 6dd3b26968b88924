"""Open redirects, and forged Host / X-Forwarded-* headers: no Location or link off the site.

Every place that takes a return address (``next`` on sign-in, re-authentication, the
language switch, the idle warning's "extend", the staff re-authentication) is sent the
classic payloads; the answer must be a plain local path. ``portal.security.safe_next_url``
is the one defence; these tests hold whichever view forgets to call it.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet, MultiFernet

from tests.security.live import Browser
from tests.security.web import EVIL, assert_local, assert_no_offsite_links, fresh_staff, query

# Each as the server will read it (quoted on the way out, so the server decodes exactly this).
PAYLOADS = [
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/%2F/evil.example",  # what a double-decoding proxy would turn into //
    "%2F%2Fevil.example",
    "\t//evil.example",
    " //evil.example",
    "/\t/evil.example",
    "/ /evil.example",
    "\n//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://evil.example",
    "https:evil.example",
    "http:/evil.example",
    "//evil.example@127.0.0.1/",
    "https://127.0.0.1@evil.example/",
    "/.evil.example",  # fine if kept: a local path; must not become a host
    "\u3000//evil.example",  # an ideographic space, which some browsers strip
    "/\u2215evil.example",  # a division slash
]


def _q(payload: str) -> str:
    return quote(payload, safe="")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_language_switch_never_redirects_off_site(browser, lang):
    for payload in PAYLOADS:
        reply = browser.get(f"/language/{lang}?next={_q(payload)}")
        assert reply.status == 302, (payload, reply.status)
        assert_local(reply.location, f"/language/{lang}?next={payload!r}")
    # A raw, unquoted payload too (what a hand-made link would send).
    reply = browser.get("/language/ko?next=//evil.example")
    assert_local(reply.location, "raw //evil.example")
    # A local return address is kept: the defence is a check, not a blanket default.
    assert browser.get("/language/ko?next=/notices").location == "/notices"


def test_sign_in_next_never_leaves_the_site(live, accounts, new_browser):
    account = accounts.card()
    for payload in [*PAYLOADS, "/billing"]:
        browser = new_browser()
        path = f"/login?next={_q(payload)}"
        form = browser.get(path)
        assert form.status == 200
        # The form must not carry the payload into its own action either.
        assert_no_offsite_links(form.body, f"sign-in page next={payload!r}")
        first = browser.post(
            path,
            {
                "csrf_token": form.csrf(),
                "login_id": account["login_id"],
                "password": account["password"],
                "next": payload,
            },
        )
        assert first.status == 302 and first.location == "/login/verify", payload
        second = browser.card_step(account)
        assert second.status == 302, (payload, second.status)
        assert_local(second.location, f"sign-in next={payload!r}")
        if payload == "/billing":
            assert second.location == "/billing"  # a local next is honoured


def test_reauth_and_extend_never_redirect_off_site(accounts, browser):
    account = accounts.card()
    browser.sign_in(account)
    for payload in PAYLOADS:
        # The same session from a new address: re-authentication is rate-limited per address.
        browser = Browser(browser.server, cookies=browser.cookies)
        page = browser.get(f"/reauth?next={_q(payload)}")
        assert page.status == 200
        assert_no_offsite_links(page.body, f"re-auth page next={payload!r}")
        reply = browser.post(
            f"/reauth?next={_q(payload)}",
            {"csrf_token": page.csrf(), "password": account["password"], "next": payload},
        )
        assert reply.status == 302, (payload, reply.status)
        assert_local(reply.location, f"/reauth next={payload!r}")
        extend = browser.post(
            "/account/session/extend", {"csrf_token": page.csrf(), "next": payload}
        )
        assert extend.status == 302, (payload, extend.status)
        assert_local(extend.location, f"extend next={payload!r}")


def test_staff_reauth_never_redirects_off_site(live, browser):
    staff = fresh_staff(live)["billing"]
    browser.staff_sign_in(staff)
    for payload in [*PAYLOADS, "/account"]:
        browser = Browser(browser.server, cookies=browser.cookies)
        page = browser.get(f"/admin/reauth?next={_q(payload)}")
        assert page.status == 200, (payload, page.status)
        assert_no_offsite_links(page.body, f"staff re-auth page next={payload!r}")
        reply = browser.post(
            f"/admin/reauth?next={_q(payload)}",
            {"csrf_token": page.csrf(), "password": staff["password"], "next": payload},
        )
        assert reply.status == 302, (payload, reply.status)
        assert_local(reply.location, f"/admin/reauth next={payload!r}")
        assert reply.location.startswith("/admin"), "staff re-auth sent outside the back office"


# --- forged Host and X-Forwarded-* (PORTAL_TRUSTED_PROXIES=0 on the live server) ------------


@pytest.mark.parametrize(
    "host",
    [EVIL, f"{EVIL}:443", "127.0.0.1.evil.example", "localhost", "127.0.0.1@evil.example"],
)
def test_a_forged_host_is_refused(browser, host):
    for path in ("/", "/login", "/account", "/nope", "/language/en?next=/"):
        reply = browser.get(path, headers={"Host": host})
        assert reply.status == 400, (host, path, reply.status)
        assert EVIL not in reply.body and EVIL not in reply.location


FORWARDED = {
    "X-Forwarded-Host": EVIL,
    "X-Forwarded-Proto": "http",
    "X-Forwarded-Port": "8080",
    "X-Forwarded-Prefix": "/evil.example",
    "X-Forwarded-For": "203.0.113.9",
    "X-Real-IP": "203.0.113.9",
    "Forwarded": f"for=203.0.113.9;host={EVIL};proto=http",
}


def test_forwarded_headers_are_ignored_without_trusted_proxies(live, accounts, browser):
    """Not refused but ignored: never in a link, a redirect or a cookie's attributes, and the
    address recorded is the real peer's."""
    account = accounts.card()
    for path in ("/", "/login", "/account", "/language/en?next=/notices", "/privacy"):
        reply = browser.get(path, headers=FORWARDED)
        assert reply.status in (200, 302), (path, reply.status)
        assert EVIL not in reply.body and EVIL not in reply.location, path
        assert "8080" not in reply.location and "http:" not in reply.location
    browser.get("/language/ko")
    form = browser.get("/login", headers=FORWARDED)
    reply = browser.post(
        "/login",
        {
            "csrf_token": form.csrf(),
            "login_id": account["login_id"],
            "password": account["password"],
        },
        headers=FORWARDED,
    )
    assert reply.status == 302 and reply.location == "/login/verify"
    assert all("Secure" in line for line in reply.set_cookies)  # X-Forwarded-Proto ignored
    browser.card_step(account)
    recorded = query(
        live,
        "SELECT DISTINCT ip FROM security_events WHERE customer_id = ?",
        (account["id"],),
    )
    assert recorded and {ip for (ip,) in recorded} == {browser.address}, recorded


def test_forwarded_proto_does_not_relax_the_https_referer_check(live, browser):
    # With X-Forwarded-Proto honoured, a plain-HTTP Referer would pass Flask-WTF's strict
    # same-origin check; it is not honoured, so it must not.
    form = browser.get("/login")
    reply = browser.post(
        "/login",
        {"csrf_token": form.csrf(), "login_id": "nobody", "password": "x"},
        referer=f"http://{live.host}/login",
        headers={"X-Forwarded-Proto": "http"},
    )
    assert reply.status == 400


def _mail_texts(live, customer_id: int) -> list[str]:
    keys = MultiFernet([Fernet(k.encode()) for k in live.env["PORTAL_DATA_KEYS"].split(",")])
    rows = query(
        live,
        "SELECT content_encrypted FROM mail_outbox WHERE customer_id = ? ORDER BY id",
        (customer_id,),
    )
    return [keys.decrypt(bytes(content)).decode() for (content,) in rows if content]


def test_reset_mail_links_ignore_forged_forwarded_host(live, accounts, browser):
    account = accounts.otp()
    form = browser.get("/login/forgot-password")
    reply = browser.post(
        "/login/forgot-password",
        {"csrf_token": form.csrf(), "login_id": account["login_id"]},
        headers=FORWARDED,
    )
    assert reply.status in (200, 302), reply.status
    texts = _mail_texts(live, account["id"])
    assert texts, "no reset mail queued"
    body = json.dumps(texts, ensure_ascii=False)
    assert "/login/reset/" in body
    assert EVIL not in body and "http://" not in body, body[:500]
    assert f"https://{live.host.split(':')[0]}" in body  # PORTAL_BASE_URL, not the request
