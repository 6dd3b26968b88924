"""Public pages from memory: the shared content version and the per-worker page cache.

The public pages (policy, versions, officers, notices, home, the sign-in form) change only
when staff change what they show — a notice, a policy version, an officer — or when the day
changes in Seoul (statuses, pins, popups and the banner are by KST date). This module owns:

- the **content version**, one row (``content_version``, id 1) shared by every worker and
  host. Any flush or bulk statement that touches a watched model (:func:`watch`) bumps it in
  the same transaction, so it changes exactly when the data does. A worker re-reads it (one
  primary-key read) at most every ``PORTAL_CONTENT_VERSION_SECONDS`` (a few seconds), so a
  new notice shows on every host within seconds; a change made by this worker is seen at
  once (its cache is dropped on commit). A notice scheduled for later is covered by
  ``next_change_at`` in the same row: once that moment passes, the first worker to notice
  bumps the version (a conditional UPDATE, so several workers bump once).
- the **page cache**, per worker (``app.extensions``): a rendered anonymous page kept under
  its path, language and variant until the content version or the KST day changes. Pages
  for signed-in visitors, or with a flash message waiting, are never taken from it.
  Forms: the CSRF token is a placeholder in the cached copy, replaced per response with the
  visitor's own token (:func:`render_cached`), so no token is ever shared.

The ETag of a public page derives from the version, so a 304 costs no query while the
version is fresh in this worker.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from time import monotonic

from flask import Flask, current_app, g, has_app_context, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import BigInteger, event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.dbtypes import KST, UTCDateTime, kst_today, utcnow
from portal.extensions import db
from portal.logs import loggable_path

ROW_ID = 1
# A rendered page is a few kilobytes; this bounds a worker's cache to a few megabytes even
# when visitors vary the query string or the popup cookies at will.
MAX_PAGES = 512
CSRF_PLACEHOLDER = "__portal_csrf_placeholder_4b1e__"
# The WSGI environ key by which a view lets portal.frontcache keep its response.
SHARED = "portal.shared"


class ContentVersion(db.Model):
    """The single row whose ``version`` changes with every change to a public page's data."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The earliest publication time still ahead (a scheduled notice): the pages change then.
    next_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass
class _Watch:
    classes: tuple[type, ...] = ()
    # Returns the earliest scheduled change after ``now`` (or None), on the given session.
    upcoming: Callable[[Session, datetime], datetime | None] | None = None


_watch = _Watch()


def watch(*classes: type, upcoming: Callable[[Session, datetime], datetime | None]) -> None:
    """Bump the content version whenever rows of ``classes`` change (called by their owner)."""
    _watch.classes = tuple({*_watch.classes, *classes})
    _watch.upcoming = upcoming


@dataclass
class _WorkerCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    version: int | None = None
    next_change_at: datetime | None = None
    changed_at: datetime | None = None
    checked_at: float = 0.0
    pages: OrderedDict = field(default_factory=OrderedDict)
    # Whole responses replayed before Flask (portal.frontcache), keyed by the request.
    responses: OrderedDict = field(default_factory=OrderedDict)
    # Small derived values keyed by the content key (the policy banner).
    values: dict = field(default_factory=dict)

    def clear(self) -> None:
        self.pages.clear()
        self.responses.clear()
        self.values.clear()

    def fresh_key(self, ttl: float) -> tuple[int, str] | None:
        """The content key if this worker's copy of the version may be used without a
        query (read within ``ttl`` seconds, no scheduled change due), else None."""
        if self.version is None or ttl <= 0 or monotonic() - self.checked_at >= ttl:
            return None
        if self.next_change_at is not None and utcnow() >= self.next_change_at:
            return None
        return (self.version, kst_today().isoformat())


def _worker() -> _WorkerCache:
    app = current_app._get_current_object()
    cache = app.extensions.get("pagecache")
    if cache is None:
        cache = app.extensions.setdefault("pagecache", _WorkerCache())
    return cache


def forget(app: Flask | None = None) -> None:
    """Drop this worker's version and pages: the next request re-reads the version."""
    if app is None:
        if not has_app_context():
            return
        app = current_app._get_current_object()
    cache = app.extensions.get("pagecache")
    if cache is not None:
        with cache.lock:
            cache.version = None
            cache.clear()


# --- the shared version ------------------------------------------------------------------


def bump(session: Session, *, only_if_due: datetime | None = None) -> None:
    """Advance the content version in ``session``'s transaction (insert the row if missing).

    ``only_if_due``: bump only when the stored ``next_change_at`` has passed by then (several
    workers noticing the same scheduled notice then bump once).
    """
    now = utcnow()
    upcoming = _watch.upcoming(session, now) if _watch.upcoming else None
    conn = session.connection()
    stmt = (
        update(ContentVersion)
        .where(ContentVersion.id == ROW_ID)
        .values(version=ContentVersion.version + 1, changed_at=now, next_change_at=upcoming)
    )
    if only_if_due is not None:
        stmt = stmt.where(ContentVersion.next_change_at <= only_if_due)
    if conn.execute(stmt).rowcount == 0 and only_if_due is None:
        # No row (a schema made without the migration, or emptied by a test): start one.
        conn.execute(
            insert(ContentVersion).values(
                id=ROW_ID, version=1, changed_at=now, next_change_at=upcoming
            )
        )
    session.info["content_changed"] = True


def _touches_watched(objects: Iterable[object]) -> bool:
    return bool(_watch.classes) and any(isinstance(o, _watch.classes) for o in objects)


