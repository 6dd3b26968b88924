"""Access control over the wire: IDOR on every ID-bearing customer URL, mass assignment on the
forms that write records, and the staff back office kept apart from customers and by role.

The in-process permission matrix (``tests/admin/test_permission_matrix.py``) checks every
role on every endpoint; here a sample runs on the real stack, with the access log read from
the server's own database.
"""

from __future__ import annotations

import re

import pytest

from portal.admin.permissions import ATTRIBUTE, PUBLIC
from tests.security.live import SESSION_COOKIE, STAFF_COOKIE, Browser
from tests.security.web import (
    ARGUMENT_RE,
    build,
    changes,
    fresh_staff,
    production_app,
    query,
    rules,
    snapshot,
)

# URL arguments that name no customer's record: public content, a language, a static file,
# and a reset link's token (a secret, not an ID: guessing one is the enumeration suite's job).
NOT_OWNED = {"notice_id", "label", "lang", "filename", "token"}
MARKER = "IDOR-마커-7q2"
AMOUNT = "987650"  # an invoice amount no other test uses, to spot it in a page


@pytest.fixture(scope="module")
def owner(live, accounts):
    """Customer A with one of each owned record, signed in; and B, signed in, who wants them."""
    a, b = accounts.card(), accounts.card()
    browser_a, browser_b = Browser(live), Browser(live)
    browser_a.sign_in(a)
    browser_b.sign_in(b)
    assert (
        browser_a.submit(
            "/account/inquiries", {"subject": MARKER, "body": f"{MARKER} 본문입니다."}
        ).status
        == 302
    )
    assert (
        browser_a.submit("/account/rights", {"kind": "suspension", "detail": MARKER}).status == 302
    )
    invoice = live.flask(
        "billing", "add-invoice", "--login-id", a["login_id"], "--amount", AMOUNT,
        "--due", "2026-12-25", "--json",
    )  # fmt: skip
    assert invoice.returncode == 0, invoice.stderr
    ids = {
        "invoice_id": int(re.search(r'"invoice_id": (\d+)', invoice.stdout)[1]),
        "inquiry_id": query(live, "SELECT id FROM inquiries WHERE customer_id = ?", (a["id"],))[0][
            0
        ],
        "request_id": query(
            live, "SELECT id FROM rights_requests WHERE customer_id = ?", (a["id"],)
        )[0][0],
        "session_id": query(live, "SELECT id FROM user_sessions WHERE customer_id = ?", (a["id"],))[
            0
        ][0],
    }
    return {"a": a, "b": b, "browser_a": browser_a, "browser_b": browser_b, "ids": ids}


def customer_id_routes(live) -> list[tuple[object, str]]:
    found = []
    for rule in rules(live):
        if rule.rule.startswith("/admin") or not rule.arguments:
            continue
        if rule.arguments <= NOT_OWNED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return found


def _leaks(body: str, a: dict) -> list[str]:
    return [s for s in (MARKER, AMOUNT, f"{int(AMOUNT):,}", a["login_id"]) if s in body and s != ""]


def test_a_customer_cannot_reach_another_customers_records(live, owner):
    routes = customer_id_routes(live)
    endpoints = {rule.endpoint for rule, _ in routes}
    assert {"billing.invoice", "account.inquiry", "auth.end_session"} <= endpoints, endpoints
    a, ids = owner["a"], owner["ids"]
    browser_a, browser_b = owner["browser_a"], owner["browser_b"]
    for rule, method in routes:
        path = build(rule, ids)  # fails for an ID-bearing route this test does not know
        what = f"B {method} {path} (A's)"
        before = snapshot(live)
        if method == "GET":
            reply = browser_b.get(path)
        else:
            reply = browser_b.post(path, {"csrf_token": browser_b.get("/account").csrf()})
        assert reply.status in (403, 404), f"{what}: {reply.status} {reply.location}"
        assert not _leaks(reply.body, a), f"{what}: shows {_leaks(reply.body, a)}"
        assert not changes(before, snapshot(live)), f"{what}: changed something"
    # A's records were real, and A still holds them: the 404s were not for want of a record.
    for rule, _method in routes:
        if rule.endpoint in ("billing.invoice", "account.inquiry"):
            mine = browser_a.get(build(rule, ids))
            assert mine.status == 200, (rule.rule, mine.status)
            assert _leaks(mine.body, a), f"A's own {rule.rule} shows none of A's data"
    assert browser_a.get("/account").status == 200  # B's "end session" did not end A's
    status = query(live, "SELECT status FROM rights_requests WHERE id = ?", (ids["request_id"],))
    assert status == [("open",)]


