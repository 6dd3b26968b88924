"""The customers package's failures: data, not text (portal.customers.messages words them)."""

from __future__ import annotations


class CustomerError(Exception):
    """Base of the customers package's failures."""


class ValidationFailed(CustomerError):
    """One or more fields are invalid; ``errors`` maps field name to message."""

    def __init__(self, errors: dict[str, object]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors

    def one_line(self) -> str:
        """Every problem on one line, ``field: message; …`` (commands and import reports)."""
        return "; ".join(f"{name}: {message}" for name, message in self.errors.items())


class UnderCorrection(CustomerError):
    """Identity fields with an open correction request may be neither used nor provided
    (a document printing them, a disclosure); ``fields`` names them."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class LoginIdTaken(CustomerError):
    """The login ID was issued before (to anyone, ever)."""

    def __init__(self, login_id: str) -> None:
        super().__init__(login_id)
        self.login_id = login_id
