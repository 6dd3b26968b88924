"""The retention periods the code uses (portal/retention/periods.py) are the ones the
privacy policy states (§3 of the text), so the two cannot drift apart unnoticed."""

from __future__ import annotations

import re
from datetime import date

from portal.retention.periods import PERIODS, add_months
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
