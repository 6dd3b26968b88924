"""Writing to the retention store and purging it (and the live security events) by date.

Services flush, never commit; :func:`purge` hands each batch to ``on_batch`` (the command
commits there), so an interrupted purge keeps what it finished and a rerun carries on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, func, or_, select

from portal.audit.access import purge_before
from portal.audit.models import RoleChange, SecurityEvent
from portal.dbtypes import KST, kst_today
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.policy.retention import (
    CATEGORIES,
    IDENTITY_VERIFICATION,
    PERIODS,
    add_months,
    purge_after,
)
from portal.retention.errors import PurgeDateEarlier, PurgeDateInFuture
from portal.retention.models import PurgeRun, RetainedRecord
from portal.security import decrypt, encrypt, newest_pepper_id, peppered_candidates, peppered_hash

BATCH_SIZE = 500
# The live security events older than the identity-verification period (sign-ins of active
# customers, and of unknown login IDs with no customer) are purged too; counted under this key.
LIVE_EVENTS = "security_events"
# Mail sent (or given up on) more than 6 months ago: the outbox keeps a sent message as long
# as the identity-verification records it goes with, then destroys it. Pending messages are
# never purged: they have not been delivered yet.
LIVE_MAIL = "mail_messages"
# The staff access log (접속기록) is kept 2 years and the role log (권한 부여·변경·말소 기록)
# 3 years (the safety-measures standard); both are purged here, counted under these keys.
ACCESS_RECORDS = "access_records"
ACCESS_RECORD_MONTHS = 24
ROLE_CHANGES = "role_changes"
ROLE_CHANGE_MONTHS = 36


def _subject_text(login_register_id: int) -> str:
    return f"retention-subject:{login_register_id}"


def subject_key(login_register_id: int) -> str:
    """The pseudonymous key of a former customer: a keyed hash of the register row's id,
    under the newest pepper (which :func:`retain` records beside it)."""
    return peppered_hash(_subject_text(login_register_id), newest_pepper_id()) or ""


def of_subject(login_register_id: int):
    """A WHERE condition for every retained record of one former customer, whichever
    configured pepper (or, for rows from before peppers, SECRET_KEY) keyed it."""
    return or_(
        *(
            and_(
                RetainedRecord.subject_pepper_id.is_(None)
                if pepper_id is None
                else RetainedRecord.subject_pepper_id == pepper_id,
                RetainedRecord.subject_key == key,
            )
            for pepper_id, key in peppered_candidates(_subject_text(login_register_id))
        )
    )


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def retain(
    *, category: str, subject: str, source: str, record_date: date, payload: dict
) -> RetainedRecord | None:
    """Copy one record into the store, encrypted, with its purge date.

    Returns None (nothing stored) when the record's period is already over: it would only be
    destroyed by the next purge.
    """
    until = purge_after(category, record_date)
    if until < kst_today():
        return None
    row = RetainedRecord(
        category=category,
        legal_basis=PERIODS[category].legal_basis,
        subject_key=subject,
        subject_pepper_id=newest_pepper_id(),
        source=source,
        record_date=record_date,
        purge_after=until,
        payload_encrypted=encrypt(json.dumps(payload, default=_json_default, ensure_ascii=False)),
    )
    db.session.add(row)
    return row


def payload_of(row: RetainedRecord) -> dict:
    return json.loads(decrypt(row.payload_encrypted))


def last_purge_date() -> date | None:
    return db.session.scalar(select(func.max(PurgeRun.as_of)))


def _live_events_cutoff(as_of: date) -> datetime:
    """Security events created before this instant are past the 6-month period on ``as_of``:
    an event of day D is kept through D + 6 months (KST), as in the store."""
    first_kept_day = add_months(as_of, -PERIODS[IDENTITY_VERIFICATION].months)
    # add_months clamps (Aug 31 - 6 months = Feb 28): every event of a day whose
    # D + 6 months >= as_of is kept, so the cutoff is the start of that first day.
    months = PERIODS[IDENTITY_VERIFICATION].months
    while add_months(first_kept_day, months) < as_of:
        first_kept_day += timedelta(days=1)
    while add_months(first_kept_day - timedelta(days=1), months) >= as_of:
        first_kept_day -= timedelta(days=1)
    return datetime.combine(first_kept_day, time(0), tzinfo=KST).astimezone(UTC)


def _purge_live(
    key: str,
    id_column,
    condition,
    *,
    counts: dict[str, int],
    dry_run: bool,
    batch_size: int,
    on_batch: Callable[[str, int], None] | None,
) -> None:
    """Destroy the rows of a live table that match ``condition``, in batches (or count them)."""
    table = id_column.class_
    if dry_run:
        counts[key] = db.session.scalar(select(func.count()).select_from(table).where(condition))
        return
    counts[key] = 0
    while True:
        ids = list(db.session.scalars(select(id_column).where(condition).limit(batch_size)))
        if not ids:
            return
        db.session.execute(delete(table).where(id_column.in_(ids)))
        counts[key] += len(ids)
        if on_batch is not None:
            on_batch(key, len(ids))


def _kept_from(as_of: date, months: int) -> datetime:
    """The first instant kept: 00:00 KST of the day ``months`` before ``as_of``."""
    return datetime.combine(add_months(as_of, -months), time(0), tzinfo=KST).astimezone(UTC)


def _purge_staff_logs(
    as_of: date,
    counts: dict[str, int],
    *,
    dry_run: bool,
    batch_size: int,
    on_batch: Callable[[str, int], None] | None,
) -> None:
    # The access log goes in one step: purge_before moves the chain's base past the records
    # it destroys, so what is kept still verifies (a partial cut would leave a gap).
    counts[ACCESS_RECORDS] = purge_before(_kept_from(as_of, ACCESS_RECORD_MONTHS), dry_run=dry_run)
    if not dry_run and on_batch is not None and counts[ACCESS_RECORDS]:
        on_batch(ACCESS_RECORDS, counts[ACCESS_RECORDS])
    _purge_live(
        ROLE_CHANGES,
        RoleChange.id,
        RoleChange.created_at < _kept_from(as_of, ROLE_CHANGE_MONTHS),
        counts=counts,
        dry_run=dry_run,
        batch_size=batch_size,
        on_batch=on_batch,
    )


def purge(
    as_of: date,
    *,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Destroy every retained record whose ``purge_after`` is before ``as_of``, every live
    security event older than the identity-verification period, mail sent (or given up on)
    before that period, staff access records older than 2 years and role-log rows older
    than 3; counts per category.

    :raises PurgeDateEarlier: ``as_of`` is before the last (non-dry) purge.
    :raises PurgeDateInFuture: a real purge as of a day after today (KST): it would destroy
        records whose period is not over. A dry run may look ahead.
    """
    if not dry_run and as_of > kst_today():
        raise PurgeDateInFuture(kst_today())
    last = last_purge_date()
    if last is not None and as_of < last:
        raise PurgeDateEarlier(last)
    counts: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
    for category in CATEGORIES:
        due = (RetainedRecord.category == category, RetainedRecord.purge_after < as_of)
        if dry_run:
            counts[category] = db.session.scalar(
                select(func.count()).select_from(RetainedRecord).where(*due)
            )
            continue
        while True:
            ids = list(db.session.scalars(select(RetainedRecord.id).where(*due).limit(batch_size)))
            if not ids:
                break
            db.session.execute(delete(RetainedRecord).where(RetainedRecord.id.in_(ids)))
            counts[category] += len(ids)
            if on_batch is not None:
                on_batch(category, len(ids))
    cutoff = _live_events_cutoff(as_of)
    _purge_live(
        LIVE_MAIL,
        OutboxMessage.id,
        or_(
            OutboxMessage.sent_at < cutoff,
            and_(OutboxMessage.status == "failed", OutboxMessage.created_at < cutoff),
        ),
        counts=counts,
        dry_run=dry_run,
        batch_size=batch_size,
        on_batch=on_batch,
    )
    _purge_live(
        LIVE_EVENTS,
        SecurityEvent.id,
        SecurityEvent.created_at < cutoff,
        counts=counts,
        dry_run=dry_run,
        batch_size=batch_size,
        on_batch=on_batch,
    )
    _purge_staff_logs(as_of, counts, dry_run=dry_run, batch_size=batch_size, on_batch=on_batch)
    if not dry_run:
        db.session.add(PurgeRun(as_of=as_of, destroyed=sum(counts.values())))
        db.session.flush()
    return counts
