"""Response headers on every kind of answer, methods, banners and the 500 page.

Over the wire for everything the server can be made to answer from outside (200, 302, 400,
404, 405, 413, static files, gunicorn's own errors); a 500 cannot be provoked from outside
(that is the point), so it is provoked in-process on the application built with the server's
production environment, through a route added for the test.
"""

from __future__ import annotations

import re
import socket
import ssl

import pytest

from tests.security.web import build, fresh_staff, oversized_post, production_app, query, rules

HSTS_MIN = 365 * 24 * 3600
REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
# Anything that names the software and its version: a gift to whoever scans for a known hole.
BANNER_RE = re.compile(
    r"(werkzeug|flask|gunicorn|python|jinja|sqlalchemy|uvicorn)[/ ]?v?\d+\.\d+", re.IGNORECASE
)
TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.exc", "Error:")


def assert_security_headers(reply, what: str) -> None:
    h = reply.header
    csp = h("Content-Security-Policy") or ""
    directives = {
        part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()
    }
    assert csp, f"{what}: no Content-Security-Policy"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{what}: {csp}"
    assert "default-src" in directives and "'self'" in directives["default-src"], csp
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", f"{what}: {csp}"
    assert "*" not in csp.replace("*.", ""), f"{what}: a wildcard source in {csp}"
    hsts = h("Strict-Transport-Security") or ""
    age = re.search(r"max-age=(\d+)", hsts)
    assert age and int(age[1]) >= HSTS_MIN, f"{what}: HSTS {hsts!r}"
    assert h("X-Content-Type-Options") == "nosniff", what
    assert h("Referrer-Policy") in REFERRER_POLICIES, f"{what}: {h('Referrer-Policy')}"
    assert h("X-Frame-Options") == "DENY", what
    content_type = (h("Content-Type") or "").lower()
    if content_type.startswith(("text/html", "text/plain", "text/css", "application/json")):
        assert "charset=utf-8" in content_type, f"{what}: Content-Type {content_type!r}"
    permissions = h("Permissions-Policy")
    assert permissions is None or "camera=()" in permissions, what
    assert_no_banner(reply, what)


def assert_no_banner(reply, what: str) -> None:
    server = reply.header("Server") or ""
    assert not re.search(r"\d", server), f"{what}: Server: {server!r} gives a version away"
    assert reply.header("X-Powered-By") is None, what
    assert not BANNER_RE.search(reply.body), f"{what}: {BANNER_RE.search(reply.body)[0]!r}"
    for marker in TRACE_MARKERS:
        assert marker not in reply.body, f"{what}: {marker!r} in the page"


def test_headers_on_every_kind_of_answer(live, browser):
    cases = {
        "200 home": ("GET", "/", 200),
        "200 sign-in": ("GET", "/login", 200),
        "200 health": ("GET", "/healthz", 200),
        "302 to sign-in": ("GET", "/account", 302),
        "302 language": ("GET", "/language/en?next=/", 302),
        "404": ("GET", "/no/such/page", 404),
        "404 id": ("GET", "/notices/999999999", 404),
        "405": ("PUT", "/login", 405),
        "400 CSRF": ("POST", "/login", 400),
        "static css": ("GET", "/static/css/portal.css", 200),
        "static js": ("GET", "/static/js/portal.js", 200),
        "static svg": ("GET", "/static/img/logo.svg", 200),
        "static 404": ("GET", "/static/nope.css", 404),
    }
    for what, (method, path, status) in cases.items():
        reply = browser.request(method, path, body=b"" if method != "GET" else None)
        assert reply.status == status, (what, reply.status)
        assert_security_headers(reply, what)
        if reply.status >= 400:
            assert re.search(r'class="reference-id">[^<]+<', reply.body), f"{what}: no reference"


def test_headers_on_a_bad_host_and_an_oversized_body(live, browser):
    bad_host = browser.get("/", headers={"Host": "evil.example"})
    assert bad_host.status == 400
    assert_no_banner(bad_host, "400 bad host")
    assert bad_host.header("X-Content-Type-Options") == "nosniff"
    big = oversized_post(browser, "/login")
    assert big.status == 413, big.status
    assert_security_headers(big, "413")


# --- no-store on signed-in pages --------------------------------------------------------------


def _ids(live, customer: dict, staff: dict) -> dict[str, object]:
    invoice = live.flask(
        "billing", "add-invoice", "--login-id", customer["login_id"], "--amount", "16500",
        "--due", "2026-12-25", "--json",
    )  # fmt: skip
    assert invoice.returncode == 0, invoice.stderr
    first = lambda sql: (query(live, sql) or [(1,)])[0][0]  # noqa: E731
    return {
        "invoice_id": re.search(r'"invoice_id": (\d+)', invoice.stdout)[1],
        "customer_id": customer["id"],
        "staff_id": staff["id"],
        "notice_id": first("SELECT id FROM notices ORDER BY id"),
        "label": first("SELECT label FROM policy_versions ORDER BY id"),
        "lang": "ko",
        "token": "x",
        "filename": "css/portal.css",
    }


