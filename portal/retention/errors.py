"""The retention package's failures: each carries data; ``messages.message_for`` words them."""

from __future__ import annotations

from datetime import date


class RetentionError(Exception):
    """Base of the retention package's failures."""


class PurgeDateEarlier(RetentionError):
    """``--now`` is earlier than the date of the last purge."""

    def __init__(self, last: date) -> None:
        super().__init__(last.isoformat())
        self.last = last


class PurgeDateInFuture(RetentionError):
    """A real (not dry) purge as of a day after today would destroy records early."""

    def __init__(self, today: date) -> None:
        super().__init__(today.isoformat())
        self.today = today
