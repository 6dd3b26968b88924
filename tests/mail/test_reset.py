"""Forgotten password, end to end through a real SMTP server: link, new password, second
factor; reuse, expiry, tampering, enumeration parity, rate limits, the Host header."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.audit.models import SecurityEvent
from portal.auth import reset
from portal.auth.errors import ResetLinkInvalid
from portal.auth.models import PasswordReset, UserSession
from portal.auth.passwords import check_password
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.conftest import AuthActions, csrf_from, post_form
from tests.mail.conftest import BASE_URL, deliver, links_in, text_of

NEW_PASSWORD = "Brand-New-Secret-42"
RESET_LINK = re.compile(re.escape(BASE_URL) + r"/login/reset/([A-Za-z0-9_\-]+)")


def _ask(client, identifier: str, **kwargs):
    return post_form(client, "/login/forgot-password", {"login_id": identifier}, **kwargs)


def _token_from(message) -> str:
    match = RESET_LINK.search(text_of(message))
    assert match, text_of(message)
    return match.group(1)


def _reset_link(client, runner, smtp, customer) -> str:
    assert _ask(client, customer.login_id).status_code == 200
    deliver(runner)
    messages = smtp.inbox.to(f"{customer.login_id}@example.kr")
    assert messages, "no reset mail"
    return _token_from(messages[-1])


def _choose(client, token: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    first = client.get(f"/login/reset/{token}")
    if first.status_code != 302:
        return first
    assert first.headers["Location"] == "/login/reset"
    return post_form(
        client,
        "/login/reset",
        {"password": password, "password_confirm": confirm or password},
    )


def test_reset_end_to_end_then_second_factor(app, client, runner, smtp, customer):
    # Another browser is signed in: the reset must end it.
    other = app.test_client()
    AuthActions(other).login(customer)
    assert other.get("/account").status_code == 200

    token = _reset_link(client, runner, smtp, customer)
    message = smtp.inbox.messages[-1]
    assert message["Subject"].startswith("[AnyTrack/Spot]")
    assert customer.password not in text_of(message)

    response = _choose(client, token)
    assert response.status_code == 302 and response.headers["Location"] == "/login/verify"
    # Not yet: the new password waits for the second factor.
    stored = db.session.scalar(select(Customer.password_hash).where(Customer.id == customer.id))
    assert check_password(customer.password, stored)
    assert other.get("/account").status_code == 200

    response = AuthActions(client).answer_card(customer)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    db.session.expire_all()
    stored = db.session.scalar(select(Customer.password_hash).where(Customer.id == customer.id))
    assert check_password(NEW_PASSWORD, stored)
    # Every other session ended; a security event recorded; a "password changed" mail queued.
    assert other.get("/account").status_code == 302
    sessions = db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.customer_id == customer.id)
    )
    assert sessions == 1
    kinds = set(db.session.scalars(select(SecurityEvent.kind)))
    assert {"password_reset_requested", "password_reset_link_used", "password_reset"} <= kinds
    assert db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.kind == "password_changed")
    )

    # The new password signs in (through the second factor, as always).
    fresh = app.test_client()
    customer.password = NEW_PASSWORD
    AuthActions(fresh).login(customer)


def test_wrong_second_factor_leaves_the_password(app, client, runner, smtp, customer):
    token = _reset_link(client, runner, smtp, customer)
    _choose(client, token)
    response = AuthActions(client).answer_card(customer, ("00", "00"))
    assert response.status_code == 200
    stored = db.session.scalar(select(Customer.password_hash).where(Customer.id == customer.id))
    assert check_password(customer.password, stored)


def test_link_used_twice_gets_a_clear_page(app, client, runner, smtp, customer):
    token = _reset_link(client, runner, smtp, customer)
    assert _choose(client, token).status_code == 302
    again = app.test_client().get(f"/login/reset/{token}")
    assert again.status_code == 410
    assert "이미 사용한" in again.get_data(as_text=True)


def test_expired_link_gets_a_clear_page(app, client, runner, smtp, customer):
    token = _reset_link(client, runner, smtp, customer)
    db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = client.get(f"/login/reset/{token}")
    assert response.status_code == 410
    assert "유효 시간이 지났습니다" in response.get_data(as_text=True)


def test_link_valid_for_thirty_minutes(app, client, runner, smtp, customer):
    _reset_link(client, runner, smtp, customer)
    row = db.session.scalars(select(PasswordReset)).one()
    assert row.expires_at - row.created_at == timedelta(minutes=30)


def test_expiry_between_form_and_submit(app, client, runner, smtp, customer):
    token = _reset_link(client, runner, smtp, customer)
    assert client.get(f"/login/reset/{token}").status_code == 302
    html = client.get("/login/reset").get_data(as_text=True)
    db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = client.post(
        "/login/reset",
        data={
            "csrf_token": csrf_from(html),
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 410


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
        lambda t: t[:-1],  # one character dropped
        lambda t: t + "x" * 200,  # far too long
    ],
)
def test_tampered_link_gets_a_clear_page(app, client, runner, smtp, customer, mangle):
    token = _reset_link(client, runner, smtp, customer)
    response = client.get(f"/login/reset/{mangle(token)}")
    assert response.status_code == 400
    assert "올바르지 않습니다" in response.get_data(as_text=True)
    # The real link still works.
    assert client.get(f"/login/reset/{token}").status_code == 302


def test_nul_byte_in_the_link_is_a_400(client):
    assert client.get("/login/reset/%00abc").status_code == 400


def test_the_token_stays_out_of_the_logs(app, client, runner, smtp, customer, caplog):
    token = _reset_link(client, runner, smtp, customer)
    client.get(f"/login/reset/{token}")
    assert token not in caplog.text
    assert "/login/reset/<token>" in caplog.text


def test_the_token_stays_out_of_production_json_lines(app, client, runner, smtp, customer):
    # Production writes JSON lines whose "path" field is filled from the request: it must
    # hold the rule's placeholder too, not the link's secret.
    import io
    import json

    from portal.logs import JsonFormatter

    token = _reset_link(client, runner, smtp, customer)
    handler = app.logger.handlers[0]
    stream = io.StringIO()
    handler.setStream(stream)
    handler.setFormatter(JsonFormatter())
    client.get(f"/login/reset/{token}")
    written = stream.getvalue()
    assert token not in written
    entries = [json.loads(line) for line in written.splitlines()]
    assert entries and all(e["path"] == "/login/reset/<token>" for e in entries)


def test_reset_page_without_a_link(client):
    response = client.get("/login/reset")
    assert response.status_code == 400
    response = client.post("/login/reset", data={})
    assert response.status_code == 400  # CSRF first, never a 500


def test_password_rules_apply_and_the_link_survives_a_refusal(app, client, runner, smtp, customer):
    token = _reset_link(client, runner, smtp, customer)
    response = _choose(client, token, password="short")
    assert response.status_code == 200
    assert "8자 이상" in response.get_data(as_text=True)
    response = _choose(client, token, password=NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert "일치하지 않습니다" in response.get_data(as_text=True)
    response = _choose(client, token, password=customer.password)
    assert "달라야 합니다" in response.get_data(as_text=True)
    assert _choose(client, token).status_code == 302


def test_a_new_request_kills_the_older_link(app, client, runner, smtp, customer):
    first = _reset_link(client, runner, smtp, customer)
    second = _reset_link(client, runner, smtp, customer)
    assert first != second
    assert client.get(f"/login/reset/{first}").status_code == 400
    assert client.get(f"/login/reset/{second}").status_code == 302


def test_only_the_keyed_hash_of_the_token_is_stored(app, client, runner, smtp, customer):
    token = _reset_link(client, runner, smtp, customer)
    row = db.session.scalars(select(PasswordReset)).one()
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert len(token) >= 43  # 256 random bits


def test_parallel_use_gives_exactly_one_success(app, client, runner, smtp, customer):
    token = _reset_link(client, runner, smtp, customer)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def use() -> None:
        with app.test_request_context():
            barrier.wait()
            try:
                results.append(
                    reset.choose_new_password(
                        token, password=NEW_PASSWORD, password_confirm=NEW_PASSWORD
                    )
                )
                db.session.commit()
            except ResetLinkInvalid as exc:
                db.session.rollback()
                results.append(exc)
            except Exception as exc:  # a lock timeout on SQLite counts as a loss
                db.session.rollback()
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wins = [r for r in results if isinstance(r, str)]
    assert len(wins) == 1, results


def _page_shape(response) -> tuple:
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))
    cookies = sorted(header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie"))
    return response.status_code, html, cookies


@pytest.mark.parametrize(
    "known, unknown",
    [
        ("hong_gildong", "nobody_here"),
        ("hong_gildong@example.kr", "nobody@example.kr"),
        ("HONG_GILDONG", "no_such_user_at_all"),
    ],
)
def test_same_answer_for_known_and_unknown(app, runner, smtp, customer, known, unknown):
    shapes = []
    for identifier in (known, unknown):
        client = app.test_client()
        response = _ask(client, identifier)
        shapes.append(_page_shape(response))
    assert shapes[0] == shapes[1]
    assert shapes[0][0] == 200
    deliver(runner)
    assert len(smtp.inbox.messages) == 1  # only the known account got mail


def test_request_for_unknown_sends_nothing_and_records_an_event(app, client, runner, smtp):
    assert _ask(client, "nobody_here").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert (
        db.session.scalar(
            select(SecurityEvent.detail).where(SecurityEvent.kind == "password_reset_requested")
        )
        == "unknown"
    )


def test_the_host_header_never_reaches_a_link(app, runner, smtp, customer):
    client = app.test_client()
    html = client.get("/login/forgot-password", headers={"Host": "evil.example"}).get_data(
        as_text=True
    )
    response = client.post(
        "/login/forgot-password",
        data={"csrf_token": csrf_from(html), "login_id": customer.login_id},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 200
    deliver(runner)
    (message,) = smtp.inbox.messages
    links = links_in(message)
    assert links and all(link.startswith(BASE_URL + "/") for link in links)
    assert "evil.example" not in message.as_string()


def test_rate_limited_per_account(app, runner, smtp, customer):
    statuses = []
    for index in range(7):
        # A new client each time: a new IP would look the same to the per-account limit.
        client = app.test_client()
        response = _ask(client, customer.login_id, environ_base={"REMOTE_ADDR": f"10.0.0.{index}"})
        statuses.append(response.status_code)
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    # Counted alike for an unknown login ID: the limit tells nothing either.
    unknown = []
    for index in range(6):
        client = app.test_client()
        unknown.append(
            _ask(client, "nobody_here", environ_base={"REMOTE_ADDR": f"10.1.0.{index}"}).status_code
        )
    assert unknown[-1] == 429


def test_rate_limited_per_ip(app, smtp):
    client = app.test_client()
    statuses = [_ask(client, f"user_{i:03d}").status_code for i in range(12)]
    assert 429 in statuses and statuses[:10] == [200] * 10


def test_forgot_password_requires_csrf(client):
    response = client.post("/login/forgot-password", data={"login_id": "hong_gildong"})
    assert response.status_code == 400


def test_empty_input_is_a_clear_400(client):
    response = post_form(client, "/login/forgot-password", {"login_id": "  "})
    assert response.status_code == 400
    assert "아이디 또는 이메일 주소를 입력해 주세요" in response.get_data(as_text=True)


def test_reset_mail_in_english_for_an_english_page(app, client, runner, smtp, customer):
    client.get("/language/en")
    _ask(client, customer.login_id)
    deliver(runner)
    (message,) = smtp.inbox.messages
    assert "Resetting your password" in message["Subject"]
    assert "30 minutes" in text_of(message)


def test_locked_account_can_reset_and_is_unlocked(app, client, runner, smtp, customer):
    db.session.execute(
        update(Customer).values(locked_until=utcnow() + timedelta(minutes=30), failed_logins=0)
    )
    db.session.commit()
    token = _reset_link(client, runner, smtp, customer)
    _choose(client, token)
    AuthActions(client).answer_card(customer)
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).locked_until is None
