"""Two (and more) withdrawal submits at the same moment against gunicorn: exactly one
withdrawal (or one queued request), a sensible answer to every submit, never a 500."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.billing.invoices import add_invoice, record_payment
from portal.customers.models import Customer, LoginId
from portal.retention.models import RetainedRecord
from portal.withdrawal.models import WithdrawalRequest

# Below the lockout limit (5): every parallel password check is charged before it is
# compared, so more right passwords at once than the limit lock the account by design
# (portal.auth.lockout) and those submits are signed out — a separate, known behaviour.
BURST = 4


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _sign_in(browser, customer) -> str:
    reply = browser.step_one(customer.login_id, customer.password)
    assert reply.status == 302, reply.body[:300]
    token, first, last = browser.challenge()
    code_first, code_last = customer.card_answer(first, last)
    reply = browser.request(
        "POST",
        "/login/verify",
        {"csrf_token": token, "code_first": code_first, "code_last": code_last},
    )
    assert reply.status == 302 and reply.location == "/account", reply.location
    token, _ = browser.token("/account/withdraw")
    return token


def _fire(browser, customer, token):
    form = {"csrf_token": token, "password": customer.password, "confirm": "y"}
    replies = browser.all_at_once("POST", "/account/withdraw", [form] * BURST)
    statuses = [r.status for r in replies]
    assert 500 not in statuses, [r.body[:500] for r in replies if r.status == 500]
    return replies


def test_parallel_submits_complete_exactly_one_withdrawal(browser, customer, db):
    token = _sign_in(browser, customer)
    replies = _fire(browser, customer, token)
    done = [r for r in replies if r.status == 302 and r.location.endswith("/account/withdraw/done")]
    assert len(done) >= 1  # the winner, and any loser told it is already done
    # Every other answer is a sign-in redirect (the session ended) or a clear 4xx page.
    assert all(r.status in (302, 409, 200, 429) for r in replies), [r.status for r in replies]
    assert _count(db, Customer) == 0
    assert _count(db, LoginId, LoginId.retired_at.is_not(None)) == 1
    assert _count(db, RetainedRecord, RetainedRecord.category == "contract") == 1


def test_parallel_submits_record_exactly_one_request(browser, customer, db):
    row = db.session.get(Customer, customer.id)
    invoice = add_invoice(row, amount=11000, due=date.today())
    record_payment(invoice.id, amount=11000)
    db.session.commit()
    token = _sign_in(browser, customer)
    replies = _fire(browser, customer, token)
    queued = [r for r in replies if r.status == 302 and r.location.endswith("/account/withdraw")]
    assert len(queued) == 1, [(r.status, r.location) for r in replies]
    others = [(r.status, r.location, r.body[:200]) for r in replies if r not in queued]
    assert all(status == 409 for status, _, _ in others), [o[:2] for o in others]
    assert _count(db, WithdrawalRequest) == 1
    assert _count(db, Customer) == 1
