"""The withdrawal package's failures: each carries data; ``messages.message_for`` words them.

A wrong password is the auth package's :class:`~portal.auth.errors.ReauthFailed`.
"""

from __future__ import annotations

from datetime import datetime


class WithdrawalError(Exception):
    """Base of the withdrawal package's failures."""


class ConfirmationMissing(WithdrawalError):
    """``confirm`` was not ``y``: nothing was checked or changed."""


class WithdrawalRefused(WithdrawalError):
    """Fees are unpaid: ``amount`` won is due."""

    def __init__(self, amount: int) -> None:
        super().__init__(str(amount))
        self.amount = amount


class RequestAlreadyOpen(WithdrawalError):
    """The customer already has an open withdrawal request, made at ``created_at``."""

    def __init__(self, created_at: datetime | None) -> None:
        super().__init__(created_at.isoformat() if created_at else "")
        self.created_at = created_at


class AlreadyWithdrawn(WithdrawalError):
    """Another request (a second submit, staff) completed this withdrawal first."""


class NoOpenRequest(WithdrawalError):
    """There is no open withdrawal request to cancel or complete."""


class RightsRequestNotFound(WithdrawalError):
    """No such rights request (or not the customer's)."""


class RightsRequestNotOpen(WithdrawalError):
    """The rights request was already cancelled or answered."""
