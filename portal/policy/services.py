"""Privacy-policy versions, notices and popups: every rule of SPEC §5 lives here.

Functions flush, never commit: the caller (a view or a command) commits once, so a policy
revision and its announcement notice are written in one transaction or not at all.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from time import time as wall_clock

import nh3
from flask import current_app
from flask_babel import force_locale
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from portal.dbtypes import KST, kst_today, utcnow
from portal.extensions import db
from portal.policy import messages as m
from portal.policy.errors import (
    AnnouncedInPast,
    BodyRequired,
    BodyTooLong,
    EndDateInPast,
    InvalidLabel,
    LabelTaken,
    OutOfOrder,
    PageNotFound,
    TitleRequired,
    TooSoon,
)
from portal.policy.models import Notice, PolicyVersion, PrivacyOfficer
from portal.policy.seed import (
    SEED_ANNOUNCED_ON,
    SEED_AUTHOR,
    SEED_EFFECTIVE_ON,
    SEED_LABEL,
    SEED_OFFICERS,
    SEED_TITLE,
    seed_markdown,
)

# Policy §10 promises at least 7 days' notice; a material change gets 30 (SPEC §5).
NOTICE_DAYS = 7
MATERIAL_NOTICE_DAYS = 30
NOTICES_PER_PAGE = 20
MAX_POPUPS = 3
MAX_BODY_CHARS = 100_000
# "Pinned until further notice" (``flask notices post --pinned`` without an end date).
PINNED_INDEFINITELY = date(9999, 12, 31)
LABEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
HIDE_COOKIE_PREFIX = "notice_hidden_"


# --- versions ------------------------------------------------------------------------


def earliest_effective_date(announced_on: date, *, material: bool) -> date:
    """The first allowed effective date for an announcement on ``announced_on``."""
    return announced_on + timedelta(days=MATERIAL_NOTICE_DAYS if material else NOTICE_DAYS)


def announce_revision(
    *,
    label: str,
    title: str,
    body_md: str,
    effective_on: date,
    announced_on: date | None = None,
    material: bool = False,
    author: str = "",
) -> PolicyVersion:
    """Create a policy version and, in the same transaction, its pinned announcement notice.

    The only way to add a version (the seed loader aside). The notice is pinned until the
    effective date and links to the new text and the diff.

    :raises InvalidLabel: malformed label.
    :raises TitleRequired: empty or too long title.
    :raises BodyRequired: empty body.
    :raises BodyTooLong: body over ``MAX_BODY_CHARS``.
    :raises AnnouncedInPast: ``announced_on`` is before today (KST).
    :raises TooSoon: ``effective_on`` is less than 7 days (30 when ``material``) later.
    :raises OutOfOrder: an existing version takes effect on or after ``effective_on``.
    :raises LabelTaken: the label is in use.
    """
    today = kst_today()
    announced_on = announced_on or today
    label = (label or "").strip()
    title = " ".join((title or "").split())
    if not LABEL_RE.fullmatch(label):
        raise InvalidLabel()
    _check_text(title, body_md)
    if announced_on < today:
        raise AnnouncedInPast(announced_on, today)
    earliest = earliest_effective_date(announced_on, material=material)
    if effective_on < earliest:
        days = MATERIAL_NOTICE_DAYS if material else NOTICE_DAYS
        raise TooSoon(effective_on, earliest, days)
    latest = db.session.scalar(select(func.max(PolicyVersion.effective_on)))
    if latest is not None and effective_on <= latest:
        # One version per effective date, in order: "the newest whose date has come" must
        # never be ambiguous.
        raise OutOfOrder(effective_on, latest)
    if db.session.scalar(select(PolicyVersion.id).where(PolicyVersion.label == label)):
        raise LabelTaken(label)

    version = PolicyVersion(
        label=label,
        title=title,
        body_md=body_md,
        announced_on=announced_on,
        effective_on=effective_on,
        material=material,
        author=author,
    )
    db.session.add(version)
    db.session.flush()
    _publish_announcement(version)
    _banner_cache.clear()
    return version


def _publish_announcement(version: PolicyVersion) -> Notice:
    """The notice that announces ``version``: pinned until it takes effect."""
    # Stored text is Korean whatever the language of the staff member's screen.
    with force_locale("ko"):
        title = str(m.ANNOUNCEMENT_TITLE % {"effective": version.effective_on.isoformat()})
        body = str(
            m.ANNOUNCEMENT_BODY
            % {
                "effective": version.effective_on.isoformat(),
                "announced": version.announced_on.isoformat(),
            }
        )
        if version.material:
            body += "\n\n" + str(m.ANNOUNCEMENT_MATERIAL)
    notice = Notice(
        title=title,
        body_md=body,
        published_at=_publish_time(version.announced_on),
        pinned_until=version.effective_on,
        popup=False,
        author=version.author,
        policy_version_id=version.id,
    )
    db.session.add(notice)
    db.session.flush()
    return notice


def announcement_notice(version: PolicyVersion) -> Notice:
    """The notice that announced ``version``.

    :raises LookupError: the version has none (only the seed, announced before the portal).
    """
    notice = db.session.scalars(
        select(Notice).where(Notice.policy_version_id == version.id).order_by(Notice.id)
    ).first()
    if notice is None:
        raise LookupError(version.label)
    return notice


def _publish_time(announced_on: date) -> datetime:
    """Now for an announcement today; 00:00 KST of a later announcement date."""
    if announced_on <= kst_today():
        return utcnow()
    return datetime.combine(announced_on, time.min, KST).astimezone(UTC)


def _check_text(title: str, body_md: str) -> None:
    if not title or len(title) > 200:
        raise TitleRequired()
    if not (body_md or "").strip():
        raise BodyRequired()
    if len(body_md) > MAX_BODY_CHARS:
        raise BodyTooLong(MAX_BODY_CHARS)


def current_version() -> PolicyVersion | None:
    """The version in force: the newest whose effective date (KST) has come."""
    stmt = (
        select(PolicyVersion)
        .where(PolicyVersion.effective_on <= kst_today())
        .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.id.desc())
        .limit(1)
    )
    return db.session.scalars(stmt).first()


def upcoming_version() -> PolicyVersion | None:
    """The next version to take effect, if one has been announced."""
    stmt = (
        select(PolicyVersion)
        .where(PolicyVersion.effective_on > kst_today())
        .order_by(PolicyVersion.effective_on.asc(), PolicyVersion.id.asc())
        .limit(1)
    )
    return db.session.scalars(stmt).first()


def version_by_label(label: str | None) -> PolicyVersion | None:
    """The version called ``label``, or None (also for malformed labels)."""
    if not label or not LABEL_RE.fullmatch(label):
        return None
    return db.session.scalars(select(PolicyVersion).where(PolicyVersion.label == label)).first()


def previous_version(version: PolicyVersion) -> PolicyVersion | None:
    """The version that ``version`` replaces."""
    stmt = (
        select(PolicyVersion)
        .where(PolicyVersion.effective_on < version.effective_on)
        .order_by(PolicyVersion.effective_on.desc(), PolicyVersion.id.desc())
        .limit(1)
    )
    return db.session.scalars(stmt).first()


@dataclass(frozen=True)
class VersionRow:
    version: PolicyVersion
    status: str  # "in_force" | "upcoming" | "past"


def list_versions() -> list[VersionRow]:
    """Every version, newest effective date first, with its status today."""
    today = kst_today()
    versions = list(
        db.session.scalars(
            select(PolicyVersion).order_by(
                PolicyVersion.effective_on.desc(), PolicyVersion.id.desc()
            )
        )
    )
    rows: list[VersionRow] = []
    in_force_seen = False
    for version in versions:
        if version.effective_on > today:
            status = "upcoming"
        elif not in_force_seen:
            status, in_force_seen = "in_force", True
        else:
            status = "past"
        rows.append(VersionRow(version, status))
    return rows


def version_status(version: PolicyVersion) -> str:
    """``in_force``, ``upcoming`` or ``past`` for one version."""
    if version.effective_on > kst_today():
        return "upcoming"
    current = current_version()
    return "in_force" if current is not None and current.id == version.id else "past"


STATUS_LABELS = {
    "in_force": m.STATUS_IN_FORCE,
    "upcoming": m.STATUS_UPCOMING,
    "past": m.STATUS_PAST,
}


@dataclass(frozen=True)
class PolicyBanner:
    """What the site-wide banner needs while a revision is upcoming."""

    label: str
    effective_on: date
    previous_label: str | None


# Every page shows the banner, so its query would run on every request. Revisions are
# announced at least 7 days ahead, so a few seconds' delay before other workers show a new
# one costs nothing: each process keeps the answer for PORTAL_BANNER_CACHE_SECONDS (0 in
# tests), keyed by the KST date so the midnight switch stays exact. An announcement made
# in this process clears it at once.
_banner_cache: dict[str, tuple[float, date, PolicyBanner | None]] = {}


def policy_banner() -> PolicyBanner | None:
    """The upcoming revision and the label it replaces (cached briefly per process)."""
    ttl = current_app.config.get("PORTAL_BANNER_CACHE_SECONDS", 0)
    today = kst_today()
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    cached = _banner_cache.get(key)
    if ttl and cached and cached[0] > wall_clock() and cached[1] == today:
        return cached[2]
    banner = _query_banner(today)
    if ttl:
        _banner_cache[key] = (wall_clock() + ttl, today, banner)
    return banner


def _query_banner(today: date) -> PolicyBanner | None:
    """The upcoming revision and the label it replaces, in one query."""
    older = aliased(PolicyVersion)
    previous_label = (
        select(older.label)
        .where(older.effective_on < PolicyVersion.effective_on)
        .order_by(older.effective_on.desc(), older.id.desc())
        .limit(1)
        .correlate(PolicyVersion)
        .scalar_subquery()
    )
    stmt = (
        select(PolicyVersion.label, PolicyVersion.effective_on, previous_label)
        .where(PolicyVersion.effective_on > today)
        .order_by(PolicyVersion.effective_on.asc(), PolicyVersion.id.asc())
        .limit(1)
    )
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    return PolicyBanner(label=row[0], effective_on=row[1], previous_label=row[2])


# --- seed ----------------------------------------------------------------------------


def ensure_seed() -> bool:
    """Insert the seed policy (2023-09-15) and the §9 officers if missing; True if it did.

    Idempotent. Migration 0002 inserts the same data in a migrated database; this serves
    databases made with ``create_all`` (tests) and ``flask demo load``. The seed is the one
    version not made by :func:`announce_revision`: it was announced in 2023, before this
    portal, so the "not in the past" rule cannot apply to it.
    """
    changed = False
    if db.session.scalar(select(PolicyVersion.id).where(PolicyVersion.label == SEED_LABEL)) is None:
        db.session.add(
            PolicyVersion(
                label=SEED_LABEL,
                title=SEED_TITLE,
                body_md=seed_markdown(),
                announced_on=SEED_ANNOUNCED_ON,
                effective_on=SEED_EFFECTIVE_ON,
                material=False,
                author=SEED_AUTHOR,
            )
        )
        changed = True
    if db.session.scalar(select(func.count(PrivacyOfficer.id))) == 0:
        db.session.add_all(PrivacyOfficer(**officer) for officer in SEED_OFFICERS)
        changed = True
    if changed:
        db.session.flush()
    return changed


def list_officers() -> list[PrivacyOfficer]:
    """The privacy officers and contacts of policy §9, in display order."""
    stmt = select(PrivacyOfficer).order_by(PrivacyOfficer.sort_order, PrivacyOfficer.id)
    return list(db.session.scalars(stmt))


# --- Markdown ------------------------------------------------------------------------

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.enable("table")

ALLOWED_TAGS = {
    "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code",
    "ul", "ol", "li", "strong", "em", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
}  # fmt: skip
SAFE_URL_SCHEMES = {"http", "https", "mailto", "tel"}
HEADING_ID_RE = re.compile(r"section-[0-9a-z-]{1,40}")


@dataclass(frozen=True)
class TocEntry:
    anchor: str
    text: str
    level: int


@dataclass(frozen=True)
class RenderedMarkdown:
    html: Markup
    toc: tuple[TocEntry, ...] = field(default_factory=tuple)


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    # Heading ids come from our renderer only; anything else could clobber page ids.
    if attribute == "id":
        return value if HEADING_ID_RE.fullmatch(value) else None
    return value


def _anchor_ids(tokens) -> list[TocEntry]:
    """Give every heading a stable id: ``section-3`` for "## 3. …", ``section-p2`` else."""
    toc: list[TocEntry] = []
    section = "0"
    sub = 0
    top = 0
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        text = tokens[index + 1].content.strip()
        level = int(token.tag[1])
        number = re.match(r"(\d{1,3})[.)]\s", text)
        if level <= 2:
            sub, top = 0, top + 1
            # Numbered sections keep their number (links like #section-9 stay valid across
            # versions); others are numbered by position, with a letter so they never clash.
            section = number.group(1) if number else f"p{top}"
            anchor = f"section-{section}"
        else:
            sub += 1
            anchor = f"section-{section}-{sub}"
        if any(entry.anchor == anchor for entry in toc):
            anchor = f"{anchor}-{index}"
        token.attrSet("id", anchor)
        toc.append(TocEntry(anchor=anchor, text=text, level=level))
    return toc


@lru_cache(maxsize=128)
def _render_cached(source: str) -> tuple[str, tuple[TocEntry, ...]]:
    # Versions never change, so the rendering of a text is memoised per process; the
    # Markdown stays the source of truth. Keyed by the text itself, so no staleness.
    tokens = _md.parse(source)
    for token in tokens:
        # A document's own "# title" would compete with the page's <h1>.
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
    toc = _anchor_ids(tokens)
    raw = _md.renderer.render(tokens, _md.options, {})
    clean = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes=SAFE_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return clean, tuple(toc)


def render_markdown(source: str) -> RenderedMarkdown:
    """Render Markdown to sanitized HTML plus a table of contents of its headings.

    This is the one place that marks HTML as safe for templates: raw HTML in the source is
    escaped by markdown-it (``html=False``), and the output then goes through nh3 with an
    allow-list of tags and attributes and only http(s)/mailto/tel links, so even a bug in the
    renderer cannot put script, event handlers or ``style`` into a page.
    """
    html, toc = _render_cached(source or "")
    return RenderedMarkdown(html=Markup(html), toc=toc)  # noqa: S704 - nh3-sanitized above


# --- diff ----------------------------------------------------------------------------

CONTEXT_LINES = 2
# Word marks inside a changed line pair; longer lines are marked whole (difflib is quadratic).
MAX_WORD_DIFF_CHARS = 4000
_WORD_RE = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same" | "added" | "removed" | "gap"
    old_no: int | None = None
    new_no: int | None = None
    # (kind, text) pieces: "same" or the changed part ("added"/"removed"), for in-line marks.
    parts: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class PolicyDiff:
    old: PolicyVersion
    new: PolicyVersion
    lines: list[DiffLine]
    added: int
    removed: int

    @property
    def identical(self) -> bool:
        return self.added == 0 and self.removed == 0


def _word_parts(old: str, new: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Mark the changed words inside a changed line pair."""
    a, b = _WORD_RE.findall(old), _WORD_RE.findall(new)
    old_parts: list[tuple[str, str]] = []
    new_parts: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            old_parts.append(("same", "".join(a[i1:i2])))
            new_parts.append(("same", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            old_parts.append(("removed", "".join(a[i1:i2])))
        if j2 > j1:
            new_parts.append(("added", "".join(b[j1:j2])))
    return old_parts, new_parts


def diff_versions(old: PolicyVersion, new: PolicyVersion) -> PolicyDiff:
    """A line diff of two versions' Markdown, with changed words marked inside lines."""
    lines, added, removed = _diff_lines(old.body_md, new.body_md)
    return PolicyDiff(old=old, new=new, lines=list(lines), added=added, removed=removed)


@lru_cache(maxsize=32)
def _diff_lines(old_md: str, new_md: str) -> tuple[tuple[DiffLine, ...], int, int]:
    # Versions never change, so a public, often-requested diff is computed once per process.
    a = old_md.splitlines()
    b = new_md.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    lines: list[DiffLine] = []
    added = removed = 0
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        if lines:
            lines.append(DiffLine(kind="gap"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for offset in range(i2 - i1):
                    lines.append(
                        DiffLine(
                            "same", i1 + offset + 1, j1 + offset + 1, [("same", a[i1 + offset])]
                        )
                    )
                continue
            removed += i2 - i1
            added += j2 - j1
            # Word-level marks only for a one-to-one replacement of short lines; deletions,
            # insertions and uneven replacements are shown line by line.
            one_to_one = tag == "replace" and i2 - i1 == j2 - j1
            if one_to_one and all(
                len(a[i1 + k]) + len(b[j1 + k]) <= MAX_WORD_DIFF_CHARS for k in range(i2 - i1)
            ):
                pairs = [_word_parts(a[i1 + k], b[j1 + k]) for k in range(i2 - i1)]
                for k, (old_parts, _) in enumerate(pairs):
                    lines.append(DiffLine("removed", i1 + k + 1, None, old_parts))
                for k, (_, new_parts) in enumerate(pairs):
                    lines.append(DiffLine("added", None, j1 + k + 1, new_parts))
                continue
            for k in range(i1, i2):
                lines.append(DiffLine("removed", k + 1, None, [("removed", a[k])]))
            for k in range(j1, j2):
                lines.append(DiffLine("added", None, k + 1, [("added", b[k])]))
    return tuple(lines), added, removed


# --- notices -------------------------------------------------------------------------


def post_notice(
    *,
    title: str,
    body_md: str,
    pinned_until: date | None = None,
    popup: bool = False,
    popup_until: date | None = None,
    author: str = "",
) -> Notice:
    """Publish a notice on the board now.

    :raises TitleRequired: empty or too long title.
    :raises BodyRequired: empty body.
    :raises BodyTooLong: body over ``MAX_BODY_CHARS``.
    :raises EndDateInPast: ``pinned_until`` or ``popup_until`` is before today (KST).
    """
    title = " ".join((title or "").split())
    _check_text(title, body_md)
    today = kst_today()
    for until in (pinned_until, popup_until):
        if until is not None and until < today:
            raise EndDateInPast()
    notice = Notice(
        title=title,
        body_md=body_md,
        published_at=utcnow(),
        pinned_until=pinned_until,
        popup=popup,
        popup_until=popup_until if popup else None,
        author=author,
    )
    db.session.add(notice)
    db.session.flush()
    return notice


def _published():
    return Notice.published_at <= utcnow()


def _is_pinned(today: date):
    return Notice.pinned_until.is_not(None) & (Notice.pinned_until >= today)


def latest_notices(*, limit: int = 5) -> list[Notice]:
    """The newest published notices, for the home page and the dashboard."""
    stmt = (
        select(Notice)
        .where(_published())
        .order_by(Notice.published_at.desc(), Notice.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def notice_by_id(notice_id: int) -> Notice | None:
    """A published notice, or None (unknown, or scheduled for later)."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.published_at > utcnow():
        return None
    return notice


def is_pinned(notice: Notice) -> bool:
    """Whether ``notice`` is pinned today (KST)."""
    return notice.pinned_until is not None and notice.pinned_until >= kst_today()


@dataclass(frozen=True)
class Page:
    items: list[Notice]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def parse_page(raw: str | None) -> int:
    """Page numbers from a query string: 1 when absent, else a positive integer.

    :raises PageNotFound: not a positive integer of at most 9 digits.
    """
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise PageNotFound(raw)
    return int(raw)


def notices_page(page: int, *, per_page: int = NOTICES_PER_PAGE) -> Page:
    """One page of the board: pinned notices first, then newest first.

    :raises PageNotFound: ``page`` is past the last page (page 1 always exists).
    """
    today = kst_today()
    total = db.session.scalar(select(func.count(Notice.id)).where(_published())) or 0
    pages = max(1, -(-total // per_page))
    if page < 1 or page > pages:
        raise PageNotFound(str(page))
    pinned_first = case((_is_pinned(today), 0), else_=1)
    stmt = (
        select(Notice)
        .where(_published())
        .order_by(pinned_first, Notice.published_at.desc(), Notice.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return Page(items=list(db.session.scalars(stmt)), page=page, pages=pages, total=total)


def hide_cookie_name(notice_id: int) -> str:
    """The cookie that hides popup ``notice_id`` for the rest of the KST day."""
    return f"{HIDE_COOKIE_PREFIX}{int(notice_id)}"


def active_popups(hidden: set[int] | None = None) -> list[Notice]:
    """Popup notices for the home page, minus those hidden today by cookie."""
    today = kst_today()
    stmt = (
        select(Notice)
        .where(
            _published(),
            Notice.popup.is_(True),
            Notice.popup_until.is_(None) | (Notice.popup_until >= today),
        )
        .order_by(Notice.published_at.desc(), Notice.id.desc())
        .limit(MAX_POPUPS + len(hidden or ()))
    )
    shown = [n for n in db.session.scalars(stmt) if n.id not in (hidden or set())]
    return shown[:MAX_POPUPS]


def hidden_popup_ids(cookies) -> set[int]:
    """Notice ids hidden today, from the request cookies."""
    hidden: set[int] = set()
    for name, value in cookies.items():
        if name.startswith(HIDE_COOKIE_PREFIX) and value == "1":
            suffix = name[len(HIDE_COOKIE_PREFIX) :]
            if suffix.isascii() and suffix.isdigit() and len(suffix) < 12:
                hidden.add(int(suffix))
    return hidden


# --- caching -------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentState:
    """What public policy and notice pages depend on: changes whenever they would."""

    fingerprint: str
    last_modified: datetime


def content_state() -> ContentState:
    """A fingerprint and last-modified time of versions, officers and notices (one query)."""
    now = utcnow()
    published = _published()
    stmt = select(
        select(func.count(PolicyVersion.id)).scalar_subquery(),
        select(func.max(PolicyVersion.created_at)).scalar_subquery(),
        select(func.count(PrivacyOfficer.id)).scalar_subquery(),
        select(func.max(PrivacyOfficer.updated_at)).scalar_subquery(),
        select(func.count(Notice.id)).where(published).scalar_subquery(),
        select(func.max(Notice.updated_at)).where(published).scalar_subquery(),
        select(func.max(Notice.id)).where(published).scalar_subquery(),
    )
    row = db.session.execute(stmt).one()
    today = kst_today()
    # The pages also change at midnight KST (status, banner, pins), so the day counts.
    midnight = datetime.combine(today, time.min, KST).astimezone(UTC)
    stamps = [_aware(value) for value in (row[1], row[3], row[5]) if value is not None]
    last_modified = min(max([midnight, *stamps]), now)
    raw = "|".join(str(value) for value in (*row, today.isoformat()))
    return ContentState(
        fingerprint=hashlib.sha256(raw.encode()).hexdigest()[:32], last_modified=last_modified
    )


def _aware(value: datetime) -> datetime:
    # max() over a UTCDateTime column comes back naive from SQLite: it is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
