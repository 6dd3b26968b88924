"""Field rules for customer data (PRODUCT.md §1), shared by every form and command.

Each function returns the normalised value or raises :class:`FieldInvalid` with a message.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

import phonenumbers
from babel import Locale
from email_validator import EmailNotValidError, validate_email

from portal.customers import messages as m
from portal.dbtypes import kst_today

# The longest values the customer's fields take (the columns are sized to hold them); the
# forms' maxlength comes from here too.
NAME_MAX = 100
EMAIL_MAX = 254
PHONE_MAX = 30
ADDRESS_MAX = 300
ADDRESS_DETAIL_MAX = 200
REPRESENTATIVE_MAX = 100
USERNAME_MAX = 40
POSTAL_CODE_LENGTH = 5
COUNTRY_LENGTH = 2

LOGIN_ID_RE = re.compile(r"[a-z0-9_]{4,20}")
POSTAL_RE = re.compile(rf"[0-9]{{{POSTAL_CODE_LENGTH}}}")
COUNTRY_RE = re.compile(rf"[A-Z]{{{COUNTRY_LENGTH}}}")
# Weights of the Korean business registration number check digit (국세청 검증 규칙).
_BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


class FieldInvalid(ValueError):
    """A field value breaks its rule; ``message`` is user-facing."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


class FieldMissing(FieldInvalid):
    """A required field was left empty: the caller, knowing the field, names it."""


def clean_text(value: str | None, *, max_length: int, required: bool = True) -> str:
    """Trim, NFC-normalise, refuse control characters and over-long text."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" for ch in text):
        raise FieldInvalid(m.CONTROL_CHARACTERS)
    if required and not text:
        raise FieldMissing(m.REQUIRED)
    if len(text) > max_length:
        raise FieldInvalid(m.TOO_LONG % {"max": max_length})
    return text


def login_id(value: str | None) -> str:
    """Login IDs are case-insensitive: stored lower-cased."""
    text = (value or "").strip().lower()
    if not text:
        raise FieldMissing(m.REQUIRED)
    if not LOGIN_ID_RE.fullmatch(text):
        raise FieldInvalid(m.LOGIN_ID_FORMAT)
    return text


def email(value: str | None) -> str:
    text = clean_text(value, max_length=EMAIL_MAX)
    try:
        # No DNS lookups: deliverability checks would leak the address and stall the form.
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise FieldInvalid(m.EMAIL_INVALID) from exc
    return result.normalized


def phone(value: str | None, *, member_type: str) -> str:
    """E.164. General members: a Korean number. Overseas: any country, with its code."""
    text = clean_text(value, max_length=PHONE_MAX)
    # Full-width digits and plus (typed on Korean IMEs) become ASCII.
    text = unicodedata.normalize("NFKC", text)
    if member_type == "overseas" and not text.startswith("+"):
        raise FieldInvalid(m.PHONE_INTERNATIONAL)
    try:
        number = phonenumbers.parse(text, "KR" if member_type == "general" else None)
    except phonenumbers.NumberParseException as exc:
        raise FieldInvalid(m.PHONE_INVALID) from exc
    if not phonenumbers.is_valid_number(number):
        raise FieldInvalid(m.PHONE_INVALID)
    if member_type == "general" and number.country_code != 82:
        raise FieldInvalid(m.PHONE_NOT_KR)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(stored: str | None, member_type: str) -> str:
    """A stored E.164 number as the customer writes it (PRODUCT.md §1), for every page and form.

    General members: the national form (``010-1234-5678``, ``02-1234-5678``). Overseas
    members, and any non-Korean number, the international form (``+1 202-555-0123``): a
    foreign number without its country code is ambiguous. Both forms parse back through
    :func:`phone` to the same E.164, so an edit form that shows them and is submitted
    unchanged counts as no change.
    """
    if not stored:
        return ""
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored  # not E.164 (never written by phone()): show it as held, not hide it
    national = member_type == "general" and number.country_code == 82
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if national
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def postal_code(value: str | None) -> str:
    text = unicodedata.normalize("NFKC", (value or "").strip())
    if not text:
        raise FieldMissing(m.REQUIRED)
    if not POSTAL_RE.fullmatch(text):
        raise FieldInvalid(m.POSTAL_CODE_INVALID)
    return text


# Codes of the CLDR's territories that are not countries one lives in (regions, unknown,
# pseudo-locales, the EU and UN), and Korea itself (overseas members live elsewhere).
_NOT_A_COUNTRY = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "KR"}


def country_codes() -> frozenset[str]:
    """The ISO 3166 codes an overseas member may give (CLDR's list, via Babel)."""
    return _country_codes()


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    territories = Locale("en").territories
    return frozenset(
        code for code in territories if COUNTRY_RE.fullmatch(code) and code not in _NOT_A_COUNTRY
    )


@lru_cache(maxsize=4)
def country_options(language: str) -> tuple[tuple[str, str], ...]:
    """(code, name) pairs for the country select, named and sorted in ``language``."""
    try:
        names = Locale.parse(language).territories
    except (ValueError, TypeError):
        names = Locale("en").territories
    return tuple(
        sorted(((code, names.get(code, code)) for code in country_codes()), key=lambda o: o[1])
    )


def country(value: str | None) -> str:
    text = (value or "").strip().upper()
    if not text:
        raise FieldMissing(m.REQUIRED)
    if not COUNTRY_RE.fullmatch(text) or text not in country_codes():
        raise FieldInvalid(m.COUNTRY_INVALID)
    return text


def birth_date(value: str | date | None) -> date:
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(unicodedata.normalize("NFKC", (value or "").strip()))
        except ValueError as exc:
            raise FieldInvalid(m.BIRTH_DATE_INVALID) from exc
    if parsed >= kst_today() or parsed.year < 1900:
        raise FieldInvalid(m.BIRTH_DATE_INVALID)
    return parsed


def business_number_ok(digits: str) -> bool:
    """The check digit rule of the 10-digit business registration number."""
    if not re.fullmatch(r"[0-9]{10}", digits):
        return False
    nums = [int(ch) for ch in digits]
    total = sum(n * w for n, w in zip(nums[:9], _BRN_WEIGHTS, strict=True))
    total += (nums[8] * 5) // 10
    return (10 - total % 10) % 10 == nums[9]


def business_number(value: str | None) -> str:
    """Accepts ``123-45-67890`` or ``1234567890``; stores the 10 digits."""
    text = unicodedata.normalize("NFKC", (value or "").strip()).replace("-", "")
    if not business_number_ok(text):
        raise FieldInvalid(m.BUSINESS_NUMBER_INVALID)
    return text
