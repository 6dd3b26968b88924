"""Alerts by email, each queued by the service that makes the change; forgotten login ID;
policy revisions to every customer; the withdrawal notice."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy import select

from portal.customers.models import Customer
from portal.dbtypes import kst_today
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.services import content_of
from tests.conftest import AuthActions, post_form
from tests.mail.conftest import deliver, text_of


def _kinds() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


def test_new_browser_sign_in_alerts_once(app, customer):
    first = app.test_client()
    AuthActions(first).login(customer)  # the account's first sign-in: no news
    assert "new_browser_signin" not in _kinds()
    same = app.test_client()
    AuthActions(same).login(customer)
    assert "new_browser_signin" not in _kinds()
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Elsewhere) Unknown/1.0"
    AuthActions(other).login(customer)
    assert _kinds().count("new_browser_signin") == 1
    row = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "new_browser_signin")
    ).one()
    assert "Elsewhere" in content_of(row)["text"]


def test_password_change_alerts(app, client, auth, customer):
    auth.login(customer)
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": customer.password,
            "new_password": "Another-Secret-99",
            "new_password_confirm": "Another-Secret-99",
        },
    )
    assert response.status_code == 302
    assert "password_changed" in _kinds()
    text = content_of(db.session.scalars(select(OutboxMessage)).all()[-1])["text"]
    assert "Another-Secret-99" not in text and customer.password not in text


def test_otp_enrolment_and_recovery_use_alert(app, client, auth, customer):
    auth.login(customer)
    html = client.get("/account/security/otp").get_data(as_text=True)
    secret = html.split('id="otp-secret">')[1].split("<")[0].replace(" ", "")
    response = post_form(client, "/account/security/otp", {"otp": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = response.get_data(as_text=True).split('id="recovery-codes"')[1]
    assert "second_factor_changed" in _kinds()
    mail = content_of(db.session.scalars(select(OutboxMessage)).all()[-1])["text"]
    code = codes.split("<code>")[1].split("</code>")[0] if "<code>" in codes else None
    if code:
        assert code not in mail
    # A recovery code at sign-in alerts as well.
    if code:
        auth.logout()
        db.session.execute(Customer.__table__.update().values(second_factor="otp"))
        db.session.commit()
        other = app.test_client()
        actions = AuthActions(other)
        actions.step_one(customer)
        post_form(other, "/login/verify/method", {"method": "otp"}, page="/login/verify")
        response = post_form(other, "/login/recovery", {"recovery_code": code})
        assert response.status_code == 302, response.get_data(as_text=True)
        assert "recovery_code_used" in _kinds()


def test_correction_decided_and_inquiry_answered_alert(app, runner, customer):
    from portal.account.corrections import request_correction
    from portal.account.inquiries import submit_inquiry

    with app.test_request_context():
        row = db.session.get(Customer, customer.id)
        correction = request_correction(row, field="name", value="홍길순", reason="개명")
        inquiry = submit_inquiry(row, subject="요금 문의", body="이번 달 요금이 궁금합니다.")
        db.session.commit()
        correction_id, inquiry_id = correction.id, inquiry.id
    assert runner.invoke(args=["corrections", "approve", str(correction_id)]).exit_code == 0
    result = runner.invoke(args=["inquiries", "answer", str(inquiry_id), "--body", "답변입니다."])
    assert result.exit_code == 0, result.output
    kinds = _kinds()
    assert "correction_decided" in kinds and "inquiry_answered" in kinds
    rows = db.session.scalars(select(OutboxMessage)).all()
    texts = {r.kind: content_of(r)["text"] for r in rows}
    assert "승인" in texts["correction_decided"]
    assert f"/account/inquiries/{inquiry_id}" in texts["inquiry_answered"]
    # Staff work: Korean, the customer's language when none is stored.
    assert all(r.language == "ko" for r in rows)


def test_forgot_id_mails_the_id_and_never_shows_it(app, runner, smtp, customer, make_customer):
    make_customer(login_id="second_acct", email="hong_gildong@example.kr")
    client = app.test_client()
    response = post_form(client, "/login/forgot-id", {"email": "Hong_Gildong@Example.kr"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "hong_gildong" not in html.lower().replace("hong_gildong@example.kr", "")
    assert "second_acct" not in html
    deliver(runner)
    (message,) = smtp.inbox.messages
    assert message["To"] == "hong_gildong@example.kr"
    assert "hong_gildong" in text_of(message) and "second_acct" in text_of(message)


def test_forgot_id_same_answer_for_unknown(app, runner, smtp, customer):
    import re

    shapes = []
    for address in ("hong_gildong@example.kr", "nobody@example.kr"):
        client = app.test_client()
        response = post_form(client, "/login/forgot-id", {"email": address})
        html = re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))
        cookies = sorted(h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie"))
        shapes.append((response.status_code, html, cookies))
    assert shapes[0] == shapes[1]
    deliver(runner)
    assert len(smtp.inbox.messages) == 1


def test_forgot_id_malformed_address_is_a_clear_400(client):
    response = post_form(client, "/login/forgot-id", {"email": "not-an-address"})
    assert response.status_code == 400
    assert "올바른 이메일 주소가 아닙니다" in response.get_data(as_text=True)


def test_policy_revision_queues_one_mail_per_customer(app, runner, smtp, make_customer, tmp_path):
    for index in range(3):
        make_customer(login_id=f"member_{index}")
    body = tmp_path / "body.md"
    body.write_text("# 개정\n\n내용", encoding="utf-8")
    effective = (kst_today() + timedelta(days=8)).isoformat()
    args = ["policy", "announce", "--label", "2099-rev", "--title", "개정"]
    result = runner.invoke(args=[*args, "--body", str(body), "--effective", effective])
    assert result.exit_code == 0, result.output
    assert _kinds().count("policy_revision") == 3
    deliver(runner)
    assert sorted(m["To"] for m in smtp.inbox.messages) == [
        f"member_{i}@example.kr" for i in range(3)
    ]
    assert "/privacy/diff?to=2099-rev" in text_of(smtp.inbox.messages[0])


def test_refused_revision_mails_no_one(app, runner, make_customer, tmp_path):
    make_customer()
    body = tmp_path / "body.md"
    body.write_text("내용", encoding="utf-8")
    too_soon = (kst_today() + timedelta(days=2)).isoformat()
    args = ["policy", "announce", "--label", "soon", "--title", "t", "--body", str(body)]
    assert runner.invoke(args=[*args, "--effective", too_soon]).exit_code != 0
    assert _kinds() == []


def test_withdrawal_notice_outlives_the_account_and_is_erased_once_sent(
    app, runner, smtp, make_customer
):
    person = make_customer(login_id="leaving_one")
    client = app.test_client()
    AuthActions(client).login(person)
    response = post_form(client, "/account/withdraw", {"password": person.password, "confirm": "y"})
    assert response.status_code == 302
    assert db.session.get(Customer, person.id) is None
    assert _kinds() == ["withdrawal_completed"]
    deliver(runner)
    (message,) = smtp.inbox.messages
    assert message["To"] == "leaving_one@example.kr"
    db.session.expire_all()
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == "sent" and row.content_encrypted is None and row.customer_id is None


def test_alert_language_follows_the_page(app, client, auth, customer):
    client.get("/language/en")
    auth.login(customer)
    post_form(
        client,
        "/account/password",
        {
            "current_password": customer.password,
            "new_password": "Another-Secret-99",
            "new_password_confirm": "Another-Secret-99",
        },
    )
    row = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "password_changed")
    ).one()
    assert row.language == "en"
    assert "Your password was changed" in content_of(row)["subject"]
