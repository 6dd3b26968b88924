"""CSRF over the wire, on every state-changing route, and no state change on GET.

The routes come from the URL map of the server's own application (production environment),
so a new POST route is walked without anyone listing it. ``tests/test_csrf_everywhere.py``
does the same in-process with plausible payloads; this file proves it on the real stack:
gunicorn, TLS, the ``__Host-`` cookies, a customer and a staff member signed in.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.security.live import Browser
from tests.security.web import (
    CSRF_PAGE,
    UNSAFE,
    build,
    changes,
    fresh_staff,
    query,
    rules,
    signed_in,
    snapshot,
    staff_signed_in,
)

FOREIGN = "https://evil.example/"

# Form data that a missing check would accept (the route would change something).
PAYLOADS = {
    "/account/inquiries": {"subject": "문의", "body": "위치가 안 보입니다."},
    "/account/corrections": {"field": "name", "value": "김바뀜", "reason": "개명"},
    "/account/rights": {"kind": "deletion", "detail": "삭제해 주세요."},
    "/account/withdraw": {"confirm": "y"},
    "/account/profile/edit": {"email": "changed@example.kr", "username": "바뀜"},
    "/admin/notices/new": {"title": "점검", "body": "점검합니다."},
    "/admin/staff/new": {"login_id": "csrfstaff", "name": "김직원", "role": "admin"},
}


@pytest.fixture(scope="module")
def people(live, accounts):
    """A signed-in customer and admin, and a second pair whose tokens are foreign to them."""
    customer, other_customer = accounts.card(), accounts.card()
    browser, other = Browser(live), Browser(live)
    browser.sign_in(customer)
    other.sign_in(other_customer)
    staff, other_staff = Browser(live), Browser(live)
    members = fresh_staff(live)
    staff.staff_sign_in(members["admin"])
    other_staff.staff_sign_in(members["privacy_officer"])
    session_id = query(
        live,
        "SELECT id FROM user_sessions WHERE customer_id = ? ORDER BY id DESC",
        (customer["id"],),
    )[0][0]
    values = {
        "session_id": session_id,
        "customer_id": customer["id"],
        "staff_id": members["support"]["id"],
    }
    return {
        "customer": (browser, other),
        "staff": (staff, other_staff),
        "values": values,
    }


def post_routes(live) -> list[tuple[object, str]]:
    found = [(rule, method) for rule in rules(live) for method in sorted(rule.methods & UNSAFE)]
    # If the walk finds none of these, it is reading the wrong map.
    endpoints = {rule.endpoint for rule, _ in found}
    assert {"auth.login", "account.inquiries", "admin.staff_new", "auth.logout"} <= endpoints
    return found


def _actor(people, rule):
    return people["staff"] if rule.rule.startswith("/admin") else people["customer"]


def _path(people, rule) -> str:
    return build(rule, {name: people["values"].get(name, 1) for name in rule.arguments})


def _refused(reply, what: str) -> None:
    assert reply.status == 400, f"{what}: {reply.status} {reply.location}, not refused"
    assert CSRF_PAGE in reply.body, f"{what}: 400, but not the CSRF page"


def _token(browser) -> str:
    page = browser.get("/admin/" if browser.cookies.get("__Host-portal_staff") else "/account")
    return page.csrf()


def test_every_post_route_refuses_a_missing_or_foreign_token(live, people):
    sent = 0
    for rule, method in post_routes(live):
        me, other = _actor(people, rule)
        path = _path(people, rule)
        payload = PAYLOADS.get(rule.rule, {})
        variants = {
            "no token": {},
            "another session's token": {"csrf_token": _token(other)},
            "a forged token": {"csrf_token": "IjAwMDAwMDAwMDAi.Zz.forged"},
        }
        for label, token in variants.items():
            what = f"{method} {path} with {label}"
            before = snapshot(live)
            reply = me.request(
                method,
                path,
                body=urlencode({**payload, **token}),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Referer": live.base + path,
                },
            )
            _refused(reply, what)
            assert not changes(before, snapshot(live)), f"{what}: the database changed"
            sent += 1
    browser, _ = people["customer"]
    staff, _ = people["staff"]
    assert signed_in(browser) and staff_signed_in(staff), "a refused request signed someone out"
    assert sent >= 3 * 40


@pytest.mark.parametrize(
    "referer",
    [
        FOREIGN,
        None,
        "http://{host}/login",  # the same host downgraded to plain HTTP
        "https://{host}.evil.example/login",
        "https://127.0.0.1:1/login",  # another port is another origin
    ],
)
def test_a_valid_token_with_a_foreign_or_no_referer_is_refused(live, people, referer):
    sent = 0
    for rule, _method in post_routes(live):
        me, _ = _actor(people, rule)
        path = _path(people, rule)
        data = {**PAYLOADS.get(rule.rule, {}), "csrf_token": _token(me)}
        what = f"POST {path} with Referer {referer!r}"
        before = snapshot(live)
        sent_referer = referer.format(host=live.host) if referer else None
        reply = me.post(path, data, referer=sent_referer)
        _refused(reply, what)
        assert not changes(before, snapshot(live)), f"{what}: the database changed"
        sent += 1
    assert sent >= 40


def test_the_same_token_with_a_same_origin_referer_is_accepted(live, accounts, browser):
    # The refusals above are about the token and the Referer, not a broken form: the very
    # same request with both right goes through.
    account = accounts.card()
    browser.sign_in(account)
    before = query(live, "SELECT COUNT(*) FROM inquiries WHERE customer_id = ?", (account["id"],))
    page = browser.get("/account/inquiries")
    reply = browser.post(
        "/account/inquiries", {"csrf_token": page.csrf(), **PAYLOADS["/account/inquiries"]}
    )
    assert reply.status == 302, (reply.status, reply.body[:300])
    after = query(live, "SELECT COUNT(*) FROM inquiries WHERE customer_id = ?", (account["id"],))
    assert after[0][0] == before[0][0] + 1


# --- GET never changes state -----------------------------------------------------------------


# GETs that may write, and only these tables: each draws a one-time secret it must show and
# later check (the OTP key being enrolled, a sign-in's card challenge). Their forms still need
# a POST with a token to change anything the customer has.
GET_WRITES = {
    "/account/security/otp": {"otp_credentials"},
}


def _get_values(live, people) -> dict[str, object]:
    values = dict(people["values"])
    first = lambda sql: (query(live, sql) or [(1,)])[0][0]  # noqa: E731
    values.update(
        notice_id=first("SELECT id FROM notices ORDER BY id"),
        label=first("SELECT label FROM policy_versions ORDER BY id"),
        lang="en",
        token="not-a-real-reset-token",
        filename="css/portal.css",
    )
    return values


def test_no_get_changes_state(live, people, new_browser):
    """Every GET rule, as a customer, as an admin and anonymously: the database is as it was,
    but for logs (security events, the staff access log) and sessions' "last seen"."""
    values = _get_values(live, people)
    customer, _ = people["customer"]
    staff, _ = people["staff"]
    anonymous = new_browser()
    visited = 0
    for rule in rules(live):
        if "GET" not in rule.methods:
            continue
        path = build(rule, {name: values.get(name, 1) for name in rule.arguments})
        # One snapshot per rule for its three visitors keeps the walk fast; a failure names
        # the rule, and its three GETs are few enough to tell apart by hand.
        before = snapshot(live)
        for who, browser in (("customer", customer), ("staff", staff), ("anonymous", anonymous)):
            reply = browser.get(path)
            assert reply.status < 500, f"{who} GET {path}: {reply.status}"
            visited += 1
        changed = {table for table, _, _ in changes(before, snapshot(live))}
        allowed = GET_WRITES.get(rule.rule, set())
        assert changed <= allowed, f"GET {path} changed {sorted(changed - allowed)}"
    assert visited >= 3 * 60
    assert signed_in(customer) and staff_signed_in(staff)
