"""The mail exception tree."""

from __future__ import annotations


class MailError(Exception):
    """Base of mail failures."""


class UnknownKind(MailError):
    """No message text is defined for ``kind``."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"unknown mail kind {kind!r}")
        self.kind = kind


class DeliveryFailed(MailError):
    """The transport could not hand the message over; ``reason`` is kept on the row."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
