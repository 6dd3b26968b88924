"""Korean bank codes (금융결제원 은행코드) for automatic debit, read from ``banks.csv``.

Data, not code: adding a bank is a line in the CSV file.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from flask import current_app

HERE = Path(__file__).resolve().parent


@cache
def banks() -> tuple[tuple[str, str], ...]:
    """(code, name) pairs in the file's order."""
    with (HERE / "banks.csv").open(encoding="utf-8", newline="") as fh:
        return tuple((row["code"], row["name"]) for row in csv.DictReader(fh))


def bank_name(code: str | None) -> str:
    return dict(banks()).get(code or "", "")


def issuer() -> dict[str, str]:
    """The company that issues invoices and documents: the business details of the
    configuration (portal/business.py), the same the footer of every page shows."""
    return current_app.config["PORTAL_BUSINESS"].as_issuer()