def test_customer_ids_on_the_wire_do_not_open_other_records(live, owner, accounts, browser):
    # Guessing around A's ids (the neighbours belong to others or to no one) finds nothing.
    c = accounts.card()
    browser.sign_in(c)
    for name, template in (
        ("invoice_id", "/billing/invoices/{}"),
        ("invoice_id", "/billing/invoices/{}/tax-invoice"),
        ("inquiry_id", "/account/inquiries/{}"),
    ):
        for guess in range(max(1, owner["ids"][name] - 3), owner["ids"][name] + 4):
            reply = browser.get(template.format(guess))
            assert reply.status == 404, (template, guess, reply.status)


# --- mass assignment -----------------------------------------------------------------------

EXTRAS = {
    "id": "1",
    "customer_id": "1",
    "login_id": "admin",
    "login_id_id": "1",
    "role": "admin",
    "status": "answered",
    "is_admin": "1",
    "balance": "0",
    "email_verified": "1",
    "name": "관리자",
    "birth_date": "1900-01-01",
    "member_type": "overseas",
    "customer_type": "business",
    "must_activate": "1",
    "second_factor": "otp",
    "failed_logins": "0",
    "locked_until": "",
    "password_hash": "$2b$04$forged",
    "answer": "forged answer",
    "staff_id": "1",
    "created_at": "2000-01-01",
}


def _changed(before, after) -> set[tuple[str, str]]:
    return {(table, column) for table, _, column in changes(before, after)}


def test_profile_edit_changes_only_its_own_fields(live, accounts, browser):
    a, b = accounts.card(), accounts.card()
    browser.sign_in(a)
    page = browser.get("/account/profile/edit")
    version = re.search(r'name="version" value="(\d+)"', page.body)[1]
    before = snapshot(live)
    data = {
        **EXTRAS,
        "customer_id": str(b["id"]),
        "csrf_token": page.csrf(),
        "email": "mass@example.kr",
        "phone": "010-3333-4444",
        "postal_code": "04524",
        "address": "서울 중구 세종대로 110",
        "username": "대량할당",
        "version": version,
    }
    reply = browser.post("/account/profile/edit", data)
    assert reply.status == 302, (reply.status, reply.body[:400])
    changed = changes(before, snapshot(live))
    customers = {(key, column) for table, key, column in changed if table == "customers"}
    allowed_columns = {"email", "phone", "username", "updated_at", "version", "field_sources"}
    assert {key for key, _ in customers} == {a["id"]}, customers  # B's row untouched
    assert {column for _, column in customers} <= allowed_columns, customers
    others = {table for table, _, _ in changed} - {"customers", "mail_outbox"}
    assert not others, f"the profile edit changed {others}"


def test_inquiry_correction_and_rights_forms_take_no_extra_fields(live, accounts, browser):
    a, b = accounts.card(), accounts.card()
    browser.sign_in(a)
    extras = {**EXTRAS, "customer_id": str(b["id"])}
    for path, fields in (
        ("/account/inquiries", {"subject": "질문", "body": "본문"}),
        ("/account/corrections", {"field": "name", "value": "김정정", "reason": "개명"}),
        ("/account/rights", {"kind": "deletion", "detail": "삭제 요청"}),
    ):
        before = snapshot(live)
        page = browser.get(path)
        reply = browser.post(path, {**extras, **fields, "csrf_token": page.csrf()})
        assert reply.status == 302, (path, reply.status, reply.body[:300])
        changed = changes(before, snapshot(live))
        added = [(t, k) for t, k, c in changed if c == "+" and t != "mail_outbox"]
        assert len(added) == 1, (path, changed)
        table, key = added[0]
        row = query(live, f'SELECT * FROM "{table}" WHERE id = ?', (key,))
        columns = [r[1] for r in query(live, f'PRAGMA table_info("{table}")')]
        record = dict(zip(columns, row[0], strict=True))
        assert record["customer_id"] == a["id"], (path, record)
        assert record.get("status") in (None, "open", "pending"), (path, record)
        assert "forged" not in repr(record), (path, record)
        assert not [c for t, _, c in changed if c not in ("+",) and t != "mail_outbox"], changed


def _owner_of(table: str, row: dict) -> object:
    if table == "customers":
        return row["id"]
    return row.get("customer_id", "no owner column")


