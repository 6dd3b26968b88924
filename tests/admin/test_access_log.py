"""The access log's hash chain: written at commit, nothing on rollback, tampering found."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
from sqlalchemy import delete, func, select, update

from portal.audit.access import purge_before, record_access, verify_chain
from portal.audit.models import AccessRecord
from portal.dbtypes import utcnow
from portal.extensions import db


def _write(n: int, action: str = "view") -> None:
    for i in range(n):
        record_access(staff_id=None, actor="tester", action=action, customer_id=i, fields=["name"])
    db.session.commit()


def test_records_chain_and_verify(app, runner):
    _write(5)
    report = verify_chain()
    assert report.ok and report.checked == 5 and report.head_seq == 5
    rows = list(db.session.scalars(select(AccessRecord).order_by(AccessRecord.seq)))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    result = runner.invoke(args=["audit", "verify", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True


def test_a_rolled_back_change_writes_no_record(app):
    record_access(staff_id=None, actor="tester", action="edit", customer_id=1)
    db.session.rollback()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AccessRecord)) == 0


def test_a_record_of_data_shown_survives_the_rollback(app):
    # An error page rolls its request back, but what it showed was seen.
    record_access(staff_id=None, actor="tester", action="edit", customer_id=1)
    record_access(staff_id=None, actor="tester", action="view", customer_id=1)
    db.session.rollback()
    db.session.commit()
    assert db.session.scalars(select(AccessRecord.action)).all() == ["view"]


def test_fields_are_names_never_values(app):
    record_access(staff_id=None, actor="tester", action="edit", fields=["phone", "email", "phone"])
    db.session.commit()
    assert db.session.scalar(select(AccessRecord.fields)) == "email,phone"


def test_an_edited_record_is_named(app, runner):
    _write(4)
    db.session.execute(update(AccessRecord).where(AccessRecord.seq == 2).values(customer_id=99))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "record 2: content edited" in result.output


def test_an_edited_and_rehashed_record_breaks_the_next_link(app, runner):
    from portal.audit.access import _touch_of, record_hash

    _write(4)
    row = db.session.scalar(select(AccessRecord).where(AccessRecord.seq == 2))
    row.customer_id = 99
    row.hash = record_hash(2, _touch_of(row), row.prev_hash)
    db.session.commit()
    report = verify_chain()
    assert [p.seq for p in report.problems] == [3]


def test_a_deleted_record_is_named(app, runner):
    _write(5)
    db.session.execute(delete(AccessRecord).where(AccessRecord.seq == 3))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "record 4: record(s) 3 before it are missing" in result.output


def test_a_deleted_tail_is_found(app):
    _write(5)
    db.session.execute(delete(AccessRecord).where(AccessRecord.seq >= 4))
    db.session.commit()
    report = verify_chain()
    assert not report.ok
    assert "up to 5 are missing" in str(report.problems[0])


def test_the_purge_keeps_the_rest_verifiable(app):
    _write(3)
    cutoff = utcnow().replace(microsecond=0)
    db.session.execute(update(AccessRecord).values(created_at=cutoff.replace(year=2020)))
    db.session.commit()
    _write(2)
    assert purge_before(cutoff.replace(year=2021), dry_run=True) == 3
    assert purge_before(cutoff.replace(year=2021)) == 3
    db.session.commit()
    report = verify_chain()
    assert report.ok, report.problems
    assert report.checked == 2


@pytest.mark.parametrize("writers", [6])
def test_parallel_commits_never_fork_the_chain(app, writers):
    errors = []

    def work():
        try:
            with app.app_context():
                for _ in range(5):
                    record_access(staff_id=None, actor="thread", action="view", customer_id=1)
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    report = verify_chain()
    assert report.ok, report.problems
    assert report.checked == writers * 5


def test_staff_commands_leave_access_records(app, runner, customer):
    """Work on the command line is on record too, under the server account that did it."""
    result = runner.invoke(args=["cards", "issue", customer.login_id])
    assert result.exit_code == 0, result.output
    row = db.session.scalars(select(AccessRecord).where(AccessRecord.action == "card_issue")).one()
    assert row.actor.startswith("cli:") and row.staff_id is None
    assert row.customer_id == customer.id and row.fields == "security_card"
    assert verify_chain().ok
