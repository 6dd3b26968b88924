"""User-facing messages of the account package (Korean msgid, English in the catalog)."""

from flask_babel import lazy_gettext as _l

from portal.account import errors as e
from portal.auth.errors import ReauthNeeded
from portal.customers.errors import UnderCorrection
from portal.customers.messages import FIELD_LABELS

# --- profile, corrections, export, disclosures, inquiries (issue 4) -------------------
FORM_SHAPE = _l("입력 형식이 올바르지 않습니다.")
VERSION_MISSING = _l("화면 정보가 올바르지 않습니다. 새로 고친 뒤 다시 시도해 주세요.")
PROFILE_SAVED = _l("회원 정보를 저장했습니다. 이전 정보는 바로 삭제되었습니다.")
PROFILE_UNCHANGED = _l("바뀐 내용이 없어 저장하지 않았습니다.")
PROFILE_REAUTH = _l("회원 정보를 바꾸려면 보안을 위해 비밀번호를 다시 입력해 주세요.")
PROFILE_NOT_SAVED_REAUTH = _l(
    "아직 저장하지 않았습니다. 보안을 위해 비밀번호를 다시 입력해 주세요."
)
PROFILE_STALE = _l(
    "이 화면을 연 뒤 다른 곳(다른 창이나 기기)에서 회원 정보가 바뀌었습니다. "
    "아무것도 저장하지 않았습니다. 아래의 지금 저장된 내용을 확인한 뒤 다시 수정해 주세요."
)
CORRECTION_FIELD_INVALID = _l("정정할 항목을 선택해 주세요.")
CORRECTION_FIELD_NOT_APPLICABLE = _l("이 회원 유형에는 해당하지 않는 항목입니다.")
CORRECTION_SAME = _l("지금 등록된 값과 같습니다.")
CORRECTION_ALREADY_OPEN = _l("이 항목은 이미 정정 신청이 진행 중입니다. 처리 결과를 기다려 주세요.")
CORRECTION_SUBMITTED = _l(
    "정정 신청을 접수했습니다. "
    "처리될 때까지 이 정보는 '정정 중'으로 표시되고 이용·제공되지 않습니다."
)
CORRECTION_NOT_FOUND = _l("정정 신청을 찾을 수 없습니다.")
CORRECTION_NOT_OPEN = _l("이미 처리된 정정 신청입니다.")
CORRECTION_CONFLICT = _l("처리 중에 회원 정보가 바뀌었습니다. 다시 실행해 주세요.")
CORRECTION_REJECT_REASON = _l("반려 사유를 입력해 주세요.")
UNDER_CORRECTION = _l(
    "정정 신청이 처리 중인 정보(%(fields)s)는 처리될 때까지 이용하거나 제공할 수 없습니다."
)
NOTICE_NOT_FOUND = _l("통지 작업을 찾을 수 없습니다.")
NOTICE_ALREADY_DONE = _l("이미 통지 완료로 표시된 작업입니다.")
DISCLOSURE_ITEMS_INVALID = _l("제공 항목이 올바르지 않습니다. 사용할 수 있는 항목: %(items)s")
DISCLOSURE_DATE_INVALID = _l("제공일은 YYYY-MM-DD 형식의 오늘 또는 지난 날짜여야 합니다.")
INQUIRY_SUBMITTED = _l("문의를 접수했습니다. 답변이 등록되면 이 화면에서 확인할 수 있습니다.")
INQUIRY_NOT_FOUND = _l("문의를 찾을 수 없습니다.")
INQUIRY_ALREADY_ANSWERED = _l("이미 답변한 문의입니다.")
NOT_REGISTERED = _l("미등록")


def message_for(exc: e.AccountError | ReauthNeeded | UnderCorrection) -> str:
    """The message an account failure shows (the one mapping for views and commands)."""
    if isinstance(exc, UnderCorrection):
        labels = ", ".join(str(FIELD_LABELS.get(f, f)) for f in exc.fields)
        return str(UNDER_CORRECTION % {"fields": labels})
    return str(_FIXED[type(exc)])


_FIXED = {
    e.StaleProfile: PROFILE_STALE,
    ReauthNeeded: PROFILE_REAUTH,
    e.CorrectionAlreadyOpen: CORRECTION_ALREADY_OPEN,
    e.CorrectionNotFound: CORRECTION_NOT_FOUND,
    e.CorrectionNotOpen: CORRECTION_NOT_OPEN,
    e.CorrectionConflict: CORRECTION_CONFLICT,
    e.NoticeNotFound: NOTICE_NOT_FOUND,
    e.NoticeAlreadyDone: NOTICE_ALREADY_DONE,
    e.InquiryNotFound: INQUIRY_NOT_FOUND,
    e.InquiryAlreadyAnswered: INQUIRY_ALREADY_ANSWERED,
}
