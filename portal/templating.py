"""Jinja filters and globals: Seoul times, won amounts, phone numbers, the language switch."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g, request
from flask_babel import get_locale

from portal.audit.messages import event_label
from portal.customers.validation import display_phone
from portal.dbtypes import KST


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


def register(app: Flask) -> None:
    app.add_template_filter(kst, "kst")
    app.add_template_filter(won, "won")
    app.add_template_filter(iso_date, "isodate")
    # {{ c.phone|phone(c.member_type) }}: stored E.164, shown national or international.
    app.add_template_filter(display_phone, "phone")

    app.add_template_global(event_label, "event_label")

    @app.context_processor
    def inject_globals() -> dict:
        return {
            "current_locale": str(get_locale() or "ko"),
            "request_id": g.get("request_id", ""),
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
