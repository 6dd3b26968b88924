"""The billing package's failures: each carries data; ``messages.message_for`` words them.

Field-rule failures are :class:`portal.customers.errors.ValidationFailed` (field → message),
as in the account package.
"""

from __future__ import annotations


class BillingError(Exception):
    """Base of the billing package's failures."""


class InvoiceNotFound(BillingError):
    """No such invoice (or not this customer's: the same answer, never a hint)."""


class PaymentTooLarge(BillingError):
    """A payment above what is still due on the invoice."""

    def __init__(self, due: int) -> None:
        super().__init__(str(due))
        self.due = due


class InvoiceAlreadyPaid(BillingError):
    """Nothing is due on the invoice any more."""


class NotBusinessCustomer(BillingError):
    """A tax invoice (세금계산서) is issued to business customers only."""


class CustomerNotFound(BillingError):
    """No customer with that login ID (commands)."""

    def __init__(self, login_id: str) -> None:
        super().__init__(login_id)
        self.login_id = login_id


class ImportFailed(BillingError):
    """Rows of an import file are invalid; ``rows`` is [(line number, message)]. Nothing saved."""

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(rows)} bad rows")
        self.rows = rows


class ImportRaced(BillingError):
    """Another import wrote the same invoice or payment number at the same moment (a unique
    number already taken at write time). Nothing of this run is kept; running the file
    again skips what the other one wrote."""
