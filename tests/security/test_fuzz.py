"""Fuzzing every form: hostile text never gets a 5xx and is never echoed unescaped; oversized
bodies get the 413 page.

Volume runs in-process (the Flask test client, CSRF on, on the usual test database); a small
sample of the same strategies then goes over the wire to the production server, where the
proxy-free gunicorn, TLS and the real limits stand between the input and the form.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.conftest import AuthActions, csrf_from
from tests.security.live import Browser
from tests.security.web import fresh_staff, oversized_post

# What must never come back raw: each example plants these in one of its fields.
CANARIES = ("<script>fz(1)</script>", '"><img src=x onerror=fz(2)>', "'><svg onload=fz(3)>")
SPECIALS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e드물게 오른쪽에서 왼쪽",
    "\u200b\u200d\ufeff",
    "𝕳𝖊𝖑𝖑𝖔 👩‍👩‍👧‍👦 🇰🇷",
    "' OR 1=1 --",
    "%00%2F..%2F..",
    "{{7*7}}{% raw %}",
    "${jndi:ldap://x}",
    "\r\nSet-Cookie: x=1",
    "../../etc/passwd",
    "１２３４",  # full-width digits
    "010-1234-5678",
    "1990-01-01",
]
ALPHABET = st.one_of(
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),  # Hangul syllables
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.sampled_from(["\x00", "\u202e", "\u200f", "<", ">", '"', "'", "&", "\\", "%", "\n"]),
    st.characters(codec="utf-8"),
)
text = st.one_of(
    st.text(ALPHABET, max_size=60),
    st.sampled_from(SPECIALS),
    # 1 to 10 KB of one character (several bytes each, for Hangul and emoji).
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["가", "😀", "a", "<", "\u202e"]),
        st.integers(1000, 10240),
    ),
)

# Forms: path → (page that carries the token, fields, who posts). Field values are fuzzed;
# a few fields keep a plausible value so the form gets past its first check some of the time.
PUBLIC = {
    "/login": ["login_id", "password"],
    "/login/forgot-password": ["login_id"],
    "/login/forgot-id": ["email"],
    "/admin/login": ["login_id", "password"],
}
SIGNED_IN = {
    "/account/profile/edit": [
        "email", "phone", "postal_code", "address", "address_detail", "username", "country",
    ],
    "/account/corrections": ["field", "value", "reason"],
    "/account/inquiries": ["subject", "body"],
    "/account/rights": ["kind", "detail"],
    "/billing/payment-method": [
        "kind", "holder_name", "holder_birth_date", "holder_business_number", "bank_code",
        "account_number", "phone", "email",
    ],
    "/account/security/otp": ["otp"],
}  # fmt: skip
# Where what a signed-in form saved is shown again: escaped there too.
SHOWN_AT = ["/account/profile", "/account/inquiries", "/account/corrections", "/account/rights"]


@st.composite
def submissions(draw, fields: list[str]) -> list[tuple[str, str]]:
    """Fuzzed values for ``fields``, a canary in one of them, and sometimes a field twice."""
    values = {name: draw(text) for name in fields}
    target = draw(st.sampled_from(fields))
    values[target] = values[target][:200] + draw(st.sampled_from(CANARIES))
    pairs = list(values.items())
    if draw(st.booleans()):
        twice = draw(st.sampled_from(fields))
        pairs.append((twice, draw(text)))
    return pairs


def assert_escaped(body: str, what: str) -> None:
    for canary in CANARIES:
        assert canary not in body, f"{what}: {canary!r} echoed unescaped"
    for tag in ("<script>fz", "<img src=x onerror=fz", "<svg onload=fz"):
        assert tag not in body, f"{what}: {tag!r} echoed unescaped"


@pytest.fixture
def config(config):
    # Thousands of posts from one test client: the limits are the limit suites' business.
    config.RATELIMIT_ENABLED = False
    return config


FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _post_in_process(client, path: str, pairs, *, page: str | None = None):
    html = client.get(page or path).get_data(as_text=True)
    token = csrf_from(html)
    extra = []
    if path == "/account/profile/edit":
        extra = [("version", re.search(r'name="version" value="(\d+)"', html)[1])]
    return client.post(path, data=MultiDict([("csrf_token", token), *extra, *pairs]))


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_public_forms_in_process(app, path):
    @FUZZ
    @given(pairs=submissions(PUBLIC[path]))
    def check(pairs):
        client = app.test_client()
        reply = _post_in_process(client, path, pairs)
        assert reply.status_code < 500, (path, pairs, reply.status_code)
        assert_escaped(reply.get_data(as_text=True), f"POST {path}")

    check()


def test_second_factor_forms_in_process(app, customer):
    @FUZZ
    @given(pairs=submissions(["code_first", "code_last", "otp", "recovery_code", "method"]))
    def check(pairs):
        client = app.test_client()
        AuthActions(client).step_one(customer)
        for path, page in (
            ("/login/verify", "/login/verify"),
            ("/login/recovery", "/login/recovery"),
            ("/login/verify/method", "/login/verify"),
        ):
            html = client.get(page).get_data(as_text=True)
            if 'name="csrf_token"' not in html:
                continue  # the pending login ended (locked card): nothing left to post
            reply = client.post(path, data=MultiDict([("csrf_token", csrf_from(html)), *pairs]))
            assert reply.status_code < 500, (path, pairs, reply.status_code)
            assert_escaped(reply.get_data(as_text=True), f"POST {path}")

    check()


@pytest.mark.parametrize("path", sorted(SIGNED_IN))
def test_signed_in_forms_in_process(app, client, auth, customer, path):
    auth.login(customer)

    @FUZZ
    @given(pairs=submissions(SIGNED_IN[path]))
    def check(pairs):
        reply = _post_in_process(client, path, pairs)
        assert reply.status_code < 500, (path, pairs, reply.status_code)
        assert_escaped(reply.get_data(as_text=True), f"POST {path}")
        assert client.get("/account").status_code == 200, "the fuzz signed the customer out"

    check()
    for page in SHOWN_AT:
        shown = client.get(page)
        assert shown.status_code == 200, page
        assert_escaped(shown.get_data(as_text=True), f"GET {page} after the fuzz")


# Forms that check the password: wrong guesses lock the account and end the session, so a
# new customer signs in whenever the last one was locked out (or withdrew).
PASSWORD_FORMS = {
    "/reauth": ["password", "next"],
    "/account/password": ["current_password", "new_password", "new_password_confirm"],
    "/account/withdraw": ["password", "confirm"],
}


@pytest.mark.parametrize("path", sorted(PASSWORD_FORMS))
def test_password_forms_in_process(app, make_customer, path):
    people = iter(range(1000))

    @FUZZ
    @given(pairs=submissions(PASSWORD_FORMS[path]))
    def check(pairs):
        client = app.test_client()
        AuthActions(client).login(make_customer(login_id=f"fz{next(people):04d}"))
        reply = _post_in_process(client, path, pairs)
        assert reply.status_code < 500, (path, pairs, reply.status_code)
        assert_escaped(reply.get_data(as_text=True), f"POST {path}")

    check()


def test_duplicated_and_unknown_params_in_the_query_string(app, client, auth, customer):
    auth.login(customer)

    @FUZZ
    @given(value=text, other=text)
    def check(value, other):
        for path in ("/notices", "/account/history", "/privacy/diff", "/login"):
            query = [("page", value), ("page", other), ("from", value), ("to", other)]
            reply = client.get(path, query_string=MultiDict([*query, ("next", value)]))
            assert reply.status_code < 500, (path, value, other, reply.status_code)
            assert_escaped(reply.get_data(as_text=True), f"GET {path}")

    check()


# --- over the wire: a small sample -------------------------------------------------------------

WIRE = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _post_wire(browser, path: str, pairs, *, page: str | None = None):
    form = browser.get(page or path)
    assert form.status == 200, (path, form.status, form.location)
    extra = []
    if path == "/account/profile/edit":
        extra = [("version", re.search(r'name="version" value="(\d+)"', form.body)[1])]
    return browser.post(path, [("csrf_token", form.csrf()), *extra, *pairs])


def test_public_forms_over_the_wire(live):
    @WIRE
    @given(path=st.sampled_from(sorted(PUBLIC)), data=st.data())
    def check(path, data):
        pairs = data.draw(submissions(PUBLIC[path]))
        reply = _post_wire(Browser(live), path, pairs)  # a new address: the limits stay out
        assert reply.status < 500, (path, pairs, reply.status)
        assert_escaped(reply.body, f"POST {path}")

    check()


def test_signed_in_forms_over_the_wire(live, accounts):
    browser = Browser(live)
    browser.sign_in(accounts.card())

    @WIRE
    @given(path=st.sampled_from(sorted(SIGNED_IN)), data=st.data())
    def check(path, data):
        pairs = data.draw(submissions(SIGNED_IN[path]))
        reply = _post_wire(browser, path, pairs)
        assert reply.status < 500, (path, pairs, reply.status)
        assert_escaped(reply.body, f"POST {path}")

    check()
    for page in SHOWN_AT:
        shown = browser.get(page)
        assert shown.status == 200, page
        assert_escaped(shown.body, f"GET {page}")


STAFF_FORMS = {
    "/admin/notices/new": ["title", "body", "pinned_until", "popup_until"],
    "/admin/staff/new": ["login_id", "name", "role", "password"],
    "/admin/policy/new": ["label", "title", "body", "announced_on", "effective_on"],
    "/admin/customers/new": ["login_id", "name", "email", "phone", "postal_code", "address"],
    "/admin/disclosures": ["login_id", "recipient", "basis", "items", "date"],
}


def test_staff_forms_over_the_wire(live):
    staff = fresh_staff(live)["admin"]
    browser = Browser(live)
    browser.staff_sign_in(staff)
    # The forms that change records want a recent password: give it once.
    page = browser.get("/admin/reauth")
    browser.post("/admin/reauth", {"csrf_token": page.csrf(), "password": staff["password"]})

    @WIRE
    @given(path=st.sampled_from(sorted(STAFF_FORMS)), data=st.data())
    def check(path, data):
        pairs = data.draw(submissions(STAFF_FORMS[path]))
        reply = _post_wire(browser, path, pairs)
        assert reply.status < 500, (path, pairs, reply.status)
        assert_escaped(reply.body, f"POST {path}")
        search = browser.get("/admin/customers?" + urlencode({"q": pairs[0][1][:50]}))
        assert search.status < 500, (pairs[0][1][:50], search.status)
        assert_escaped(search.body, "GET /admin/customers?q=")

    check()
    for page in ("/admin/notices", "/notices"):
        shown = browser.get(page)
        assert shown.status == 200, page
        assert_escaped(shown.body, f"GET {page}")


# --- oversized bodies -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_an_oversized_body_gets_the_413_page(live, lang):
    browser = Browser(live)
    browser.get(f"/language/{lang}")
    for path in ("/login", "/account/inquiries", "/admin/login", "/notices/1/dismiss-today"):
        reply = oversized_post(browser, path)
        assert reply.status == 413, (path, reply.status)
        expected = "보낸 내용이 너무 큽니다" if lang == "ko" else "Request too large"
        assert expected in reply.body, (lang, reply.body[:300])


def _chunked_post(browser, path: str, chunks, *, headers: dict[str, str]) -> int:
    conn = browser.connection()
    try:
        conn.putrequest("POST", path, skip_host=True)
        sent = {"Host": browser.server.host, "Transfer-Encoding": "chunked", **headers}
        if browser.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            for chunk in chunks:
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before reading it all
        response = conn.getresponse()
        location = response.getheader("Location", "")
        response.read()
        return response.status, location
    finally:
        conn.close()


def test_an_oversized_chunked_body_gets_413(live):
    # No Content-Length to refuse up front: the limit must hold while reading the stream
    # (Werkzeug alone parsed the first 2 MB as if they were the whole form).
    browser = Browser(live)
    form = browser.get("/login")
    body = "csrf_token=" + form.csrf() + "&login_id=nobody&password=" + "x" * (3 * 1024 * 1024)
    data = body.encode()
    status, _ = _chunked_post(
        browser,
        "/login",
        [data[i : i + 65536] for i in range(0, len(data), 65536)],
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": live.base + "/login",
        },
    )
    assert status == 413, status


def test_a_small_chunked_form_still_works(live, accounts):
    # The guard above keeps what it read for the form: a chunked post under the limit is whole.
    account = accounts.card()
    browser = Browser(live)
    form = browser.get("/login")
    data = urlencode(
        {
            "csrf_token": form.csrf(),
            "login_id": account["login_id"],
            "password": account["password"],
        }
    ).encode()
    status, location = _chunked_post(
        browser,
        "/login",
        [data[:10], data[10:]],
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": live.base + "/login",
        },
    )
    assert (status, location) == (302, "/login/verify")


def test_a_large_body_under_the_limit_is_no_5xx(live):
    browser = Browser(live)
    form = browser.get("/login")
    # About 1.2 MB once percent-encoded: under the 2 MB limit.
    reply = browser.post(
        "/login",
        {"csrf_token": form.csrf(), "login_id": "가" * 100_000, "password": "x" * 300_000},
    )
    assert reply.status in (200, 400), reply.status
