"""The account package's failures: each carries data; ``messages.message_for`` words them.

Field-rule failures (:class:`portal.customers.errors.ValidationFailed`) come from the
customers package, whose rules the account's forms share.
"""

from __future__ import annotations


class AccountError(Exception):
    """Base of the account package's failures."""


class StaleProfile(AccountError):
    """The profile form was made from an older version of the row: nothing was saved."""


class CorrectionError(AccountError):
    """Base of the correction failures."""


class CorrectionAlreadyOpen(CorrectionError):
    """A request for that field is already open."""


class CorrectionNotFound(CorrectionError):
    """No such correction request."""


class CorrectionNotOpen(CorrectionError):
    """The request was already approved or rejected."""


class CorrectionConflict(CorrectionError):
    """The customer row changed while the approval was being written; run it again."""


class NoticeNotFound(CorrectionError):
    """No such notification task."""


class NoticeAlreadyDone(CorrectionError):
    """The task was already marked notified."""


class InquiryNotFound(AccountError):
    """No such inquiry."""


class InquiryAlreadyAnswered(AccountError):
    """The inquiry has an answer already."""
