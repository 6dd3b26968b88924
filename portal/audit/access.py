"""The staff access log (접속기록): every staff view, search, export or change of a customer's
personal data, and every staff sign-in, as a hash chain.

Who, when (UTC), from where (IP), whose data (customer id), what (action) and which fields —
never their values. Each record holds the hash of the one before it, so editing a record
breaks its own hash and deleting one breaks its successor's link; :func:`verify_chain`
(``flask audit verify``) names the record. The chain head (:class:`AccessChain`) also
catches a deleted tail. A chain in the same database cannot stop someone who can rewrite
every record from the edit onward: that is why ``flask audit verify`` prints the head's hash
and each monthly review stores it, so a rewrite no longer matches what was written down.

Records are written in the request's transaction, at its commit: the views call
:func:`record_access` (which only queues), and the session's ``before_commit`` hook links
the queued records to the chain while holding the head row. Taking the head last, just
before the commit releases it, keeps the time it is held short and never waits on a lock
while holding it. A rolled-back request writes no record of a change, like the change it
would describe; records of what was shown (:data:`READ_ACTIONS`) are committed anyway.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import has_request_context, request
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.audit.models import AccessChain, AccessRecord
from portal.database import KEEP_AFTER_ROLLBACK
from portal.dbtypes import utcnow
from portal.extensions import db

GENESIS = "0" * 64
CHAIN_ID = 1
_QUEUE = "access_records_queued"


@dataclass(frozen=True)
class Touch:
    """One queued record, before it takes its place in the chain."""

    created_at: datetime
    staff_id: int | None
    actor: str
    ip: str
    customer_id: int | None
    action: str
    fields: str


def record_access(
    *,
    staff_id: int | None,
    actor: str,
    action: str,
    customer_id: int | None = None,
    fields: Iterable[str] = (),
) -> None:
    """Queue an access record for the current transaction (written when it commits).

    ``fields`` are field *names* (``name``, ``phone``…); a value must never be passed.
    """
    ip = (request.remote_addr or "")[:45] if has_request_context() else ""
    touch = Touch(
        # Whole seconds: the hash covers the time, and every engine stores those exactly.
        created_at=utcnow().replace(microsecond=0),
        staff_id=staff_id,
        actor=actor[:40],
        ip=ip,
        customer_id=customer_id,
        action=action[:40],
        fields=",".join(sorted(set(fields)))[:500],
    )
    session = db.session()
    if not session.in_transaction():
        # Begin now, so that a rollback before anything else ran still drops the queue.
        session.begin()
    session.info.setdefault(_QUEUE, []).append(touch)


def record_cli_access(
    action: str, *, customer_id: int | None = None, fields: Iterable[str] = ()
) -> None:
    """An access record for staff work on the command line: the actor is ``cli:<OS user>``
    (the server's own account control says who that is)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = str(os.getuid())
    record_access(
        staff_id=None, actor=f"cli:{user}", action=action, customer_id=customer_id, fields=fields
    )


def record_hash(seq: int, touch: Touch, prev_hash: str) -> str:
    """SHA-256 over the record's content and its predecessor's hash."""
    when = touch.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    content = [
        seq,
        when,
        touch.staff_id,
        touch.actor,
        touch.ip,
        touch.customer_id,
        touch.action,
        touch.fields,
        prev_hash,
    ]
    payload = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _touch_of(row: AccessRecord) -> Touch:
    return Touch(
        created_at=row.created_at,
        staff_id=row.staff_id,
        actor=row.actor,
        ip=row.ip,
        customer_id=row.customer_id,
        action=row.action,
        fields=row.fields,
    )


def _ensure_head(session: Session) -> None:
    """Create the head row once (the migration does; a ``create_all`` database may not)."""
    values = {
        "id": CHAIN_ID,
        "last_seq": 0,
        "last_hash": GENESIS,
        "base_seq": 0,
        "base_hash": GENESIS,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(AccessChain).values(**values).on_conflict_do_nothing())


def _claim(session: Session, count: int) -> tuple[int, str]:
    """Move the head forward by ``count`` (locking it); returns the old seq and hash."""
    stmt = (
        update(AccessChain)
        .where(AccessChain.id == CHAIN_ID)
        .values(last_seq=AccessChain.last_seq + count)
        .returning(AccessChain.last_seq, AccessChain.last_hash)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(stmt).one_or_none()
    if row is None:
        _ensure_head(session)
        row = session.execute(stmt).one()
    return row.last_seq - count, row.last_hash


def _link_queued(session: Session) -> None:
    queued = session.info.pop(_QUEUE, None)
    if not queued:
        return
    seq, prev = _claim(session, len(queued))
    for touch in queued:
        seq += 1
        digest = record_hash(seq, touch, prev)
        session.add(
            AccessRecord(
                seq=seq,
                created_at=touch.created_at,
                staff_id=touch.staff_id,
                actor=touch.actor,
                ip=touch.ip,
                customer_id=touch.customer_id,
                action=touch.action,
                fields=touch.fields,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    session.execute(
        update(AccessChain)
        .where(AccessChain.id == CHAIN_ID)
        .values(last_hash=prev)
        .execution_options(synchronize_session=False)
    )
    session.flush()


# Records of data *shown*. An error page (a form re-shown with its problem, 400 or 409) rolls
# its request back, but the staff member still saw the record on it: those records are kept
# through the rollback and committed on their own (portal.database.KEEP_AFTER_ROLLBACK).
# Records of changes go with the change they describe.
READ_ACTIONS = frozenset({"view", "list", "search", "export", "download", "access_log_view"})


def _drop_queued(session: Session, _previous_transaction=None) -> None:
    queued = session.info.pop(_QUEUE, None) or []
    shown = [touch for touch in queued if touch.action in READ_ACTIONS]
    if shown:
        session.info[_QUEUE] = shown
        session.info[KEEP_AFTER_ROLLBACK] = True


def install() -> None:
    """Hook the chain into every session's commit (idempotent; called by the factory)."""
    if not event.contains(Session, "before_commit", _link_queued):
        event.listen(Session, "before_commit", _link_queued)
        event.listen(Session, "after_soft_rollback", _drop_queued)


# --- verification --------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.reason}"


@dataclass
class ChainReport:
    checked: int
    head_seq: int
    head_hash: str
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _records(batch: int) -> Iterator[AccessRecord]:
    after = -1
    while True:
        rows = list(
            db.session.scalars(
                select(AccessRecord)
                .where(AccessRecord.seq > after)
                .order_by(AccessRecord.seq)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        db.session.expunge_all()


def verify_chain(*, batch: int = 1000) -> ChainReport:
    """Walk the whole chain; every record whose content, link or place is wrong is named."""
    head = db.session.get(AccessChain, CHAIN_ID)
    base_seq, expected_prev = (head.base_seq, head.base_hash) if head else (0, GENESIS)
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS)
    problems: list[ChainProblem] = []
    expected_seq = base_seq + 1
    checked = 0
    for row in _records(batch):
        checked += 1
        if row.seq != expected_seq:
            missing = (
                f"{expected_seq}"
                if row.seq == expected_seq + 1
                else (f"{expected_seq}–{row.seq - 1}")
            )
            problems.append(ChainProblem(row.seq, f"record(s) {missing} before it are missing"))
        elif row.prev_hash != expected_prev:
            problems.append(
                ChainProblem(
                    row.seq,
                    "does not follow the record before it (that one was "
                    "edited and re-hashed, or replaced)",
                )
            )
        if record_hash(row.seq, _touch_of(row), row.prev_hash) != row.hash:
            problems.append(ChainProblem(row.seq, "content edited (its hash does not match)"))
        expected_seq = row.seq + 1
        expected_prev = row.hash
    if expected_seq - 1 < head_seq:
        problems.append(
            ChainProblem(expected_seq, f"the newest records up to {head_seq} are missing")
        )
    elif expected_seq - 1 > head_seq or (checked and expected_prev != head_hash):
        problems.append(ChainProblem(head_seq, "the chain head does not match the last record"))
    return ChainReport(checked=checked, head_seq=head_seq, head_hash=head_hash, problems=problems)


def chain_head() -> tuple[int, str]:
    head = db.session.get(AccessChain, CHAIN_ID)
    return (head.last_seq, head.last_hash) if head else (0, GENESIS)


# --- retention (2 years) -------------------------------------------------------------


def purge_before(cutoff: datetime, *, dry_run: bool = False) -> int:
    """Destroy records older than ``cutoff`` (oldest first) and move the chain's base to the
    last one destroyed, so the records kept still verify. Returns how many went.

    The cut is by position: every record up to the newest one older than ``cutoff``. A
    record's time is taken when it is queued and its place when its request commits, so a
    few records around the cut may be seconds younger than ``cutoff``; a gap in the chain
    would be worse.
    """
    last = db.session.execute(
        select(AccessRecord.seq, AccessRecord.hash)
        .where(AccessRecord.created_at < cutoff)
        .order_by(AccessRecord.seq.desc())
        .limit(1)
    ).one_or_none()
    if last is None:
        return 0
    count = db.session.scalar(
        select(func.count()).select_from(AccessRecord).where(AccessRecord.seq <= last.seq)
    )
    if dry_run:
        return count or 0
    db.session.execute(
        update(AccessChain)
        .where(AccessChain.id == CHAIN_ID)
        .values(base_seq=last.seq, base_hash=last.hash)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(AccessRecord)
        .where(AccessRecord.seq <= last.seq)
        .execution_options(synchronize_session=False)
    )
    return count or 0
