"""User-facing messages of the withdrawal package (Korean msgid, English in the catalog)."""

from flask_babel import lazy_gettext as _l

from portal.withdrawal import errors as e

CONFIRMATION_MISSING = _l("탈퇴하려면 안내를 확인했다는 데 동의해 주세요.")
REFUSED = _l(
    "미납 요금 %(amount)s원이 있어 탈퇴할 수 없습니다. 요금을 납부한 뒤 다시 신청해 주세요."
)
ALREADY_OPEN = _l(
    "이미 접수된 탈퇴 신청이 있습니다. 처리될 때까지 기다리거나 신청을 취소해 주세요."
)
ALREADY_WITHDRAWN = _l("이미 탈퇴가 완료되었습니다.")
NO_OPEN_REQUEST = _l("진행 중인 탈퇴 신청이 없습니다.")
REQUEST_RECEIVED = _l(
    "탈퇴 신청이 접수되었습니다. 결제·청구 내역을 정리한 뒤 담당자가 탈퇴를 완료합니다."
)
REQUEST_CANCELLED = _l("탈퇴 신청을 취소했습니다.")
REJECT_REASON_REQUIRED = _l("반려 사유를 입력해 주세요.")

RIGHTS_KIND_INVALID = _l("요청 종류를 선택해 주세요.")
RIGHTS_SUBMITTED = _l("요청을 접수했습니다. 10일 안에 답변해 드립니다.")
RIGHTS_CANCELLED = _l("요청을 취소했습니다.")
RIGHTS_NOT_FOUND = _l("요청을 찾을 수 없습니다.")
RIGHTS_NOT_OPEN = _l("이미 취소되었거나 답변된 요청입니다.")
RIGHTS_KIND_LABELS = {
    "deletion": _l("개인정보 삭제"),
    "suspension": _l("처리정지"),
    "consent_withdrawal": _l("동의 철회"),
}
RIGHTS_STATUS_LABELS = {
    "open": _l("처리 중"),
    "cancelled": _l("취소됨"),
    "answered": _l("답변 완료"),
}


def message_for(exc: e.WithdrawalError) -> str:
    """The message a withdrawal failure shows (the one mapping for views and commands)."""
    if isinstance(exc, e.WithdrawalRefused):
        return str(REFUSED % {"amount": f"{exc.amount:,}"})
    return str(_FIXED[type(exc)])


_FIXED = {
    e.ConfirmationMissing: CONFIRMATION_MISSING,
    e.RequestAlreadyOpen: ALREADY_OPEN,
    e.AlreadyWithdrawn: ALREADY_WITHDRAWN,
    e.NoOpenRequest: NO_OPEN_REQUEST,
    e.RightsRequestNotFound: RIGHTS_NOT_FOUND,
    e.RightsRequestNotOpen: RIGHTS_NOT_OPEN,
}
