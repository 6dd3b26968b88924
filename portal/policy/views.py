"""Public policy and notice pages; popups' "not today" without JavaScript.

The GET pages are public and the most visited: each answers ``If-None-Match`` /
``If-Modified-Since`` with 304 from the shared content version (no query while this worker's
copy of it is fresh), and anonymous visitors get the page from memory (portal.pagecache).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import is_resource_modified

from portal import pagecache
from portal.dbtypes import next_kst_midnight
from portal.extensions import db
from portal.policy import bp, notices, officers, versions
from portal.policy import messages as m
from portal.policy.banner import PolicyBanner, policy_banner
from portal.policy.compare import compare_versions
from portal.policy.diff import diff_versions
from portal.policy.errors import PageNotFound
from portal.policy.markdown import render_markdown
from portal.policy.retention import PERIODS


def _cacheable(render: Callable[[], str]) -> Response:
    """Serve ``render()`` with ETag / Last-Modified, or 304 when the client's copy is fresh.

    Both validators come from the shared content version (portal.pagecache), kept per worker
    for a few seconds: a 304 costs no query. Anonymous visitors get the page from the
    worker's memory, rendered once per content version, path and language.
    """
    key = pagecache.content_key()
    signed_in = _signed_in()
    locale = str(get_locale() or "ko")
    # Besides the data: the language and who is signed in, so a cached copy is only reused
    # when the page would be the same. (Public pages carry no CSRF token: the language
    # switch is a plain link.)
    user = current_user.get_id() if signed_in else "-"
    etag = pagecache.etag_for(key, request.full_path, locale, user)
    last_modified = pagecache.last_modified()
    # A queued flash message must be shown, not swallowed by a 304 or a shared copy.
    flashes = bool(session.get("_flashes"))
    if not flashes and not is_resource_modified(
        request.environ, etag=etag, last_modified=last_modified
    ):
        response = Response(status=304)
        if not signed_in:
            pagecache.share(key)  # the 304 too is the same for every anonymous visitor
    else:
        body = pagecache.render_cached(
            (request.full_path, locale), render, cache=not (signed_in or flashes)
        )
        response = Response(body, mimetype="text/html")
    response.set_etag(etag)
    response.last_modified = last_modified
    # Cached by the browser and revalidated each time (cheap: a 304 costs no query). Kept
    # private because the banner and the header differ per visitor (language cookie,
    # signed-in state); signed-in pages get no-store from portal.security, which overrides.
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.vary.add("Cookie")
    return response


def _signed_in() -> bool:
    # Without a session cookie there is nobody to look up: no query, no user loader.
    if not request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        return False
    return current_user.is_authenticated


# Each page's queries run inside its render function: a page served from memory, or a 304,
# runs none of them. A 404 raised there is never cached.


@bp.get("/privacy")
def show_policy():
    def render() -> str:
        version = versions.current_version()
        if version is None:
            abort(404)
        return render_template(
            "policy/show_policy.html",
            version=version,
            status="in_force",
            rendered=render_markdown(version.body_md),
            upcoming=versions.upcoming_version(),
            retention_periods=list(PERIODS.values()),
        )

    return _cacheable(render)


@bp.get("/privacy/versions")
def list_versions():
    return _cacheable(
        lambda: render_template("policy/list_versions.html", rows=versions.list_versions())
    )


@bp.get("/privacy/versions/<label>")
def show_version(label: str):
    def render() -> str:
        version = versions.version_by_label(label)
        if version is None:
            abort(404)
        return render_template(
            "policy/show_version.html",
            version=version,
            status=versions.version_status(version),
            rendered=render_markdown(version.body_md),
            previous=versions.previous_version(version),
        )

    return _cacheable(render)


@bp.get("/privacy/diff")
def show_diff():
    return _diff_page(versions.PRIVACY, "policy/show_diff.html")


def _diff_pair(document: str):
    """(old, new) of ``?from=``/``?to=``: ``to`` defaults to the upcoming (else current)
    version, ``from`` to the one it replaces; 404 when either is missing."""
    to_label = request.args.get("to")
    new = (
        versions.version_by_label(to_label, document)
        if to_label
        else (versions.upcoming_version(document) or versions.current_version(document))
    )
    if new is None:
        abort(404)
    from_label = request.args.get("from")
    old = (
        versions.version_by_label(from_label, document)
        if from_label
        else versions.previous_version(new)
    )
    if old is None:
        abort(404)
    return old, new


def _diff_page(document: str, template: str):
    """The 신구조문 대비표 of two versions, with the line diff of their source below it."""

    def render() -> str:
        old, new = _diff_pair(document)
        return render_template(
            template,
            diff=diff_versions(old, new),
            compared=compare_versions(old, new),
            versions=[row.version for row in versions.list_versions(document)],
        )

    return _cacheable(render)


# --- terms of use (이용약관): the same version machinery, document "terms" ------------------


@bp.get("/terms")
def show_terms():

    def render() -> str:
        version = versions.current_version(versions.TERMS)
        if version is None:
            abort(404)
        return render_template(
            "policy/show_terms.html",
            version=version,
            status="in_force",
            rendered=render_markdown(version.body_md),
            upcoming=versions.upcoming_version(versions.TERMS),
        )

    return _cacheable(render)


@bp.get("/terms/versions")
def list_terms_versions():
    return _cacheable(
        lambda: render_template(
            "policy/list_versions.html", rows=versions.list_versions(versions.TERMS), terms=True
        )
    )


@bp.get("/terms/versions/<label>")
def show_terms_version(label: str):
    version = versions.version_by_label(label, versions.TERMS)
    if version is None:
        abort(404)
    return _cacheable(
        lambda: render_template(
            "policy/show_terms_version.html",
            version=version,
            status=versions.version_status(version),
            rendered=render_markdown(version.body_md),
            previous=versions.previous_version(version),
        )
    )


@bp.get("/terms/diff")
def show_terms_diff():
    return _diff_page(versions.TERMS, "policy/show_terms_diff.html")


@bp.get("/privacy/officers")
def list_officers():
    return _cacheable(
        lambda: render_template("policy/list_officers.html", officers=officers.list_officers())
    )


@bp.get("/notices")
def list_notices():
    try:
        number = notices.parse_page(request.args.get("page"))
    except PageNotFound:
        abort(404)

    def render() -> str:
        try:
            page = notices.notices_page(number)
        except PageNotFound:
            abort(404)
        return render_template("policy/list_notices.html", page=page)

    return _cacheable(render)


@bp.get("/notices/<int:notice_id>")
def show_notice(notice_id: int):
    def render() -> str:
        notice = notices.notice_by_id(notice_id)
        if notice is None:
            abort(404)
        version = notice.policy_version
        return render_template(
            "policy/show_notice.html",
            notice=notice,
            rendered=render_markdown(notice.body_md),
            version=version,
            previous=versions.previous_version(version) if version is not None else None,
            pinned=notices.is_pinned(notice),
        )

    return _cacheable(render)


@bp.post("/notices/<int:notice_id>/dismiss-today")
def dismiss_notice_today(notice_id: int):
    """The popup's "오늘 하루 이 창을 열지 않음" without JavaScript: a cookie until midnight KST."""
    if notices.notice_by_id(notice_id) is None:
        abort(404)
    flash(m.POPUP_HIDDEN_TODAY, "info")
    response = redirect(url_for("main.home"))
    # Not a secret: a display preference. The JavaScript path sets the same cookie itself,
    # so it is not HttpOnly; it expires at the next 00:00 in Seoul, whatever the user's zone.
    response.set_cookie(
        notices.hide_cookie_name(notice_id),
        "1",
        expires=next_kst_midnight(),
        path="/",
        samesite="Lax",
        secure=request.is_secure,
        httponly=False,
    )
    return response


@bp.app_context_processor
def inject_policy_banner() -> dict:
    """``policy_banner()`` for base.html: at most one query per request, only when asked."""

    def banner() -> PolicyBanner | None:
        if "policy_banner" not in g:
            try:
                # Per content version and KST day: a new announcement changes the version.
                g.policy_banner = pagecache.remembered("policy_banner", policy_banner)
            except SQLAlchemyError:
                # An error page while the database is down must still render.
                db.session.rollback()
                g.policy_banner = None
        return g.policy_banner

    def has_revisions() -> bool:
        # Asked only by the pages that draw the policy sub-menu: one count, once a request.
        if "policy_has_revisions" not in g:
            g.policy_has_revisions = versions.has_revisions()
        return g.policy_has_revisions

    return {
        "policy_banner": banner,
        "policy_status_labels": m.STATUS_LABELS,
        "policy_has_revisions": has_revisions,
    }