def assert_only_own_rows(live, before, after, a: dict, b: dict, what: str) -> None:
    """Every row changed belongs to A (or to no customer, e.g. A's retired login ID); none of
    B's rows moved, and B is still signed in (checked by the caller)."""
    for table, key, column in changes(before, after):
        row = after.get(table, {}).get(key) or before.get(table, {}).get(key)
        owner = _owner_of(table, row)
        assert owner != b["id"], f"{what}: changed B's {table} row {key} ({column})"
        assert owner in (a["id"], None, "no owner column"), (what, table, key, column, owner)
    b_rows = query(live, "SELECT * FROM customers WHERE id = ?", (b["id"],))
    assert b_rows and b_rows == [tuple(before["customers"][b["id"]].values())], what


def test_payment_method_takes_no_extra_fields(live, accounts, new_browser):
    a, b = accounts.card(), accounts.card()
    browser, other = new_browser(), new_browser()
    browser.sign_in(a)
    other.sign_in(b)
    before = snapshot(live)
    page = browser.get("/billing/payment-method")
    assert page.status == 200, (page.status, page.location)
    data = {
        **EXTRAS,
        "customer_id": str(b["id"]),
        "csrf_token": page.csrf(),
        "kind": "auto_debit",
        "holder_name": "김보안",
        "holder_birth_date": "1990-01-01",
        "bank_code": "004",
        "account_number": "110-2345-678901",
        "phone": "010-1234-5678",
        "email": "pay@example.kr",
    }
    reply = browser.post("/billing/payment-method", data)
    assert reply.status == 302, (reply.status, reply.body[:300])
    after = snapshot(live)
    assert any(t == "payment_methods" for t, _, _ in changes(before, after)), "nothing saved"
    assert_only_own_rows(live, before, after, a, b, "payment method")
    assert other.get("/account").status == 200


def test_withdrawal_takes_no_extra_fields(live, accounts, new_browser):
    a, b = accounts.card(), accounts.card()
    browser, other = new_browser(), new_browser()
    browser.sign_in(a)
    other.sign_in(b)
    before = snapshot(live)
    page = browser.get("/account/withdraw")
    data = {
        **EXTRAS,
        "customer_id": str(b["id"]),
        "login_id": b["login_id"],
        "csrf_token": page.csrf(),
        "password": a["password"],
        "confirm": "y",
    }
    reply = browser.post("/account/withdraw", data)
    assert reply.status == 302, (reply.status, reply.body[:300])
    after = snapshot(live)
    assert changes(before, after), "the withdrawal changed nothing"
    assert_only_own_rows(live, before, after, a, b, "withdrawal")
    assert other.get("/account").status == 200, "B's session ended by A's withdrawal"
    assert browser.get("/account").status == 302  # A's own withdrawal did happen


def test_staff_forms_take_no_extra_fields(live, browser):
    staff = fresh_staff(live)
    admin = staff["admin"]
    browser.staff_sign_in(admin)
    login_id = f"ma{staff['support']['login_id'][2:8]}"
    data = {
        **EXTRAS,
        "login_id": login_id,
        "name": "김대량",
        "role": "support",
        "password": "",
        "password_changed_at": "2000-01-01",
        "otp_secret_encrypted": "AAAA",
        "must_change_password": "0",
    }
    page = browser.get("/admin/staff/new")
    if page.status == 302 and "/admin/reauth" in page.location:
        reauth = browser.get(page.location)
        browser.post(page.location, {"csrf_token": reauth.csrf(), "password": admin["password"]})
        page = browser.get("/admin/staff/new")
    assert page.status == 200, (page.status, page.location)
    reply = browser.post("/admin/staff/new", {**data, "csrf_token": page.csrf()})
    assert reply.status in (200, 302), (reply.status, reply.body[:300])
    row = query(
        live,
        "SELECT role, must_change_password, password_changed_at FROM staff WHERE login_id = ?",
        (login_id,),
    )
    assert row, "the staff account was not created"
    role, must_change, changed_at = row[0]
    assert role == "support" and must_change in (1, True), row
    assert not str(changed_at).startswith("2000"), row
    # A support member posting a role to their own password form stays support.
    support = staff["support"]
    other = Browser(live)
    other.staff_sign_in(support)
    page = other.get("/admin/password")
    other.post(
        "/admin/password",
        {
            **EXTRAS,
            "csrf_token": page.csrf(),
            "current_password": support["password"],
            "new_password": "x",
            "new_password_confirm": "y",
        },
    )
    assert query(live, "SELECT role FROM staff WHERE id = ?", (support["id"],)) == [("support",)]


