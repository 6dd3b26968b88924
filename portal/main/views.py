"""Public pages: home, health check, language switch."""

from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request
from flask_babel import get_locale
from sqlalchemy import literal, select

from portal import pagecache
from portal.errors import ask_for_retry, database_unreachable
from portal.extensions import db, limiter
from portal.main import bp
from portal.policy.markdown import render_markdown
from portal.policy.notices import active_popups, hidden_popup_ids, latest_notice_heads
from portal.security import safe_next_url


@bp.get("/")
def home():
    hidden = hidden_popup_ids(request.cookies)

    def render() -> str:
        popups = active_popups(hidden)
        return render_template(
            "main/home.html",
            notices=latest_notice_heads(),
            popups=popups,
            popup_bodies={notice.id: render_markdown(notice.body_md).html for notice in popups},
        )

    # Anonymous visitors share one copy per language and set of popups hidden today; the
    # popups' "not today" form gets each visitor's own CSRF token (portal.pagecache).
    return pagecache.render_cached(
        (request.full_path, str(get_locale() or "ko"), tuple(sorted(hidden))),
        render,
        cache=pagecache.is_anonymous_view(),
    )


@bp.get("/healthz")
@limiter.exempt
def healthz():
    # The database decides the status: without it nothing works, so a load balancer must
    # stop sending traffic (503). The rate-limit storage is reported, not routed on: with
    # Redis down the limits fall back to per-worker memory (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED)
    # and sign-in keeps working, so taking every host out would turn a Redis outage into a
    # full one. Monitoring alerts on the "degraded" body.
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    try:
        # A Core SELECT, not text(): portal.database runs it without BEGIN/COMMIT.
        db.session.execute(select(literal(1)))
    except Exception as exc:
        db.session.rollback()
        if database_unreachable(exc):
            ask_for_retry()  # a connection found dead after a restart: ask once more
        return "database unavailable", 503, headers
    if not limiter.storage.check():
        return "degraded: rate-limit storage unavailable (limits per worker)", 200, headers
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/language/<lang>")
def set_language(lang: str):
    # A plain link, not a form: it only sets a display preference, and keeping CSRF tokens
    # (and so a session cookie) off public pages lets browsers and proxies cache them.
    if lang not in ("ko", "en"):
        abort(404)
    response = make_response(redirect(safe_next_url(request.args.get("next"), default="/")))
    # A preference, not a secret: readable by the server only, one year.
    response.set_cookie(
        "lang",
        lang,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response
