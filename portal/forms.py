"""Shared WTForms filters. Forms validate shape only; services hold the rules."""

from __future__ import annotations

import unicodedata

from wtforms import Form


class ShapeForm(Form):
    """A plain WTForms form over ``request.form``.

    CSRF is checked app-wide by CSRFProtect before any view runs, so these forms carry no
    token of their own; they only describe the shape of the input.
    """


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def ascii_digits(value: str | None) -> str | None:
    """Full-width digits from Korean IMEs become ASCII; spaces and hyphens go."""
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")
