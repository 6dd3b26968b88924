"""VAT split of a VAT-included total: integers, awkward totals, the one-won bound."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from portal.billing.documents import format_business_number, vat_split


def test_vat_on_round_and_awkward_totals():
    assert vat_split(33000) == (30000, 3000)
    assert vat_split(11) == (10, 1)
    assert vat_split(1) == (0, 1)
    assert vat_split(10) == (9, 1)
    assert vat_split(9900) == (9000, 900)
    assert vat_split(12345) == (11222, 1123)


@given(st.integers(min_value=1, max_value=2_000_000_000))
def test_supply_plus_vat_is_the_total_and_vat_is_ten_percent(total):
    supply, vat = vat_split(total)
    assert isinstance(supply, int) and isinstance(vat, int)
    assert supply + vat == total
    assert supply >= 0 and vat >= 0
    assert abs(vat * 10 - supply) <= 10  # VAT within one won of 10 % of the supply


def test_business_number_format():
    assert format_business_number("1248100998") == "124-81-00998"
