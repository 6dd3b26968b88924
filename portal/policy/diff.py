"""Line-and-word diff of two policy versions, for the "변경 내용 비교" page.

This module owns how a revision is compared with the version it replaces: difflib over the
Markdown lines with a little context, and changed words marked inside a one-to-one
replacement of short lines (difflib is quadratic, so long lines are marked whole). Published
versions never change, so :func:`diff_lines` is memoised per process: a public, often
requested comparison is computed once per worker.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from portal.policy.models import PolicyVersion

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


def word_parts(old: str, new: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
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
    lines, added, removed = diff_lines(old.body_md, new.body_md)
    return PolicyDiff(old=old, new=new, lines=list(lines), added=added, removed=removed)


@lru_cache(maxsize=32)
def diff_lines(old_md: str, new_md: str) -> tuple[tuple[DiffLine, ...], int, int]:
    """The diff lines of two Markdown texts, and the numbers of added and removed lines."""
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
                pairs = [word_parts(a[i1 + k], b[j1 + k]) for k in range(i2 - i1)]
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
