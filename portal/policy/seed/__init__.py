"""The initial privacy policy, officers (policy §9) and terms of use, as frozen data.

Used by migration 0002 and by :func:`portal.policy.seed.loader.ensure_seed` (tests build
their schema with ``create_all`` and the demo loader calls it too). A published policy text
never changes: a correction is a new version announced through
``versions.announce_revision``, so this data stays as it is even when the policy moves on.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

SEED_LABEL = "2023-09-15"
SEED_TITLE = "개인정보 처리방침"
SEED_ANNOUNCED_ON = date(2023, 9, 15)
SEED_EFFECTIVE_ON = date(2023, 9, 25)
SEED_AUTHOR = "아리온통신(주)"

# The seed text converted to Markdown: the ten numbered sections as ``##`` headings, the
# 가/나 subsections, the retention list ①–⑥ and the officers as a table. Words lost in the
# source file (the "및" / "그" between two spaces) are restored, as the text's own
# cross-references ("3. 개인정보의 보유 및 이용기간") spell them; the stray popup line at the
# end of the source is not part of the policy (it is the notices popup feature).
SEED_MARKDOWN_PATH = Path(__file__).with_name("privacy-policy-2023-09-15.md")

SEED_OFFICERS = [
    {
        "sort_order": 1,
        "role": "개인정보 관리책임자",
        "title": "대표이사",
        "name": "",
        "department": "",
        "phone": "02-6309-6800",
        "email": "",
    },
    {
        "sort_order": 2,
        "role": "개인정보 관리담당자",
        "title": "솔루션사업팀장",
        "name": "",
        "department": "솔루션사업팀",
        "phone": "02-2679-8705",
        "email": "",
    },
]


# The first terms of use (이용약관): the company's own text for the subscription service,
# published with the policy it refers to.
TERMS_SEED_LABEL = "2023-09-15"
TERMS_SEED_TITLE = "서비스 이용약관"
TERMS_SEED_MARKDOWN_PATH = Path(__file__).with_name("terms-2023-09-15.md")


def terms_seed_markdown() -> str:
    """The first terms of use (Markdown)."""
    return TERMS_SEED_MARKDOWN_PATH.read_text(encoding="utf-8")


def seed_markdown() -> str:
    """The seed policy body (Markdown)."""
    return SEED_MARKDOWN_PATH.read_text(encoding="utf-8")