# --- staff isolation ---------------------------------------------------------------------


# The roles table of docs/PRODUCT.md, copied here on purpose: checking the server against
# portal.admin.permissions itself would pass whatever that table said.
GRANTED = {
    "support": {
        "self", "home", "customers.search", "customers.view", "customers.register",
        "cards.issue", "inquiries.answer", "corrections.process",
    },
    "billing": {
        "self", "home", "customers.search", "customers.view", "withdrawals.process",
        "billing.import",
    },
    "privacy_officer": {
        "self", "home", "customers.search", "customers.view", "corrections.process",
        "disclosures.record", "notices.publish", "policy.revise", "access_log.review",
    },
}  # fmt: skip


def allowed(role: str, permission: str) -> bool:
    return permission in GRANTED[role]


def _denials(live, staff_id: int) -> list[str]:
    return [
        fields
        for (fields,) in query(
            live,
            "SELECT fields FROM access_records WHERE staff_id = ? AND action = 'denied' "
            "ORDER BY seq",
            (staff_id,),
        )
    ]


def admin_get_routes(live) -> list[tuple[str, str, str]]:
    app = production_app(live)
    found = []
    for rule in rules(live):
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods:
            continue
        permission = getattr(app.view_functions[rule.endpoint], ATTRIBUTE, None)
        assert permission, f"{rule.endpoint} declares no permission"
        if permission == PUBLIC:
            continue
        values = {m["name"]: 999999 for m in ARGUMENT_RE.finditer(rule.rule)}
        found.append((rule.endpoint, build(rule, values), permission))
    return found


@pytest.mark.parametrize("role", ["support", "billing", "privacy_officer"])
def test_each_role_is_held_to_its_permissions(live, browser, role):
    staff = fresh_staff(live)[role]
    browser.staff_sign_in(staff)
    routes = admin_get_routes(live)
    assert any(not allowed(role, permission) for _, _, permission in routes), role
    for endpoint, path, permission in routes:
        before = _denials(live, staff["id"])
        reply = browser.get(path)
        if allowed(role, permission):
            assert reply.status in (200, 404), (role, path, reply.status)
            assert _denials(live, staff["id"]) == before, (role, path)
        else:
            assert reply.status == 403, (role, path, reply.status)
            assert _denials(live, staff["id"]) == [*before, endpoint], (role, path)
            assert "no-store" in (reply.header("Cache-Control") or "")


def test_support_cannot_manage_staff_by_post_either(live, browser):
    staff = fresh_staff(live)
    support, admin = staff["support"], staff["admin"]
    browser.staff_sign_in(support)
    token = browser.get("/admin/").csrf()
    for path, data in (
        (f"/admin/staff/{admin['id']}/role", {"role": "support"}),
        (f"/admin/staff/{admin['id']}/disable", {}),
        (f"/admin/staff/{support['id']}/role", {"role": "admin"}),
        ("/admin/staff/new", {"login_id": "sneaky01", "name": "몰래", "role": "admin"}),
    ):
        before = snapshot(live)
        reply = browser.post(path, {**data, "csrf_token": token})
        assert reply.status == 403, (path, reply.status)
        assert not changes(before, snapshot(live)), path
    roles = dict(query(live, "SELECT login_id, role FROM staff"))
    assert roles[support["login_id"]] == "support" and roles[admin["login_id"]] == "admin"


def test_staff_and_customer_sessions_are_separate(live, accounts, new_browser):
    staff_browser = new_browser()
    staff_browser.staff_sign_in(fresh_staff(live)["admin"])
    reply = staff_browser.get("/account")
    assert reply.status == 302 and reply.location.startswith("/login"), reply.status
    customer_browser = new_browser()
    customer_browser.sign_in(accounts.card())
    for path in ("/admin/", "/admin/customers", "/admin/staff"):
        reply = customer_browser.get(path)
        assert reply.status == 302 and reply.location.startswith("/admin/login"), path
    # A staff cookie's value under the customer cookie's name, and the reverse, opens nothing.
    swapped = new_browser()
    swapped.cookies = {SESSION_COOKIE: staff_browser.cookies[STAFF_COOKIE]}
    assert swapped.get("/account").status == 302
    swapped.cookies = {STAFF_COOKIE: customer_browser.cookies[SESSION_COOKIE]}
    assert swapped.get("/admin/").status == 302