def test_signed_in_pages_are_never_stored(live, accounts, browser, new_browser):
    """Every GET page a signed-in customer or staff member can see: ``no-store``."""
    customer = accounts.card()
    browser.sign_in(customer)
    staff = new_browser()
    members = fresh_staff(live)
    staff.staff_sign_in(members["admin"])
    values = _ids(live, customer, members["support"])
    seen = {"customer": 0, "staff": 0}
    for rule in rules(live):
        if "GET" not in rule.methods or rule.endpoint in ("static", "main.healthz"):
            continue
        path = build(rule, {name: values.get(name, 1) for name in rule.arguments})
        who, visitor = ("staff", staff) if path.startswith("/admin") else ("customer", browser)
        reply = visitor.get(path)
        if reply.status == 200:
            assert "no-store" in (reply.header("Cache-Control") or ""), f"{who} {path}"
            assert_security_headers(reply, f"{who} {path}")
            seen[who] += 1
    # Enough pages were really seen signed in (not redirected away) for this to mean much.
    assert seen["customer"] >= 20 and seen["staff"] >= 15, seen


# --- methods ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH", "TRACK", "CONNECT"])
def test_unused_methods_are_refused(browser, method):
    for path in ("/", "/login", "/account", "/admin/login", "/notices", "/static/css/portal.css"):
        reply = browser.request(
            method, path, body=b"", headers={"X-Echo-Canary": "canary-7f3a", "Cookie": "c=1"}
        )
        assert reply.status in (405, 400), (method, path, reply.status)
        assert "canary-7f3a" not in reply.body, f"{method} {path} echoed the request"
        assert "TRACE" not in (reply.header("Allow") or ""), (method, path)
        assert_no_banner(reply, f"{method} {path}")
        if reply.status == 405:
            assert_security_headers(reply, f"{method} {path}")


# --- gunicorn's own answers ------------------------------------------------------------------


def _raw(live, data: bytes) -> bytes:
    context = ssl.create_default_context(cafile=str(live.cert))
    context.check_hostname = False
    with (
        socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock,
        context.wrap_socket(sock) as tls,
    ):
        tls.sendall(data)
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"a" * 20000 + b"\r\n\r\n",
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ],
    ids=["garbage", "bad-version", "long-header", "long-line"],
)
def test_malformed_requests_get_no_banner(live, request_bytes):
    raw = _raw(live, request_bytes).decode("latin-1")
    head, _, body = raw.partition("\r\n\r\n")
    assert raw.startswith("HTTP/1.1 4"), raw[:200]
    server = re.search(r"^Server: (.*)$", head, re.MULTILINE | re.IGNORECASE)
    assert not server or not re.search(r"\d", server[1]), head
    assert not BANNER_RE.search(raw), raw[:500]
    assert "Traceback" not in body


# --- the 500 page (in-process) ---------------------------------------------------------------


def test_a_500_shows_the_reference_page_only(live):
    app = production_app(live)
    secret = "s3cr3t-in-the-exception"
    if "security_test_boom" not in app.view_functions:

        @app.get("/__security-test-boom")
        def security_test_boom():
            raise RuntimeError(f"SELECT password_hash FROM customers -- {secret}")

    client = app.test_client()
    reply = client.get(
        "/__security-test-boom", base_url=f"https://{live.env['PORTAL_TRUSTED_HOSTS']}"
    )
    body = reply.get_data(as_text=True)
    assert reply.status_code == 500
    assert "일시적인 오류가 발생했습니다" in body
    reference = re.search(r'class="reference-id">([^<]+)<', body)
    assert reference and reference[1] == reply.headers["X-Request-ID"]
    for leak in (secret, "RuntimeError", "password_hash", "Traceback", "SELECT", 'File "'):
        assert leak not in body, leak
    assert not BANNER_RE.search(body)
    assert "unsafe-inline" not in reply.headers["Content-Security-Policy"]
    assert "max-age" in reply.headers["Strict-Transport-Security"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"


# --- the personal-data download ------------------------------------------------------------


def test_the_data_export_is_a_download_never_stored_or_sniffed(accounts, browser):
    account = accounts.card()
    browser.sign_in(account)  # a fresh sign-in is a recent password: no re-auth step
    page = browser.get("/account/export")
    reply = browser.post("/account/export", {"csrf_token": page.csrf()})
    assert reply.status == 200, (reply.status, reply.location)
    assert (reply.header("Content-Disposition") or "").startswith("attachment;")
    assert (reply.header("Content-Type") or "").startswith("application/json")
    assert "no-store" in (reply.header("Cache-Control") or "")
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert account["login_id"] in reply.body
