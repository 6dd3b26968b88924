"""Labels of security events as the customer reads them at /account/history."""

from flask_babel import lazy_gettext as _l

EVENT_LABELS = {
    "login_success": _l("로그인 성공"),
    "login_failure": _l("로그인 실패"),
    "account_locked": _l("계정 잠김 (비밀번호 연속 실패)"),
    "second_factor_failure": _l("2단계 인증 실패"),
    "card_locked": _l("보안카드 잠김"),
    "otp_locked": _l("OTP 잠김"),
    "otp_enrolled": _l("OTP 등록"),
    "recovery_codes_generated": _l("복구 코드 발급"),
    "recovery_code_used": _l("복구 코드 사용"),
    "card_issued": _l("보안카드 발급"),
    "password_changed": _l("비밀번호 변경"),
    "account_activated": _l("첫 로그인 완료"),
    "logout": _l("로그아웃"),
    "session_ended": _l("다른 기기 로그아웃"),
    "session_expired": _l("세션 만료"),
    "reauth_success": _l("비밀번호 재확인"),
    "reauth_failure": _l("비밀번호 재확인 실패"),
    "profile_updated": _l("회원 정보 변경"),
    "correction_requested": _l("정정 신청"),
    "correction_approved": _l("정정 신청 승인"),
    "correction_rejected": _l("정정 신청 반려"),
    "data_exported": _l("내 정보 내려받기"),
    "data_viewed": _l("보유 정보 열람"),
    "payment_method_changed": _l("결제 정보 변경"),
}


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


# The monthly access-log review (portal.audit.review).
REVIEW_BAD_MONTH = _l("월은 YYYY-MM 형식의 이번 달 이전 달이어야 합니다.")
REVIEW_ALREADY = _l("이 달은 이미 점검 완료로 기록되었습니다.")
REVIEW_NOT_OVER = _l("끝나지 않은 달은 점검 완료로 기록할 수 없습니다.")
REVIEW_COMMENT_TOO_LONG = _l("의견은 2000자 이하로 입력해 주세요.")
FLAG_LABELS = {
    "many_customers": _l("하루 조회 고객 수 초과"),
    "denied": _l("권한 없는 접근 시도"),
    "night_login": _l("야간 로그인 (22시~6시)"),
    "new_ip": _l("처음 쓰인 IP에서 로그인"),
}
