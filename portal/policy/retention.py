"""The retention categories and periods of policy §3 (PRODUCT.md §6): the one table that the
code (retention store, purge) and the pages (withdrawal, /privacy) read, so they cannot drift.
It lives in the policy package, the lowest that needs it (the privacy page), so that every
package above can read it; ``tests/withdrawal/test_periods.py`` checks it against the text of
the newest policy version.

The category keys are the values of the ``retention_category`` columns of billing and account
(``payment_record``, ``e_invoice``, ``complaint``) plus ``identity_verification`` (security
events) and ``contract`` (the contract and withdrawal record written at withdrawal).

A record is kept through its ``purge_after`` date (inclusive) and destroyed by the first purge
run after it: ``purge_after = start + months``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

IDENTITY_VERIFICATION = "identity_verification"
CONTRACT = "contract"
PAYMENT_RECORD = "payment_record"
COMPLAINT = "complaint"
E_INVOICE = "e_invoice"


@dataclass(frozen=True)
class Period:
    category: str
    label: object  # lazy string
    legal_basis: str  # the law's name, stored with each retained row
    months: int

    @property
    def years(self) -> int | None:
        return self.months // 12 if self.months % 12 == 0 else None


PERIODS: dict[str, Period] = {
    p.category: p
    for p in (
        Period(IDENTITY_VERIFICATION, _l("본인확인에 관한 기록"), "정보통신망법", 6),
        Period(CONTRACT, _l("계약 또는 청약철회 등에 관한 기록"), "전자상거래법", 60),
        Period(PAYMENT_RECORD, _l("대금결제 및 재화 등의 공급에 관한 기록"), "전자상거래법", 60),
        Period(COMPLAINT, _l("소비자의 불만 또는 분쟁처리에 관한 기록"), "전자상거래법", 36),
        Period(E_INVOICE, _l("전자계산서 발급에 관한 기록"), "국세청 고시 제2016-3호", 60),
    )
}
CATEGORIES = tuple(PERIODS)


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def purge_after(category: str, start: date) -> date:
    """The last day a record of ``category`` that started on ``start`` is kept."""
    return add_months(start, PERIODS[category].months)
