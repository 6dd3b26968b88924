"""The 신구조문 대비표: two versions of a document compared article by article, 현행 | 개정.

This module owns the comparison Korean readers expect of a revised policy or terms (the
form the Ministry of Government Legislation and every Korean company use): the document is
cut into articles at its top-level headings ("## 3. 개인정보의 보유…", "## 제3조 (…)"),
articles are matched by their number ("3.", "제3조", "제3조의2") or, without one, by the
heading's words, and each changed article is one row — the current text on the left, the
revised text on the right, changed words marked. An article only in the new version is
"신설", one only in the old "삭제"; an unchanged paragraph of a changed article reads
"(현행과 같음)" on the right, as in the official tables.

The text is what a reader sees, not the Markdown source: markdown-it parses it and only the
words are kept (no ``##``, ``**``, ``\\<`` or table pipes), list items keep their number or
a bullet. Everything is plain text, escaped by the template; nothing here produces HTML.
Published versions never change, so :func:`compare_texts` is memoised per process.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from portal.policy.diff import MAX_WORD_DIFF_CHARS, word_parts
from portal.policy.markdown import parser
from portal.policy.models import PolicyVersion

_ARTICLE_RE = re.compile(r"제\s*(\d{1,4})\s*조(?:\s*의\s*(\d{1,3}))?")
_NUMBER_RE = re.compile(r"(\d{1,3})[.)](?:\s|$)")

# A piece of a paragraph: ("same" | "removed" | "added", text).
Part = tuple[str, str]


@dataclass(frozen=True)
class Article:
    """One article: its matching key, its heading and its paragraphs, as plain text."""

    key: str
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a cell. ``kind``: "same" (unchanged, shown in full in 현행),
    "as_current" (unchanged, "(현행과 같음)" in 개정), "changed" (words marked in ``parts``),
    "removed" or "added" (the whole paragraph)."""

    kind: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class ArticleRow:
    """One row of the table. ``kind``: "changed", "added" (신설) or "removed" (삭제)."""

    kind: str
    key: str
    heading: str  # the heading as it reads now (the old one for a removed article)
    old_heading: tuple[Part, ...]
    new_heading: tuple[Part, ...]
    old: tuple[Paragraph, ...]
    new: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Comparison:
    rows: tuple[ArticleRow, ...]
    unchanged: tuple[str, ...]  # headings of the articles both versions share word for word

    @property
    def identical(self) -> bool:
        return not self.rows


@dataclass(frozen=True)
class VersionComparison:
    old: PolicyVersion
    new: PolicyVersion
    comparison: Comparison


def article_key(heading: str) -> str:
    """The key that matches an article across versions: "제3조", "제3조의2", "3." or words."""
    text = " ".join(heading.split())
    found = _ARTICLE_RE.match(text)
    if found:
        return f"제{int(found.group(1))}조" + (f"의{int(found.group(2))}" if found.group(2) else "")
    found = _NUMBER_RE.match(text)
    if found:
        return f"{int(found.group(1))}."
    return text


def _inline_text(token) -> str:
    """The words of an inline token: emphasis, links and escapes dropped, breaks kept."""
    pieces: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            pieces.append(child.content)
        elif child.type == "softbreak":
            pieces.append(" ")
        elif child.type == "hardbreak":
            pieces.append("\n")
        elif child.type == "image":
            pieces.append(child.content)
    return "".join(pieces).strip()


def articles_of(source: str) -> tuple[Article, ...]:
    """Cut a Markdown text into articles at its top-level (# and ##) headings, as plain text.

    What comes before the first heading is an article with the key "" (the preamble).
    """
    tokens = parser().parse(source or "")
    articles: list[Article] = []
    heading, paragraphs = "", []
    lists: list[str] = []  # "bullet" | "ordered", innermost last
    prefix = ""
    cells: list[str] | None = None
    pending_heading: int | None = None

    def close() -> None:
        if heading or paragraphs:
            articles.append(Article(article_key(heading), heading, tuple(paragraphs)))

    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            pending_heading = int(token.tag[1])
        elif kind == "inline":
            text = _inline_text(token)
            if pending_heading is not None and pending_heading <= 2:
                close()
                heading, paragraphs = text, []
            elif cells is not None:
                cells.append(text)
            elif text:
                paragraphs.append(prefix + text)
                prefix = ""
        elif kind == "heading_close":
            pending_heading = None
        elif kind in ("bullet_list_open", "ordered_list_open"):
            lists.append("ordered" if kind == "ordered_list_open" else "bullet")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            number = token.info if lists and lists[-1] == "ordered" else ""
            prefix = f"{number}. " if number else "· "
        elif kind == "tr_open":
            cells = []
        elif kind == "tr_close":
            line = " / ".join(cell for cell in cells or () if cell)
            if line:
                paragraphs.append(line)
            cells = None
        elif kind in ("fence", "code_block"):
            text = token.content.strip()
            if text:
                paragraphs.append(text)
    close()
    return tuple(articles)


