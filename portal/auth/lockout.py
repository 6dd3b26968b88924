"""The password lockout (PRODUCT.md §2): five wrong passwords in a row lock the account for 30
minutes, whichever form they were typed into (sign-in, re-authentication, password change),
so that the lockout cannot be dodged by guessing through another form.

Every attempt is charged before bcrypt runs (see :mod:`portal.auth.attempts`). While the
account is locked every attempt gets the same answer after the same bcrypt work, right
password or wrong: the lock tells a guesser nothing about the password.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.audit.services import record_event
from portal.auth import messages as m
from portal.auth.attempts import Counter
from portal.auth.errors import AccountLocked, InvalidCredentials, PasswordRejected, ReauthFailed
from portal.auth.models import UnknownLogin
from portal.auth.passwords import check_password, dummy_check, password_problems, unmatchable_hash
from portal.auth.sessions import end_other_sessions
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.security import keyed_hash

UNKNOWN_LOGIN = Counter(
    UnknownLogin.id,
    UnknownLogin.failed_logins,
    UnknownLogin.locked_until,
    "PORTAL_LOGIN_MAX_FAILURES",
    "PORTAL_LOCKOUT_SECONDS",
)
# How long an unknown ID's count is kept after its last failure. A real account keeps its
# count until a right password; a count that vanished soon would let a patient guesser
# tell the two apart, so this is long.
UNKNOWN_LOGIN_KEEP = timedelta(days=90)

CUSTOMER_PASSWORD = Counter(
    Customer.id,
    Customer.failed_logins,
    Customer.locked_until,
    "PORTAL_LOGIN_MAX_FAILURES",
    "PORTAL_LOCKOUT_SECONDS",
)


def counted_password_check(
    counter: Counter,
    row_id: int,
    stored_hash: str,
    password: str,
    *,
    now: datetime,
    on_failure: Callable[[str], object],
    on_lock: Callable[[], object],
) -> bool:
    """Check a password against a lockout counter (customers' and staff's alike). True when
    it is right; ``on_failure(detail)`` and ``on_lock()`` record what happened.

    The attempt is charged (and committed) before bcrypt runs (see :mod:`portal.auth.attempts`):
    parallel guesses each take a number, and only the first ``limit`` of a lockout period are
    ever compared.

    :raises AccountLocked: locked before, by this attempt, or by a parallel one.
    """
    failures = counter.charge(row_id, now)
    if failures is None or failures > counter.limit:
        if failures is not None and counter.lock(row_id, now):
            on_lock()  # reached the limit in parallel: this request closed it
        # The same bcrypt work as a real check: the answer's timing says nothing either.
        dummy_check()
        on_failure("locked")
        raise AccountLocked(max(counter.seconds_left(row_id, now), 1))
    if check_password(password or "", stored_hash):
        # Charged within the limit and right: it passes even if guesses charged past the
        # limit locked the row meanwhile (the lock stops those, and stays). The count
        # restarts only on an open row, so a lock's bookkeeping is left alone.
        counter.reset(row_id, now)
        return True
    on_failure(f"password failures={failures}")
    if failures >= counter.limit:
        # Only the request that closes an open row records the lock (one event, not forty).
        if counter.lock(row_id, now):
            on_lock()
        raise AccountLocked(counter.lock_seconds)
    return False


def _unknown_login_row(scope: str, login_id: str, now: datetime) -> int:
    """The counter row of a login ID no account has (made on first use; stale rows go)."""
    key = keyed_hash(f"{scope}:{(login_id or '').strip().lower()}")
    db.session.execute(
        delete(UnknownLogin).where(UnknownLogin.last_failure_at < now - UNKNOWN_LOGIN_KEEP)
    )
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(UnknownLogin)
        .values(key_hash=key, failed_logins=0, last_failure_at=now)
        .on_conflict_do_nothing(index_elements=["key_hash"])
    )
    row_id = db.session.scalar(select(UnknownLogin.id).where(UnknownLogin.key_hash == key))
    db.session.execute(
        update(UnknownLogin).where(UnknownLogin.id == row_id).values(last_failure_at=now)
    )
    return row_id


def unknown_login_check(
    scope: str,
    login_id: str,
    password: str,
    *,
    now: datetime,
    on_failure: Callable[[str], object],
) -> NoReturn:
    """A password typed for a login ID no account has (``scope``: customer or staff).

    It is charged, compared (against a hash nothing matches: the same bcrypt work) and
    locked at the limit exactly as an account's would be, so the answers — wrong password,
    then "locked for N minutes" — are the same whether the ID exists or not.

    :raises InvalidCredentials: always, until the limit;
    :raises AccountLocked: from the limit on, as for a real account.
    """
    row_id = _unknown_login_row(scope, login_id, now)
    counted_password_check(
        UNKNOWN_LOGIN,
        row_id,
        unmatchable_hash(),
        password,
        now=now,
        on_failure=on_failure,
        on_lock=lambda: None,
    )
    raise InvalidCredentials()


def check_password_counted(customer: Customer, password: str, *, now: datetime, event: str) -> bool:
    """Check a customer's password against the lockout (sign-in, re-auth and password change
    alike, so the lockout cannot be dodged by guessing through another form).

    :raises AccountLocked: see :func:`counted_password_check`.
    """
    customer_id = customer.id
    return counted_password_check(
        CUSTOMER_PASSWORD,
        customer_id,
        customer.password_hash,
        password,
        now=now,
        on_failure=lambda detail: record_event(event, customer_id=customer_id, detail=detail),
        on_lock=lambda: record_event("account_locked", customer_id=customer_id),
    )


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
