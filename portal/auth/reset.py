"""Forgotten password and login ID (아이디 찾기 / 비밀번호 찾기) by email.

- The reset link carries a random token (256 bits); only its keyed hash is stored, so a copy
  of the database opens no account. Valid PORTAL_RESET_SECONDS (30 minutes), single use: the
  row is consumed by a conditional UPDATE (``used_at IS NULL``) whose row count says which of
  two parallel uses won.
- The pages answer the same whether or not the account exists, after the same work: an
  unknown login ID or address still renders and encrypts a message (``rehearse``) and writes
  a security event, so neither the page nor its timing tells an attacker who has an account.
- The new password does not take effect on the strength of the mail alone: it waits on a
  pending login and is written only when the usual second factor passes
  (:func:`portal.auth.signin.complete_login`), which then ends every session and records a
  ``password_reset`` event. Whoever reads the customer's mail still lacks the card or OTP.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from portal.audit.services import record_event
from portal.auth.attempts import conditional_update
from portal.auth.errors import EmailMalformed, ResetLinkInvalid
from portal.auth.lockout import check_new_password
from portal.auth.models import PasswordReset, PendingLogin
from portal.auth.passwords import hash_password
from portal.auth.signin import available_methods, effective_method
from portal.customers import validation as v
from portal.customers.models import Customer
from portal.customers.services import customer_by_login_id, customers_by_email
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.mail.services import alert, rehearse
from portal.security import keyed_hash

TOKEN_MAX = 100  # a token is 43 characters; anything much longer is not one


def reset_minutes() -> int:
    """How long a reset link lasts, in whole minutes (rounded down: never more than it is)."""
    return current_app.config["PORTAL_RESET_SECONDS"] // 60


def _accounts_for(identifier: str) -> list[Customer]:
    text = (identifier or "").strip()
    if "@" in text:
        return customers_by_email(text)
    customer = customer_by_login_id(text) if len(text) <= 40 else None
    return [customer] if customer is not None else []


def request_reset(*, identifier: str, now: datetime | None = None) -> int:
    """Mail a reset link to each account that ``identifier`` (a login ID or an address)
    names; returns how many (the page never says). Older unused links of those accounts die.
    """
    now = now or utcnow()
    accounts = _accounts_for(identifier)
    if not accounts:
        rehearse(
            "password_reset",
            login_id="x" * 8,
            minutes=reset_minutes(),
            token=secrets.token_urlsafe(32),
            name="x",
        )
        keyed_hash(secrets.token_urlsafe(32))
        record_event("password_reset_requested", customer_id=None, detail="unknown")
        return 0
    for customer in accounts:
        db.session.execute(
            delete(PasswordReset).where(
                PasswordReset.customer_id == customer.id, PasswordReset.used_at.is_(None)
            )
        )
        token = secrets.token_urlsafe(32)
        db.session.add(
            PasswordReset(
                token_hash=keyed_hash(token),
                customer_id=customer.id,
                created_at=now,
                expires_at=now + timedelta(seconds=current_app.config["PORTAL_RESET_SECONDS"]),
            )
        )
        alert(
            customer,
            "password_reset",
            login_id=customer.login_id,
            minutes=reset_minutes(),
            token=token,
        )
        record_event("password_reset_requested", customer_id=customer.id)
    db.session.flush()
    return len(accounts)


def send_login_ids(*, email: str) -> int:
    """Mail the login IDs registered with ``email`` to that address only; returns how many
    accounts (the page never says, and never shows an ID).

    :raises EmailMalformed: ``email`` cannot be an address (said at once: it tells nothing
        about anyone's account).
    """
    try:
        address = v.email(email)
    except v.FieldInvalid:
        raise EmailMalformed() from None
    accounts = customers_by_email(address)
    if not accounts:
        rehearse("login_ids", login_ids="x" * 8, name="x")
        record_event("login_id_reminder", customer_id=None, detail="unknown")
        return 0
    first = accounts[0]
    alert(first, "login_ids", login_ids=", ".join(c.login_id for c in accounts))
    for customer in accounts:
        record_event("login_id_reminder", customer_id=customer.id)
    db.session.flush()
    return len(accounts)


def reset_for_token(token: str | None, *, now: datetime | None = None) -> PasswordReset:
    """The reset a link names, if it can still be used.

    :raises ResetLinkInvalid: ``reason`` "unknown" (never issued, or altered), "used" or
        "expired".
    """
    if not token or len(token) > TOKEN_MAX:
        raise ResetLinkInvalid("unknown")
    row = db.session.scalars(
        select(PasswordReset).where(PasswordReset.token_hash == keyed_hash(token))
    ).first()
    if row is None:
        raise ResetLinkInvalid("unknown")
    if row.used_at is not None:
        raise ResetLinkInvalid("used")
    if (now or utcnow()) >= row.expires_at:
        raise ResetLinkInvalid("expired")
    return row


def choose_new_password(
    token: str | None, *, password: str, password_confirm: str, now: datetime | None = None
) -> str:
    """Take the new password for a reset link and start the second step of a sign-in.

    The link is used up here (a rejected password leaves it usable); the new password waits
    on the pending login until the second factor passes. Returns the pending-login token, for
    the view to carry on exactly as after the password step (to /login/verify).

    :raises ResetLinkInvalid: unknown, used (also by a parallel request) or expired.
    :raises PasswordRejected: the new password breaks a rule or does not match.
    """
    now = now or utcnow()
    row = reset_for_token(token, now=now)
    customer = row.customer
    check_new_password(customer, password, password_confirm)
    if not conditional_update(
        PasswordReset,
        PasswordReset.id == row.id,
        PasswordReset.used_at.is_(None),
        PasswordReset.expires_at > now,
        used_at=now,
    ):
        raise ResetLinkInvalid("used")
    db.session.execute(delete(PendingLogin).where(PendingLogin.customer_id == customer.id))
    pending_token = secrets.token_urlsafe(32)
    method = effective_method(customer.second_factor, available_methods(customer))
    db.session.add(
        PendingLogin(
            token_hash=keyed_hash(pending_token),
            customer_id=customer.id,
            created_at=now,
            method=method or "card",
            new_password_hash=hash_password(password),
        )
    )
    record_event("password_reset_link_used", customer_id=customer.id)
    db.session.flush()
    return pending_token
