"""CSRF on every state-changing endpoint, found by walking the URL map (not by a list).

A new POST (PUT, PATCH, DELETE) route is picked up here automatically. If its URL cannot be
built (a converter this file has no example for), the test fails and says so: nothing is
skipped silently. Each request must get the CSRF error page (400) and change nothing: the
database is compared row by row, and the signed-in or mid-sign-in client must stay so.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select, text

from portal.extensions import db as _db
from tests.conftest import AuthActions, DemoCustomer, csrf_from

T0 = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_PAGE = "보안 확인 정보가 없거나 만료되었습니다"
HTTPS = "https://localhost"
FOREIGN = "https://evil.example/"
# Routes that must exist: if the walk finds fewer, it is looking in the wrong place.
KNOWN = {
    "auth.login",
    "auth.verify",
    "auth.logout",
    "auth.change_password",
    "auth.end_session",
    "account.edit_profile",
    "account.export",
    "billing.payment_method",
    "policy.dismiss_notice_today",
}
# <converter(args):name> in a rule's text.
ARGUMENT_RE = re.compile(r"<(?:(?P<conv>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")


@pytest.fixture
def config(config):
    # Many sign-ins and posts from one IP; the limiter is tested elsewhere.
    config.RATELIMIT_LOGIN = "1000 per minute"
    return config


@dataclass
class World:
    """What a plausible request needs: real ids, so a missing check would do real harm."""

    customer: DemoCustomer
    values: dict[str, object] = field(default_factory=dict)


# Values for URL arguments by name (real objects), then by converter type.
def _example_by_converter(conv: str, args: str | None) -> object:
    if conv in ("default", "string"):
        return "2025-01-01"  # labels in this portal are dates or versions: plausible
    if conv == "int":
        return 1
    if conv == "float":
        return 1.0
    if conv == "path":
        return "a/b"
    if conv == "uuid":
        return str(uuid.uuid4())
    if conv == "any" and args:
        return args.split(",")[0].strip().strip("'\"")
    pytest.fail(f"no example value for URL converter {conv!r}: teach {__name__} one")


def build_path(app, rule, method: str, world: World) -> str:
    values = {}
    for match in ARGUMENT_RE.finditer(rule.rule):
        name = match["name"]
        if name in world.values:
            values[name] = world.values[name]
        else:
            values[name] = _example_by_converter(match["conv"] or "default", match["args"])
    assert set(values) == set(rule.arguments), f"could not read the arguments of {rule.rule}"
    urls = app.url_map.bind("localhost")
    path = urls.build(rule.endpoint, values, method=method)
    assert urls.match(path, method=method)[0] == rule.endpoint, path
    return path


# Form data that would be accepted if the token were not checked (where it matters).
PAYLOADS: dict[str, Callable[[World], dict]] = {
    "auth.login": lambda w: {"login_id": w.customer.login_id, "password": w.customer.password},
    "auth.verify": lambda w: {"code_first": "12", "code_last": "34", "otp": "123456"},
    "auth.verify_method": lambda w: {"method": "card"},
    "auth.recovery": lambda w: {"recovery_code": "abcde-fghjk"},
    "auth.activate": lambda w: {
        "password": "Fresh-Start-2026!",
        "password_confirm": "Fresh-Start-2026!",
    },
    "auth.reauth": lambda w: {"password": w.customer.password, "next": "/account"},
    "auth.change_password": lambda w: {
        "current_password": w.customer.password,
        "new_password": "Brand-New-Route-42",
        "new_password_confirm": "Brand-New-Route-42",
    },
    "auth.enrol_otp": lambda w: {"otp": "123456"},
    "account.edit_profile": lambda w: {
        "email": "changed@example.kr",
        "phone": "010-9999-8888",
        "postal_code": "04524",
        "address": "서울특별시 중구 세종대로 1",
        "country": "",
        "username": "바뀐이름",
        "version": w.values["profile_version"],
    },
    "account.corrections": lambda w: {"field": "name", "value": "홍길순", "reason": "개명"},
    "account.inquiries": lambda w: {"subject": "문의", "body": "위치가 안 보입니다."},
    "billing.payment_method": lambda w: {
        "kind": "auto_debit",
        "holder_name": "홍길동",
        "holder_birth_date": "1990-01-01",
        "bank_code": "004",
        "account_number": "110-2345-678901",
        "phone": "010-1234-5678",
        "email": "pay@example.kr",
    },
}


def unsafe_routes(app) -> list[tuple[object, str]]:
    routes = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods & UNSAFE)
    ]
    found = {rule.endpoint for rule, _ in routes}
    assert found >= KNOWN, f"state-changing routes missing from the walk: {KNOWN - found}"
    return sorted(routes, key=lambda pair: (pair[0].rule, pair[1]))


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, as committed (a fresh transaction on both databases)."""
    _db.session.rollback()
    rows = {
        table.name: sorted(
            tuple(repr(value) for value in row) for row in _db.session.execute(select(table))
        )
        for table in _db.metadata.sorted_tables
    }
    _db.session.rollback()
    return rows


