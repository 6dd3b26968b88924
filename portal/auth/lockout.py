"""The password lockout (PRODUCT.md §2): five wrong passwords in a row lock the account for 30
minutes, whichever form they were typed into (sign-in, re-authentication, password change),
so that the lockout cannot be dodged by guessing through another form.

Every attempt is charged before bcrypt runs (see :mod:`portal.auth.attempts`). While the
account is locked every attempt gets the same answer after the same bcrypt work, right
password or wrong: the lock tells a guesser nothing about the password.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from portal.audit.services import record_event
from portal.auth import messages as m
from portal.auth.attempts import charge, conditional_update
from portal.auth.errors import AccountLocked, PasswordRejected, ReauthFailed
from portal.auth.passwords import check_password, dummy_check, password_problems
from portal.auth.sessions import end_other_sessions
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.extensions import db


def _unlocked(now: datetime):
    return or_(Customer.locked_until.is_(None), Customer.locked_until <= now)


def check_password_counted(customer: Customer, password: str, *, now: datetime, event: str) -> bool:
    """Check a password against the lockout (sign-in, re-auth and password change alike, so
    the lockout cannot be dodged by guessing through another form). True when it is right.

    The attempt is charged (and committed) before bcrypt runs (see :mod:`portal.auth.attempts`):
    parallel guesses each take a number, and only the first ``PORTAL_LOGIN_MAX_FAILURES``
    of a lockout period are ever compared.

    :raises AccountLocked: locked before, by this attempt, or by a parallel one.
    """
    cfg = current_app.config
    limit = cfg["PORTAL_LOGIN_MAX_FAILURES"]
    customer_id, stored_hash = customer.id, customer.password_hash
    failures = charge(Customer.failed_logins, Customer.id == customer_id, _unlocked(now))
    if failures is None or failures > limit:
        if failures is not None:
            _lock_account(customer_id, now)  # reached the limit in parallel: lock now
        # The same bcrypt work as a real check: the answer's timing says nothing either.
        dummy_check()
        record_event(event, customer_id=customer_id, detail="locked")
        raise AccountLocked(_lock_seconds_left(customer_id, now))
    if check_password(password or "", stored_hash):
        # Charged within the limit and right: it passes even if guesses charged past the
        # limit locked the account meanwhile (the lock stops those, and stays). The count
        # restarts only on an open account, so a lock's bookkeeping is left alone.
        conditional_update(Customer, Customer.id == customer_id, _unlocked(now), failed_logins=0)
        return True
    record_event(event, customer_id=customer_id, detail=f"password failures={failures}")
    if failures >= limit:
        _lock_account(customer_id, now)
        raise AccountLocked(cfg["PORTAL_LOCKOUT_SECONDS"])
    return False


def _lock_account(customer_id: int, now: datetime) -> None:
    seconds = current_app.config["PORTAL_LOCKOUT_SECONDS"]
    # Only the request that closes an open account records the lock (one event, not forty).
    if conditional_update(
        Customer,
        Customer.id == customer_id,
        _unlocked(now),
        failed_logins=0,
        locked_until=now + timedelta(seconds=seconds),
    ):
        record_event("account_locked", customer_id=customer_id)


def _lock_seconds_left(customer_id: int, now: datetime) -> int:
    until = db.session.scalar(select(Customer.locked_until).where(Customer.id == customer_id))
    if until is None or until <= now:
        return 1
    return math.ceil((until - now).total_seconds())


def check_signed_in_password(
    customer: Customer, password: str, *, event: str, current: bool = False
) -> None:
    """Check the password of a signed-in customer (re-auth, password change).

    :raises ReauthFailed: wrong; ``signed_out`` when that locked the account, in which case
        every session has been ended — whoever keeps guessing may hold a stolen cookie.
    """
    try:
        right = check_password_counted(customer, password, now=utcnow(), event=event)
    except AccountLocked:
        end_other_sessions(customer, None)
        db.session.flush()
        raise ReauthFailed(signed_out=True, current=current) from None
    if not right:
        db.session.flush()
        raise ReauthFailed(current=current)


def check_new_password(customer: Customer, password: str, confirm: str) -> None:
    """The rules for a new password: PRODUCT.md §2, typed twice alike, not the current one.

    :raises PasswordRejected: with every problem found.
    """
    problems = list(password_problems(password or "", login_id=customer.login_id))
    if not problems and password != confirm:
        problems.append(m.PASSWORD_MISMATCH)
    if not problems and check_password(password, customer.password_hash):
        problems.append(m.PASSWORD_SAME)
    if problems:
        raise PasswordRejected(problems)
