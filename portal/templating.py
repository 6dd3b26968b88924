"""Jinja filters and globals: Seoul times, won amounts, phone numbers, the language switch,
and the longest input of each form field."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g, request
from flask_babel import get_locale, get_translations

from portal.account import corrections, inquiries
from portal.audit.messages import event_label
from portal.auth import forms as auth_forms
from portal.auth import passwords
from portal.customers import validation as v
from portal.customers.validation import display_phone
from portal.dbtypes import KST

# maxlength= of the form fields, taken from the rules that check them: {{ limits.email }}.
LIMITS = {
    "login_id": auth_forms.LOGIN_ID_MAX,
    "password": passwords.MAX_LENGTH,
    "recovery_code": auth_forms.RECOVERY_CODE_MAX,
    "email": v.EMAIL_MAX,
    "phone": v.PHONE_MAX,
    "postal_code": v.POSTAL_CODE_LENGTH,
    "country": v.COUNTRY_LENGTH,
    "address": v.ADDRESS_MAX,
    "username": v.USERNAME_MAX,
    "inquiry_subject": inquiries.SUBJECT_MAX,
    "inquiry_body": inquiries.BODY_MAX,
    # The corrected value: a name is the longest (a birth date or business number is ~10).
    "correction_value": v.NAME_MAX,
    "correction_reason": corrections.REASON_MAX,
}


def kst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored UTC time in Asia/Seoul."""
    if value is None:
        return ""
    return value.astimezone(KST).strftime(fmt)


def won(amount: int | None) -> str:
    """Integer won with thousands separators: ``12,000원``."""
    return f"{amount or 0:,}원"


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _translations():
    # Flask-Babel resolves the domain, the locale and its cache on every _() (~9 µs, up to
    # 88 calls a page): resolve once per request and locale instead. Keyed by the locale
    # object, so force_locale() (mail rendered in Korean) still gets its own catalogue.
    locale = get_locale()
    cached = g.get("_portal_translations")
    if cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g._portal_translations = (locale, translations)
    return translations


def register(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.add_template_filter(kst, "kst")
    app.add_template_filter(won, "won")
    app.add_template_filter(iso_date, "isodate")
    # {{ c.phone|phone(c.member_type) }}: stored E.164, shown national or international.
    app.add_template_filter(display_phone, "phone")

    app.add_template_global(event_label, "event_label")
    app.add_template_global(LIMITS, "limits")

    @app.context_processor
    def inject_globals() -> dict:
        return {
            "current_locale": str(get_locale() or "ko"),
            "request_id": g.get("request_id", ""),
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