@dataclass
class Visitor:
    """One browser in a given state, with a check that it is still in that state."""

    label: str
    client: FlaskClient
    form_page: str  # a page of this state that carries a CSRF token
    still_there: Callable[[], bool]


def visitors(app, customer: DemoCustomer) -> list[Visitor]:
    signed = app.test_client()
    AuthActions(signed).login(customer)
    midway = app.test_client()
    assert AuthActions(midway).step_one(customer).status_code == 302
    anonymous = app.test_client()
    return [
        Visitor("anonymous", anonymous, "/login", lambda: True),
        Visitor(
            "mid-sign-in",
            midway,
            "/login/verify",
            lambda: midway.get("/login/verify").status_code == 200,
        ),
        Visitor(
            "signed-in",
            signed,
            "/account/profile/edit",
            lambda: signed.get("/account").status_code == 200,
        ),
    ]


def make_world(app, db, customer: DemoCustomer, signed: FlaskClient) -> World:
    from portal.auth.models import UserSession
    from portal.policy.notices import post_notice

    notice = post_notice(title="점검 안내", body_md="점검합니다.", popup=True)
    db.session.commit()
    session_id = db.session.scalars(
        select(UserSession.id).where(UserSession.customer_id == customer.id)
    ).first()
    assert session_id is not None
    page = signed.get("/account/profile/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version, "no version field on the profile form"
    return World(
        customer=customer,
        values={
            "notice_id": notice.id,
            "session_id": session_id,
            "profile_version": version.group(1),
        },
    )


def assert_refused(response, what: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 400, f"{what}: {response.status_code}, not refused"
    assert CSRF_PAGE in body, f"{what}: 400, but not the CSRF error page"
    hidden = [c for c in response.headers.getlist("Set-Cookie") if "notice_hidden_" in c]
    assert not hidden, f"{what}: set a cookie {hidden}"


def _check_every_route(app, customer, db, send) -> int:
    """Send one request per (visitor, route) through ``send``; returns how many were sent."""
    people = visitors(app, customer)
    world = make_world(app, db, customer, people[-1].client)
    routes = unsafe_routes(app)
    sent = 0
    for visitor in people:
        assert visitor.still_there()  # its first look may write (a card challenge is pinned)
        for rule, method in routes:
            path = build_path(app, rule, method, world)
            payload = PAYLOADS.get(rule.endpoint, lambda w: {})(world)
            what = f"{visitor.label} {method} {path}"
            before = snapshot()
            response = send(visitor, method, path, payload)
            assert_refused(response, what)
            assert snapshot() == before, f"{what}: the database changed"
            assert visitor.still_there(), f"{what}: the visitor's state changed"
            sent += 1
    return sent


def test_every_unsafe_route_refuses_a_request_without_token(app, db, customer):
    def send(visitor, method, path, payload):
        return visitor.client.open(path, method=method, data=payload)

    with time_machine.travel(T0, tick=False):  # no idle-touch writes during the walk
        sent = _check_every_route(app, customer, db, send)
    assert sent == 3 * len(unsafe_routes(app))


def test_every_unsafe_route_refuses_a_foreign_referer_over_https(app, db, customer):
    def send(visitor, method, path, payload):
        html = visitor.client.get(visitor.form_page, base_url=HTTPS).get_data(as_text=True)
        data = {"csrf_token": csrf_from(html), **payload}
        return visitor.client.open(
            path, method=method, data=data, base_url=HTTPS, headers={"Referer": FOREIGN}
        )

    with time_machine.travel(T0, tick=False):
        sent = _check_every_route(app, customer, db, send)
    assert sent == 3 * len(unsafe_routes(app))


# --- the HTTPS Referer check on its own (Flask-WTF's WTF_CSRF_SSL_STRICT) --------------------


@pytest.mark.parametrize(
    "referer",
    [
        None,
        FOREIGN,
        "http://localhost/login",  # same host, but downgraded to plain HTTP
        "https://localhost.evil.example/login",
        "https://localhost:8443/login",  # another port is another origin
    ],
)
def test_https_post_with_a_valid_token_needs_a_same_origin_referer(client, customer, referer):
    token = csrf_from(client.get("/login", base_url=HTTPS).get_data(as_text=True))
    data = {"csrf_token": token, "login_id": customer.login_id, "password": customer.password}
    headers = {"Referer": referer} if referer else {}
    refused = client.post("/login", data=data, base_url=HTTPS, headers=headers)
    assert_refused(refused, f"Referer {referer!r}")
    assert client.get("/login/verify", base_url=HTTPS).headers["Location"] == "/login"
    # The same token with a same-origin Referer is accepted: the Referer is what was refused.
    accepted = client.post(
        "/login", data=data, base_url=HTTPS, headers={"Referer": HTTPS + "/login"}
    )
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/login/verify"


def test_database_snapshot_sees_a_committed_change(app, db, customer):
    # The "nothing changed" checks above are only as good as snapshot(): prove it sees a
    # change committed by a request (another session, another connection).
    before = snapshot()
    AuthActions(app.test_client()).step_one(customer)
    assert snapshot() != before
    with db.engine.connect() as conn:  # and a plain count agrees
        assert conn.execute(text("SELECT COUNT(*) FROM pending_logins")).scalar() == 1
