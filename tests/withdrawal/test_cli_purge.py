"""``flask withdrawals list|complete`` and ``flask retention purge`` (PRODUCT.md §6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.audit.models import SecurityEvent
from portal.billing.invoices import add_invoice, record_payment
from portal.customers.models import Customer, LoginId
from portal.dbtypes import KST
from portal.extensions import db as _db
from portal.policy.retention import PERIODS, purge_after
from portal.retention.models import RetainedRecord
from portal.retention.store import retain
from portal.withdrawal.models import WithdrawalRequest
from portal.withdrawal.services import OUTCOME_QUEUED, request_withdrawal


def _count(model, *where) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model).where(*where))


def _counts(output: str) -> dict[str, int]:
    counts = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture
def queued(app, customer):
    row = _db.session.get(Customer, customer.id)
    invoice = add_invoice(row, amount=5500, due=date.today())
    record_payment(invoice.id, amount=5500)
    _db.session.commit()
    outcome = request_withdrawal(row, password=customer.password, confirm="y")
    _db.session.commit()
    assert outcome.kind == OUTCOME_QUEUED
    return outcome.request.id


def test_staff_list_and_complete_a_queued_request(runner, customer, queued):
    result = runner.invoke(args=["withdrawals", "list"])
    assert result.exit_code == 0 and customer.login_id in result.output
    assert result.output.startswith(f"{queued}\t")
    result = runner.invoke(args=["withdrawals", "complete", str(queued), "--by", "ops_kim"])
    assert result.exit_code == 0, result.output
    assert _count(Customer) == 0
    assert _count(LoginId, LoginId.retired_at.is_not(None)) == 1
    assert _count(RetainedRecord, RetainedRecord.category == "payment_record") == 1
    # Again: a clear one-line refusal, nothing else happens.
    again = runner.invoke(args=["withdrawals", "complete", str(queued)])
    assert again.exit_code != 0 and "Traceback" not in again.output
    assert "no open withdrawal requests" in runner.invoke(args=["withdrawals", "list"]).output


def test_staff_cannot_complete_while_unpaid(runner, customer, queued):
    add_invoice(_db.session.get(Customer, customer.id), amount=1000, due=date.today())
    _db.session.commit()
    result = runner.invoke(args=["withdrawals", "complete", str(queued)])
    assert result.exit_code != 0 and "1,000" in result.output
    assert _count(Customer) == 1
    assert _count(WithdrawalRequest, WithdrawalRequest.status == "open") == 1


def _store(category: str, until: date) -> None:
    _db.session.add(
        RetainedRecord(
            category=category,
            legal_basis=PERIODS[category].legal_basis,
            subject_key="k" * 64,
            source="test",
            payload_encrypted=b"x",
            record_date=until - timedelta(days=1),
            purge_after=until,
        )
    )


def test_purge_keeps_through_the_date_dry_run_changes_nothing_and_reruns_are_idempotent(
    app, runner
):
    until = date(2030, 1, 15)
    for category in PERIODS:
        _store(category, until)
    _db.session.commit()
    future = runner.invoke(args=["retention", "purge", "--now", "2030-01-16"])
    assert future.exit_code != 0 and _count(RetainedRecord) == len(PERIODS)
    with time_machine.travel(datetime(2030, 1, 20, 12, tzinfo=KST), tick=False):
        _purge_in_2030(runner)


def _purge_in_2030(runner):
    result = runner.invoke(args=["retention", "purge", "--now", "2030-01-15"])
    assert result.exit_code == 0, result.output
    assert _count(RetainedRecord) == len(PERIODS)
    dry = runner.invoke(args=["retention", "purge", "--dry-run", "--now", "2030-01-16"])
    assert dry.exit_code == 0, dry.output
    assert all(_counts(dry.output)[category] == 1 for category in PERIODS)
    assert _count(RetainedRecord) == len(PERIODS)
    real = runner.invoke(args=["retention", "purge", "--now", "2030-01-16", "--batch-size", "2"])
    assert real.exit_code == 0, real.output
    assert all(_counts(real.output)[category] == 1 for category in PERIODS)
    assert _count(RetainedRecord) == 0
    rerun = runner.invoke(args=["retention", "purge", "--now", "2030-01-16"])
    assert rerun.exit_code == 0 and sum(_counts(rerun.output).values()) == 0
    earlier = runner.invoke(args=["retention", "purge", "--now", "2030-01-01"])
    assert earlier.exit_code != 0 and "2030-01-16" in earlier.output
    bad = runner.invoke(args=["retention", "purge", "--now", "yesterday"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


@pytest.mark.parametrize("category", list(PERIODS))
def test_each_period_ends_on_its_day(app, runner, category):
    start = date(2026, 1, 31)  # a month end: +6 months is Jul 31, +36 Jan 31 2029
    with time_machine.travel(datetime(2026, 2, 1, 12, tzinfo=KST), tick=False):
        assert retain(
            category=category, subject="s" * 64, source="test", record_date=start, payload={}
        )
        _db.session.commit()
    until = purge_after(category, start)
    months = PERIODS[category].months
    assert until == date(2026 + (months // 12), 1 + months % 12, 31)
    with time_machine.travel(datetime.combine(until, datetime.min.time(), KST), tick=False):
        assert runner.invoke(args=["retention", "purge"]).exit_code == 0
    assert _count(RetainedRecord) == 1
    next_day = until + timedelta(days=1)
    with time_machine.travel(datetime.combine(next_day, datetime.min.time(), KST), tick=False):
        result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0 and _counts(result.output)[category] == 1
    assert _count(RetainedRecord) == 0


def test_old_security_events_of_active_and_unknown_customers_are_purged(app, runner, customer):
    created = datetime(2026, 1, 15, 10, tzinfo=KST).astimezone(UTC)
    for customer_id in (customer.id, None):
        _db.session.add(
            SecurityEvent(kind="login_failure", customer_id=customer_id, created_at=created)
        )
    _db.session.commit()
    before = _count(SecurityEvent)
    assert runner.invoke(args=["retention", "purge", "--now", "2026-07-15"]).exit_code == 0
    assert _count(SecurityEvent) == before
    result = runner.invoke(args=["retention", "purge", "--now", "2026-07-16"])
    assert _counts(result.output)["security_events"] >= 2
    assert _count(SecurityEvent, SecurityEvent.created_at <= created) == 0


def test_staff_cannot_complete_a_cancelled_request(runner, customer, queued):
    from portal.withdrawal.services import cancel_request

    cancel_request(_db.session.get(Customer, customer.id))
    _db.session.commit()
    result = runner.invoke(args=["withdrawals", "complete", str(queued)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert _count(Customer) == 1
    assert _count(LoginId, LoginId.retired_at.is_not(None)) == 0


def test_out_of_range_ids_are_refused_in_one_line(app, runner):
    for args in (
        ["withdrawals", "complete", "99999999999999999999"],
        ["rights", "answer", "99999999999999999999", "--body", "x"],
        ["withdrawals", "complete", "0"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and "Traceback" not in result.output, args


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    dates=st.lists(st.dates(date(2030, 1, 1), date(2040, 12, 31)), min_size=1, max_size=12),
    as_of=st.dates(date(2030, 1, 1), date(2040, 12, 31)),
)
def test_purge_destroys_exactly_what_is_past_its_date(app, dates, as_of):
    from sqlalchemy import delete

    from portal.retention.models import PurgeRun
    from portal.retention.store import purge

    _db.session.execute(delete(RetainedRecord))
    _db.session.execute(delete(PurgeRun))
    for until in dates:
        _store("contract", until)
    _db.session.commit()
    with time_machine.travel(datetime(2041, 1, 1, tzinfo=KST), tick=False):
        counts = purge(as_of, batch_size=5)
    _db.session.commit()
    assert counts["contract"] == sum(1 for d in dates if d < as_of)
    kept = list(_db.session.scalars(select(RetainedRecord.purge_after)))
    assert sorted(kept) == sorted(d for d in dates if d >= as_of)
