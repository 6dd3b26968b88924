"""The outbox: atomic with the change, delivered over SMTP, retried while the server is down,
given up with the reason kept; console and folder delivery; encrypted at rest; purged."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.mail import services
from portal.mail.delivery import ConsoleTransport, FolderTransport, deliver_due
from portal.mail.messages import KINDS
from portal.mail.models import OutboxMessage
from portal.retention.store import LIVE_MAIL, purge
from tests.conftest import post_form
from tests.mail.conftest import BASE_URL, deliver, html_of, text_of


def _count(**where) -> int:
    stmt = select(func.count()).select_from(OutboxMessage)
    for key, value in where.items():
        stmt = stmt.where(getattr(OutboxMessage, key) == value)
    return db.session.scalar(stmt)


def _queue(customer_id: int, kind: str = "password_changed") -> OutboxMessage:
    customer = db.session.get(Customer, customer_id)
    row = services.alert(customer, kind)
    db.session.commit()
    return row


def test_a_change_that_rolls_back_sends_nothing(app, runner, smtp, customer):
    with app.test_request_context():
        row = db.session.get(Customer, customer.id)
        services.alert(row, "password_changed")
        assert _count() == 1  # in the transaction
        db.session.rollback()
    assert _count() == 0
    deliver(runner)
    assert smtp.inbox.messages == []


def test_a_refused_page_rolls_its_mail_back(app, client, runner, smtp, customer, auth):
    """A view that fails after the service queued mail (status >= 400) commits nothing."""
    auth.login(customer)
    # A refused payment-method form (400) runs no alert; a stale-CSRF POST neither.
    response = post_form(client, "/billing/payment-method", {"kind": "nonsense"})
    assert response.status_code in (302, 400)
    assert _count(kind="payment_method_changed") == 0


def test_delivered_over_smtp_and_marked_sent(app, runner, smtp, customer):
    _queue(customer.id)
    output = deliver(runner)
    assert "sent\t1" in output
    (message,) = smtp.inbox.messages
    assert message["To"] == "hong_gildong@example.kr"
    assert message["From"] == "AnyTrack <no-reply@portal.example.kr>"
    assert "비밀번호가 변경되었습니다" in message["Subject"]
    assert "길동님" in text_of(message) and "길동님" in html_of(message)
    db.session.expire_all()
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1
    # Delivering again sends nothing twice.
    deliver(runner)
    assert len(smtp.inbox.messages) == 1


def test_server_down_then_back(app, runner, smtp_server, customer):
    _queue(customer.id)
    output = deliver(runner)  # nothing listens on the port
    assert "retrying\t1" in output
    db.session.expire_all()
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == "pending" and row.attempts == 1
    assert "Refused" in row.last_error or "Errno" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)  # backoff, not at once
    # Not due yet: a second run does not hammer the server.
    deliver(runner)
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage)).one().attempts == 1
    # The server comes back; when the retry is due, the message goes.
    smtp_server.start()
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert "sent\t1" in deliver(runner)
    assert len(smtp_server.inbox.messages) == 1
    db.session.expire_all()
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == "sent" and row.attempts == 2 and row.last_error == ""


def test_backoff_doubles(app, runner, smtp_server, customer):
    _queue(customer.id)
    waits = []
    for _ in range(3):
        before = utcnow()
        deliver(runner)
        db.session.expire_all()
        row = db.session.scalars(select(OutboxMessage)).one()
        waits.append((row.next_attempt_at - before).total_seconds())
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
    assert 55 <= waits[0] <= 65 and 115 <= waits[1] <= 125 and 235 <= waits[2] <= 245


def test_refusing_server_then_give_up_with_the_reason(app, runner, smtp, customer):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    smtp.inbox.refuse = True
    _queue(customer.id)
    for _ in range(3):
        deliver(runner)
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(next_attempt_at=utcnow())
        )
        db.session.commit()
    db.session.expire_all()
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == "failed" and row.attempts == 3
    assert "451" in row.last_error
    # Kept, not lost; never sent again.
    smtp.inbox.refuse = False
    deliver(runner)
    assert smtp.inbox.messages == []


def test_transactional_mail_goes_before_a_bulk_mailing(app, smtp, customer):
    with app.test_request_context():
        services.enqueue_bulk(
            "policy_revision",
            [(customer.id, f"user{i}@example.kr", "x") for i in range(5)],
            label="2027-01-01",
            effective="2027-01-01",
        )
        services.alert(db.session.get(Customer, customer.id), "password_changed")
        db.session.commit()
        report = deliver_due(commit=db.session.commit, limit=1)
    assert report.sent == 1
    assert "비밀번호" in smtp.inbox.messages[0]["Subject"]


def test_console_delivery_prints_the_text_with_its_link(app, customer):
    app.config["MAIL_SERVER"] = None
    with app.test_request_context():
        services.alert(db.session.get(Customer, customer.id), "password_changed")
        db.session.commit()
        stream = io.StringIO()
        report = deliver_due(commit=db.session.commit, transport=ConsoleTransport(stream))
    assert report.sent == 1
    printed = stream.getvalue()
    assert "mail to hong_gildong@example.kr" in printed
    assert f"{BASE_URL}/login/forgot-password" in printed


def test_folder_delivery_writes_eml_files(app, customer, tmp_path):
    with app.test_request_context():
        row = services.alert(db.session.get(Customer, customer.id), "password_changed")
        db.session.commit()
        deliver_due(commit=db.session.commit, transport=FolderTransport(str(tmp_path / "mail")))
    (path,) = (tmp_path / "mail").iterdir()
    assert path.name == f"{row.id}.eml" and b"hong_gildong@example.kr" in path.read_bytes()


def test_content_is_encrypted_at_rest(app, customer):
    _queue(customer.id)
    raw = db.session.execute(select(OutboxMessage.content_encrypted)).scalar_one()
    assert b"hong_gildong" not in bytes(raw) and "길동".encode() not in bytes(raw)


SECRETS = ("Trk-Portal-7731!", "110-123-456789", "1101234567890")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_kind_can_carry_a_secret(app, kind):
    """No text has a place for a password, a card code, a recovery code or an account
    number; whatever a caller passes besides the placeholders is never printed."""
    context = {
        "name": "길동",
        "login_id": "hong_gildong",
        "login_ids": "hong_gildong",
        "minutes": 30,
        "token": "T" * 43,
        "ip": "127.0.0.1",
        "agent": "Firefox",
        "change": "otp_enrolled",
        "left": 9,
        "method": "auto_debit",
        "field": "name",
        "outcome": "approved",
        "subject": "문의",
        "inquiry_id": 1,
        "label": "2027-01-01",
        "effective": "2027-01-01",
        "password": SECRETS[0],
        "account_number": SECRETS[1],
        "recovery_code": "ABCDE-FGHIJ",
        "code": "1234",
    }
    with app.test_request_context():
        rendered = services.render(kind, language="ko", context=context)
    for secret in (*SECRETS, "ABCDE-FGHIJ"):
        assert secret not in rendered["text"] and secret not in rendered["html"]
    for placeholder in ("%(", "{{"):
        assert placeholder not in rendered["text"]


def test_payment_method_mail_holds_no_account_number(app, client, runner, smtp, customer, auth):
    auth.login(customer)
    response = post_form(
        client,
        "/billing/payment-method",
        {
            "kind": "auto_debit",
            "holder_name": "홍길동",
            "holder_birth_date": "1990-01-01",
            "bank_code": "088",
            "account_number": "110-123-456789",
            "phone": "010-1234-5678",
            "email": "hong_gildong@example.kr",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    deliver(runner)
    (message,) = [m for m in smtp.inbox.messages if "결제수단" in m["Subject"]]
    body = message.as_string() + text_of(message) + html_of(message)
    assert "456789" not in body and "110123456789" not in body and "6789" not in text_of(message)
    assert "자동이체" in text_of(message)


def test_html_escapes_what_customers_typed(app, customer):
    with app.test_request_context():
        rendered = services.render(
            "inquiry_answered",
            language="ko",
            context={"subject": "<script>x</script>", "inquiry_id": 3},
        )
    assert "<script>" not in rendered["html"] and "&lt;script&gt;" in rendered["html"]


def test_sent_mail_destroyed_after_six_months(app, runner, smtp, customer):
    _queue(customer.id)
    _queue(customer.id)
    _queue(customer.id)
    deliver(runner)
    old = utcnow() - timedelta(days=200)
    ids = list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == ids[0]).values(sent_at=old, created_at=old)
    )
    # A pending message, however old, is never purged: it has not been delivered.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == ids[1])
        .values(status="pending", sent_at=None, created_at=old)
    )
    db.session.commit()
    assert purge(date.today(), dry_run=True)[LIVE_MAIL] == 1
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert f"{LIVE_MAIL}\t1" in result.output
    db.session.expire_all()
    assert set(db.session.scalars(select(OutboxMessage.id))) == {ids[1], ids[2]}


def test_deliver_command_reports_counts(app, runner, smtp):
    result = runner.invoke(args=["mail", "deliver"])
    assert result.exit_code == 0
    assert "sent\t0" in result.output and "pending\t0" in result.output


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300))
def test_forgot_forms_never_fail(app, text):
    client = app.test_client()
    for url, name in (("/login/forgot-password", "login_id"), ("/login/forgot-id", "email")):
        html = client.get(url).get_data(as_text=True)
        token = html.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post(url, data={"csrf_token": token, name: text})
        assert response.status_code in (200, 400, 429), response.status_code
