"""Whatever staff type into a notice, the rendered HTML holds only allow-listed markup."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.policy.markdown import ALLOWED_TAGS, render_markdown

PIECES = st.sampled_from(
    [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:x'>",
        "[a](javascript:alert(1))", "[b](JaVaScRiPt:alert(1))", "[c](data:text/html,<b>)",
        "<svg onload=alert(1)>", '" onmouseover="x', "<style>*{}</style>", "## 1. 제목",
        "### 가. 소제목", "| a | b |\n|---|---|\n| 1 | 2 |", "- 항목", "1. 번호", "**굵게**",
        "`code`", "> 인용", "[ok](https://example.kr)", "<!-- c -->", "&lt;", "\n\n", " ",
        '<h2 id="main">x</h2>', "{#x}", "<iframe src=//evil>",
    ]
)  # fmt: skip
TAG_RE = re.compile(r"<\s*/?\s*([a-zA-Z0-9]+)([^>]*)>")


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=12))
def test_rendered_markdown_holds_only_allowed_markup(pieces):
    html = str(render_markdown("".join(pieces)).html)
    for name, attributes in TAG_RE.findall(html):
        assert name.lower() in ALLOWED_TAGS, name
        assert not re.search(r"\bon\w+\s*=|style\s*=|javascript:|data:", attributes, re.I)
        ids = re.findall(r'id="([^"]*)"', attributes)
        assert all(i.startswith("section-") for i in ids), ids
