"""message_for: the one wording of every policy refusal (the exceptions carry only data)."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from portal.policy import errors
from portal.policy.messages import message_for

D1, D2, D3 = date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 5)


@pytest.mark.parametrize(
    ("exc", "korean"),
    [
        (
            errors.InvalidLabel(),
            "버전 이름은 영문, 숫자, 점(.), 밑줄(_), 하이픈(-)으로 1~40자여야 합니다.",
        ),
        (errors.TitleRequired(), "제목을 입력해 주세요. (200자 이하)"),
        (errors.BodyRequired(), "본문을 입력해 주세요."),
        (errors.BodyTooLong(100_000), "본문이 너무 깁니다. (100000자 이하)"),
        (errors.EndDateInPast(), "고정 또는 팝업 종료일은 오늘 이후여야 합니다."),
        (errors.LabelTaken("2026-12"), "같은 이름(2026-12)의 처리방침 버전이 이미 있습니다."),
        (
            errors.AnnouncedInPast(date(2026, 11, 30), D1),
            "공고일(2026-11-30)이 이미 지났습니다. 공고일은 오늘(2026-12-01) 이후여야 합니다.",
        ),
        (
            errors.TooSoon(D3, D2, 7),
            "시행일은 공고일로부터 최소 7일 뒤여야 합니다. "
            "가장 빠른 시행일: 2026-12-08 (입력한 시행일: 2026-12-05)",
        ),
        (
            errors.OutOfOrder(D1, D2),
            "시행일(2026-12-01)은 이미 등록된 마지막 버전의 시행일(2026-12-08)보다 뒤여야 합니다.",
        ),
    ],
)
def test_every_refusal_has_its_words(app, exc, korean):
    with force_locale("ko"):
        assert message_for(exc) == korean
    with force_locale("en"):
        english = message_for(exc)
    assert english and english != korean


def test_english_wording_fills_in_the_data(app):
    with force_locale("en"):
        assert message_for(errors.TooSoon(D3, D2, 30)) == (
            "The effective date must be at least 30 days after the announcement date. "
            "Earliest possible effective date: 2026-12-08 (effective date entered: 2026-12-05)"
        )


def test_a_missing_page_has_no_words_only_a_404(app):
    with pytest.raises(TypeError):
        message_for(errors.PageNotFound("7"))
