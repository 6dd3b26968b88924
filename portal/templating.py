"""Jinja filters and globals: Seoul times, won amounts, phone numbers, the language switch,
and the longest input of each form field."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, g, request
from flask_babel import get_locale

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
    "address_detail": v.ADDRESS_DETAIL_MAX,
    "representative": v.REPRESENTATIVE_MAX,
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


def kst_iso(value: str | None) -> str:
    """An ISO-8601 UTC timestamp (the data download's) shown in Asia/Seoul."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST")


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def country_name(code: str | None) -> str:
    """A country code as its name in the page's language: ``US`` → 미국 / United States."""
    if not code:
        return ""
    return dict(v.country_options(str(get_locale() or "ko"))).get(code, code)


def register(app: Flask) -> None:
    app.add_template_filter(kst, "kst")
    app.add_template_filter(won, "won")
    app.add_template_filter(iso_date, "isodate")
    app.add_template_filter(kst_iso, "kst_iso")
    # {{ c.phone|phone(c.member_type) }}: stored E.164, shown national or international.
    app.add_template_filter(display_phone, "phone")

    app.add_template_global(event_label, "event_label")
    app.add_template_global(LIMITS, "limits")
    app.add_template_global(country_name, "country_name")

    @app.context_processor
    def inject_globals() -> dict:
        return {
            "current_locale": str(get_locale() or "ko"),
            "request_id": g.get("request_id", ""),
            "current_path": request.full_path.rstrip("?") if request else "/",
            # The company's details (portal/business.py): footer, error pages, documents.
            "business": current_app.config["PORTAL_BUSINESS"],
        }