@event.listens_for(Session, "after_flush")
def _bump_after_flush(session: Session, _context) -> None:
    if session.info.get("bumping"):
        return
    changed = [*session.new, *session.deleted]
    changed += [o for o in session.dirty if session.is_modified(o, include_collections=False)]
    if _touches_watched(changed):
        session.info["bumping"] = True
        try:
            bump(session)
        finally:
            session.info["bumping"] = False


@event.listens_for(Session, "do_orm_execute")
def _bump_on_bulk(state) -> None:
    # UPDATE/DELETE/INSERT statements on a watched model skip the flush: bump here too.
    if not (state.is_update or state.is_delete or state.is_insert) or not _watch.classes:
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, _watch.classes):
        bump(state.session)


@event.listens_for(Session, "after_commit")
def _forget_on_commit(session: Session) -> None:
    if session.info.pop("content_changed", False):
        forget()


@event.listens_for(Session, "after_rollback")
def _nothing_changed(session: Session) -> None:
    session.info.pop("content_changed", None)


def content_key() -> tuple[int, str]:
    """(content version, KST date): what a public page's rendering depends on.

    Reads the shared row at most every ``PORTAL_CONTENT_VERSION_SECONDS`` in this worker.
    """
    cache = _worker()
    key = cache.fresh_key(current_app.config.get("PORTAL_CONTENT_VERSION_SECONDS", 0))
    if key is not None:
        return key
    _read_version(cache, monotonic())
    if cache.next_change_at is not None and utcnow() >= cache.next_change_at:
        # A scheduled notice has just been published: a new version for everyone.
        bump(db.session(), only_if_due=utcnow())
        db.session.flush()
        _read_version(cache, monotonic())
    return (cache.version or 0, kst_today().isoformat())


def _read_version(cache: _WorkerCache, now: float) -> None:
    row = db.session.execute(
        select(
            ContentVersion.version, ContentVersion.next_change_at, ContentVersion.changed_at
        ).where(ContentVersion.id == ROW_ID)
    ).first()
    version, next_change_at, changed_at = tuple(row) if row is not None else (0, None, None)
    with cache.lock:
        if version != cache.version:
            cache.clear()
        cache.version, cache.next_change_at, cache.checked_at = version, next_change_at, now
        cache.changed_at = changed_at


def last_modified() -> datetime:
    """When the public pages last changed: the last content change, or 00:00 KST today
    (statuses, pins and the banner change at midnight), never in the future."""
    content_key()
    changed = _worker().changed_at
    midnight = datetime.combine(kst_today(), time.min, KST).astimezone(UTC)
    if changed is not None and changed.tzinfo is None:
        changed = changed.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return min(max(midnight, changed or midnight), utcnow())


def etag_for(key: tuple, *parts: object) -> str:
    """A strong validator from the content key and what else the page varies by."""
    raw = "|".join(str(p) for p in (*key, *parts))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def remembered(name: str, compute: Callable[[], object]) -> object:
    """A small value derived from the public content (the banner), kept per content key."""
    cache = _worker()
    key = (name, content_key())
    try:
        return cache.values[key]
    except KeyError:
        pass
    value = compute()
    with cache.lock:
        cache.values[key] = value
    return value


# --- the page cache ----------------------------------------------------------------------


def render_cached(key: tuple, render: Callable[[], str], *, cache: bool = True) -> str:
    """The page under ``key`` (path, language, variant) for the current content key.

    ``render`` runs only on a miss; ``cache=False`` (a signed-in visitor, a flash waiting)
    renders without storing. A CSRF token in the page is stored as a placeholder and the
    visitor's own token put back in each response.
    """
    if not cache:
        return render()
    try:
        from_key = (key, content_key())
    except SQLAlchemyError:
        # The version cannot be read (database down, schema not made yet): serve the page
        # uncached rather than fail it; the sign-in form needs no data of its own.
        db.session.rollback()
        return render()
    share(from_key[1])
    worker = _worker()
    body = worker.pages.get(from_key)
    if body is None:
        body = _render_with_placeholder(render)
        with worker.lock:
            worker.pages[from_key] = body
            while len(worker.pages) > MAX_PAGES:
                worker.pages.popitem(last=False)
    if CSRF_PLACEHOLDER in body:
        body = body.replace(CSRF_PLACEHOLDER, generate_csrf())
    return body


def share(key: tuple[int, str]) -> None:
    """Let portal.frontcache replay this response to identical anonymous requests while
    ``key`` (the content key it was made under) stays current.

    Called only for the shared copy of a page (nobody signed in, no flash waiting); the
    middleware still refuses a response that sets a cookie (a CSRF token was made).
    """
    request.environ[SHARED] = (key, loggable_path())


def is_anonymous_view() -> bool:
    """True when the page may come from the shared copy: nobody signed in, no flash waiting.

    Without a session cookie there is nobody to look up, so no query and no user loader.
    """
    if not request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        return True
    if session.get("_flashes"):
        return False
    return not current_user.is_authenticated


def _render_with_placeholder(render: Callable[[], str]) -> str:
    # Flask-WTF keeps the request's token on g (under the field name) once made: presetting
    # it makes every csrf_token() in the template write the placeholder instead.
    had = "csrf_token" in g
    saved = g.get("csrf_token")
    g.csrf_token = CSRF_PLACEHOLDER
    try:
        return render()
    finally:
        if had:
            g.csrf_token = saved
        else:
            g.pop("csrf_token", None)
