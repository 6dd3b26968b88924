"""User-facing messages of the policy and notices feature (Korean msgids, translatable),
and :func:`message_for`, the one mapping from a refusal in :mod:`portal.policy.errors` to them."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.policy.errors import (
    AnnouncedInPast,
    BodyRequired,
    BodyTooLong,
    EndDateInPast,
    InvalidLabel,
    LabelTaken,
    OutOfOrder,
    PolicyError,
    TitleRequired,
    TooSoon,
)

LABEL_INVALID = _l("버전 이름은 영문, 숫자, 점(.), 밑줄(_), 하이픈(-)으로 1~40자여야 합니다.")
LABEL_TAKEN = _l("같은 이름(%(label)s)의 처리방침 버전이 이미 있습니다.")
TITLE_REQUIRED = _l("제목을 입력해 주세요. (200자 이하)")
BODY_REQUIRED = _l("본문을 입력해 주세요.")
BODY_TOO_LONG = _l("본문이 너무 깁니다. (%(limit)s자 이하)")
ANNOUNCED_IN_PAST = _l(
    "공고일(%(announced)s)이 이미 지났습니다. 공고일은 오늘(%(today)s) 이후여야 합니다."
)
TOO_SOON = _l(
    "시행일은 공고일로부터 최소 %(days)s일 뒤여야 합니다. "
    "가장 빠른 시행일: %(earliest)s (입력한 시행일: %(effective)s)"
)
OUT_OF_ORDER = _l(
    "시행일(%(effective)s)은 이미 등록된 마지막 버전의 시행일(%(latest)s)보다 뒤여야 합니다."
)
DATE_ORDER = _l("고정 또는 팝업 종료일은 오늘 이후여야 합니다.")

ANNOUNCEMENT_TITLE = _l("개인정보 처리방침 개정 안내 (%(effective)s 시행)")
ANNOUNCEMENT_BODY = _l(
    "아리온통신(주) 개인정보 처리방침이 %(effective)s부터 변경됩니다. "
    "변경 전까지는 현재 처리방침이 적용됩니다.\n\n"
    "- 공고일자: %(announced)s\n"
    "- 시행일자: %(effective)s\n\n"
    "새 처리방침 전문과 변경 내용 비교는 이 공지의 아래 링크에서 확인하실 수 있습니다."
)
ANNOUNCEMENT_MATERIAL = _l(
    "이번 개정은 이용자 권리에 중요한 변경을 포함하여 시행 30일 전에 알려드립니다."
)

TERMS_ANNOUNCEMENT_TITLE = _l("이용약관 개정 안내 (%(effective)s 시행)")
TERMS_ANNOUNCEMENT_BODY = _l(
    "아리온통신(주) 서비스 이용약관이 %(effective)s부터 변경됩니다. "
    "변경 전까지는 현재 약관이 적용됩니다.\n\n"
    "- 공고일자: %(announced)s\n"
    "- 시행일자: %(effective)s\n\n"
    "새 약관 전문과 변경 내용 비교는 이 공지의 아래 링크에서 확인하실 수 있습니다. "
    "시행일 전까지 이의를 제기하지 않고 서비스를 계속 이용하시면 변경 약관에 동의한 것으로 봅니다."
)


@dataclass(frozen=True)
class AnnouncementTexts:
    title: object
    body: object


# The announcement notice of each document (versions.DOCUMENTS).
ANNOUNCEMENT_TEXTS = {
    "privacy": AnnouncementTexts(ANNOUNCEMENT_TITLE, ANNOUNCEMENT_BODY),
    "terms": AnnouncementTexts(TERMS_ANNOUNCEMENT_TITLE, TERMS_ANNOUNCEMENT_BODY),
}

STATUS_IN_FORCE = _l("시행 중")
STATUS_UPCOMING = _l("시행 예정")
STATUS_PAST = _l("지난 버전")
# The badge for each status that versions.list_versions and versions.version_status return.
STATUS_LABELS = {
    "in_force": STATUS_IN_FORCE,
    "upcoming": STATUS_UPCOMING,
    "past": STATUS_PAST,
}

POPUP_HIDDEN_TODAY = _l("오늘은 이 공지를 다시 띄우지 않습니다.")


def message_for(exc: PolicyError) -> str:
    """The words for a refused request, in the current locale (the commands print them).

    :raises TypeError: ``exc`` has no words (``PageNotFound``: the views answer it with 404).
    """
    match exc:
        case InvalidLabel():
            return str(LABEL_INVALID)
        case TitleRequired():
            return str(TITLE_REQUIRED)
        case BodyRequired():
            return str(BODY_REQUIRED)
        case BodyTooLong():
            return str(BODY_TOO_LONG % {"limit": exc.limit})
        case EndDateInPast():
            return str(DATE_ORDER)
        case LabelTaken():
            return str(LABEL_TAKEN % {"label": exc.label})
        case AnnouncedInPast():
            return str(ANNOUNCED_IN_PAST % {"announced": exc.announced_on, "today": exc.today})
        case TooSoon():
            return str(
                TOO_SOON
                % {"days": exc.days, "earliest": exc.earliest, "effective": exc.effective_on}
            )
        case OutOfOrder():
            return str(OUT_OF_ORDER % {"effective": exc.effective_on, "latest": exc.latest})
    raise TypeError(f"no message for {exc!r}")