def _whole(kind: str, text: str) -> Paragraph:
    return Paragraph(kind, ((kind, text),))


def _pair(old: str, new: str) -> tuple[Paragraph, Paragraph]:
    """A changed paragraph pair, its words marked (long pairs marked whole: difflib is
    quadratic)."""
    if len(old) + len(new) > MAX_WORD_DIFF_CHARS:
        return _whole("removed", old), _whole("added", new)
    old_parts, new_parts = word_parts(old, new)
    return Paragraph("changed", tuple(old_parts)), Paragraph("changed", tuple(new_parts))


def _compare_paragraphs(
    old: tuple[str, ...], new: tuple[str, ...]
) -> tuple[tuple[Paragraph, ...], tuple[Paragraph, ...]]:
    left: list[Paragraph] = []
    right: list[Paragraph] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for text in old[i1:i2]:
                left.append(_whole("same", text))
                right.append(Paragraph("as_current", ()))
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            a, b = _pair(old[i1 + k], new[j1 + k])
            left.append(a)
            right.append(b)
        left.extend(_whole("removed", text) for text in old[i1 + paired : i2])
        right.extend(_whole("added", text) for text in new[j1 + paired : j2])
    return tuple(left), tuple(right)


def _heading_parts(old: str, new: str) -> tuple[tuple[Part, ...], tuple[Part, ...]]:
    if old == new:
        return (("same", old),), (("same", new),)
    if len(old) + len(new) > MAX_WORD_DIFF_CHARS:
        return (("removed", old),), (("added", new),)
    old_parts, new_parts = word_parts(old, new)
    return tuple(old_parts), tuple(new_parts)


def _changed_row(old: Article, new: Article) -> ArticleRow:
    old_heading, new_heading = _heading_parts(old.heading, new.heading)
    left, right = _compare_paragraphs(old.paragraphs, new.paragraphs)
    return ArticleRow("changed", new.key, new.heading, old_heading, new_heading, left, right)


def _removed_row(article: Article) -> ArticleRow:
    paragraphs = tuple(_whole("removed", text) for text in article.paragraphs)
    heading = (("removed", article.heading),) if article.heading else ()
    return ArticleRow("removed", article.key, article.heading, heading, (), paragraphs, ())


def _added_row(article: Article) -> ArticleRow:
    paragraphs = tuple(_whole("added", text) for text in article.paragraphs)
    heading = (("added", article.heading),) if article.heading else ()
    return ArticleRow("added", article.key, article.heading, (), heading, (), paragraphs)


@lru_cache(maxsize=32)
def compare_texts(old_md: str, new_md: str) -> Comparison:
    """The article-by-article comparison of two Markdown texts."""
    # Versions never change, so a public, often-requested comparison is computed once.
    old_articles = articles_of(old_md)
    new_articles = articles_of(new_md)
    matcher = difflib.SequenceMatcher(
        None,
        [a.key for a in old_articles],
        [a.key for a in new_articles],
        autojunk=False,
    )
    rows: list[ArticleRow] = []
    unchanged: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for old, new in zip(old_articles[i1:i2], new_articles[j1:j2], strict=True):
                if old == new:
                    unchanged.append(new.heading)
                else:
                    rows.append(_changed_row(old, new))
            continue
        # Keys on one side only: an article deleted (삭제) or inserted (신설), in order.
        rows.extend(_removed_row(article) for article in old_articles[i1:i2])
        rows.extend(_added_row(article) for article in new_articles[j1:j2])
    return Comparison(rows=tuple(rows), unchanged=tuple(unchanged))


def compare_versions(old: PolicyVersion, new: PolicyVersion) -> VersionComparison:
    """The 신구조문 대비표 of two versions of one document."""
    return VersionComparison(old=old, new=new, comparison=compare_texts(old.body_md, new.body_md))
