"""The billing facts other packages read: balance due, the billing part of the data export.

Owned by the billing package. Billing does not exist yet (PRODUCT.md §4 is a later issue), so these
return "nothing held"; when billing lands, it replaces these bodies with reads of its own
tables and the dashboard, profile and export pick them up unchanged. Keep the signatures.
"""

from __future__ import annotations

from typing import Any


def balance_due(customer: Any) -> int:
    """Unpaid amount in won. 0 until invoices exist (no statement spent on it)."""
    return 0


def payment_method_summary(customer: Any) -> dict | None:
    """The payment method, masked for display, or None when none is registered."""
    return None


def billing_export(customer: Any) -> dict:
    """Billing details (account numbers masked) and invoices, for the data download."""
    return {"payment_method": None, "invoices": [], "payments": []}
