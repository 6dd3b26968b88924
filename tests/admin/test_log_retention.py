"""``flask retention purge`` destroys access records after 2 years and role-log rows after 3,
counted per category (dry run too); the access records kept still verify."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlalchemy import func, select

from portal.admin.services import change_role, create_staff
from portal.audit.access import record_access, verify_chain
from portal.audit.models import AccessRecord, RoleChange
from portal.dbtypes import KST
from portal.extensions import db

AS_OF = "2030-06-15"


def _counts(output: str) -> dict[str, int]:
    counts = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _at(when: datetime, fn) -> None:
    with time_machine.travel(when, tick=False):
        fn()
        db.session.commit()


def _access(n: int):
    def write():
        for i in range(n):
            record_access(staff_id=None, actor="cli", action="customer_view", customer_id=i)

    return write


def test_old_access_records_and_role_changes_are_purged(app, runner):
    # 2 years before 2030-06-15 is 2028-06-15 00:00 KST: older access records go.
    _at(datetime(2028, 6, 14, 23, 59, tzinfo=KST), _access(3))
    _at(datetime(2028, 6, 15, 0, 0, 1, tzinfo=KST), _access(2))
    staff = {}

    def grant():
        staff["s"], _ = create_staff(
            login_id="old_clerk", name="예전", role="support", password="Old-Clerk-2027!"
        )

    _at(datetime(2027, 6, 14, 12, 0, tzinfo=KST), grant)  # 3 years + a day: goes
    _at(
        datetime(2027, 6, 15, 12, 0, tzinfo=KST),
        lambda: change_role(staff["s"], "billing", by=None),
    )  # kept
    assert _count(AccessRecord) == 5 and _count(RoleChange) == 2

    with time_machine.travel(datetime(2030, 6, 15, 9, 0, tzinfo=KST), tick=False):
        dry = runner.invoke(args=["retention", "purge", "--dry-run", "--now", AS_OF])
        assert dry.exit_code == 0, dry.output
        counts = _counts(dry.output)
        assert counts["access_records"] == 3 and counts["role_changes"] == 1
        assert _count(AccessRecord) == 5 and _count(RoleChange) == 2

        done = runner.invoke(args=["retention", "purge", "--now", AS_OF])
        assert done.exit_code == 0, done.output
        counts = _counts(done.output)
        assert counts["access_records"] == 3 and counts["role_changes"] == 1
    assert _count(AccessRecord) == 2 and _count(RoleChange) == 1
    assert db.session.scalars(select(RoleChange.kind)).one() == "change"
    report = verify_chain()
    assert report.ok and report.checked == 2
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_second_purge_finds_nothing(app, runner):
    _at(datetime(2025, 1, 1, tzinfo=KST), _access(2))
    with time_machine.travel(datetime(2030, 6, 15, 9, 0, tzinfo=KST), tick=False):
        first = runner.invoke(args=["retention", "purge", "--now", AS_OF])
        second = runner.invoke(args=["retention", "purge", "--now", AS_OF])
    assert _counts(first.output)["access_records"] == 2
    assert _counts(second.output)["access_records"] == 0
    assert _counts(second.output)["role_changes"] == 0
    assert verify_chain().ok
