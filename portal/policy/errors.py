"""The policy and notices exception tree: services raise these, callers word them.

Each exception carries the facts of the refusal (the label, the dates, the limit), never the
sentence: the services run under whatever locale the caller has, and the one mapping to the
customer's or the operator's words is :func:`portal.policy.messages.message_for`, used by the
views and the commands alike.
"""

from __future__ import annotations

from datetime import date


class PolicyError(Exception):
    """Base of every refusal of a policy or notice rule."""


class InvalidInput(PolicyError):
    """A label, title, body or date is malformed (base of the five cases below)."""


class InvalidLabel(InvalidInput):
    """A version label that is not 1-40 letters, digits, dots, underscores or hyphens."""


class TitleRequired(InvalidInput):
    """The title is empty or longer than 200 characters."""


class BodyRequired(InvalidInput):
    """The Markdown body is empty or only whitespace."""


class BodyTooLong(InvalidInput):
    """The Markdown body is longer than ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class EndDateInPast(InvalidInput):
    """A notice's pinned or popup end date is before today (KST)."""


class LabelTaken(PolicyError):
    """A version with this label already exists."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


class AnnouncedInPast(PolicyError):
    """The announcement date is before today (KST)."""

    def __init__(self, announced_on: date, today: date) -> None:
        super().__init__(announced_on, today)
        self.announced_on = announced_on
        self.today = today


class TooSoon(PolicyError):
    """The effective date is less than ``days`` (7, or 30 when material) after the
    announcement; ``earliest`` is the first date allowed."""

    def __init__(self, effective_on: date, earliest: date, days: int) -> None:
        super().__init__(effective_on, earliest, days)
        self.effective_on = effective_on
        self.earliest = earliest
        self.days = days


class OutOfOrder(PolicyError):
    """The effective date is not after ``latest``, the latest existing version's."""

    def __init__(self, effective_on: date, latest: date) -> None:
        super().__init__(effective_on, latest)
        self.effective_on = effective_on
        self.latest = latest


class PageNotFound(PolicyError):
    """A page number is malformed or past the last page (the views answer 404)."""
