"""Markdown to safe HTML for policy texts and notices, with the table of contents.

This module owns the one place in the policy package that marks HTML as safe for templates:
markdown-it escapes raw HTML in the source (``html=False``) and nh3 then keeps only an
allow-list of tags, attributes and link schemes, so a policy or notice body — written by
staff, shown to everyone — can never put script, event handlers or ``style`` into a page. It
also gives every heading a stable ``section-…`` anchor so links such as ``#section-9`` survive
new versions. Renderings are memoised per process, keyed by the text itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from markupsafe import Markup

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

    @property
    def contents(self) -> tuple[TocEntry, ...]:
        """What the page's table of contents lists: the top-level sections (## headings)."""
        return tuple(entry for entry in self.toc if entry.level == 2)


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
        # "3. 개인정보의 보유…" (the policy) or "제3조 (목적)" (the terms): the number anchors.
        number = re.match(r"(\d{1,3})[.)]\s", text) or re.match(r"제(\d{1,3})조", text)
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


@lru_cache(maxsize=1)
def parser():
    """The CommonMark parser (with tables), made on first use.

    markdown-it and nh3 are imported here rather than at the top (2.5 MB a process): a
    worker renders a text once per content version (portal.pagecache), and some never do.
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    return md


@lru_cache(maxsize=128)
def _render_cached(source: str) -> tuple[str, tuple[TocEntry, ...]]:
    # Versions never change, so the rendering of a text is memoised per process; the
    # Markdown stays the source of truth. Keyed by the text itself, so no staleness.
    import nh3

    md = parser()
    tokens = md.parse(source)
    for token in tokens:
        # A document's own "# title" would compete with the page's <h1>.
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
    toc = _anchor_ids(tokens)
    raw = md.renderer.render(tokens, md.options, {})
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
