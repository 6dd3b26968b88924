"""The retention periods the code uses (portal/policy/retention.py) are the ones the
privacy policy states (§3 of the text), so the two cannot drift apart unnoticed."""

from __future__ import annotations

import re
from datetime import date

from portal.policy.retention import PERIODS, add_months
from portal.policy.seed.loader import ensure_seed
from tests.conftest import ROOT

SEED = ROOT / "portal" / "policy" / "seed"
ITEM = re.compile(
    r"^- [①-⑩] (?P<label>.+?)\n(?:  - .*\n)*?  - 보존 기간 : (?P<n>\d+)(?P<unit>개월|년)", re.M
)


def _policy_periods() -> dict[str, int]:
    newest = sorted(SEED.glob("privacy-policy-*.md"))[-1]
    found = {}
    for match in ITEM.finditer(newest.read_text(encoding="utf-8")):
        months = int(match["n"]) * (12 if match["unit"] == "년" else 1)
        found[match["label"].strip()] = months
    return found


def test_code_periods_match_the_privacy_policy():
    stated = _policy_periods()
    assert {str(p.label): p.months for p in PERIODS.values()} == stated


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2024, 2, 29), 60) == date(2029, 2, 28)
    assert add_months(date(2026, 1, 15), -6) == date(2025, 7, 15)


def test_privacy_page_shows_the_same_periods(app, db, client):
    ensure_seed()
    db.session.commit()
    html = client.get("/privacy").get_data(as_text=True)
    assert 'id="retention-periods"' in html
    for period in PERIODS.values():
        assert str(period.label) in html and period.legal_basis in html


def test_billing_and_account_categories_are_in_the_table():
    from portal.account.models import RETENTION_COMPLAINT
    from portal.billing.models import RETENTION_E_INVOICE, RETENTION_PAYMENT, RETENTION_YEARS

    for category in (RETENTION_COMPLAINT, RETENTION_E_INVOICE, RETENTION_PAYMENT):
        assert category in PERIODS
    for category, years in RETENTION_YEARS.items():
        assert PERIODS[category].months == years * 12
