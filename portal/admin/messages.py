"""User-facing messages of the back office, in Korean (the msgid) with English in the catalog."""

from flask_babel import lazy_gettext as _l

PASSWORD_REUSED = _l("최근에 쓴 비밀번호 5개는 다시 쓸 수 없습니다.")
PASSWORD_EXPIRED = _l(
    "비밀번호를 바꾼 지 90일이 지났거나 관리자가 정한 임시 비밀번호입니다. "
    "새 비밀번호로 바꿔 주세요."
)
TEMPORARY_PASSWORD_EXPIRED = _l(
    "임시 비밀번호의 사용 기한이 지났습니다. 관리자에게 비밀번호 재설정을 요청해 주세요."
)
PASSWORD_CHANGED = _l("비밀번호를 바꿨습니다.")
SIGNED_IN = _l("로그인되었습니다.")
SIGNED_OUT = _l("로그아웃되었습니다.")
SIGN_IN_FIRST = _l("직원 계정으로 로그인해 주세요.")
SESSION_ENDED = _l("오래 사용하지 않아 로그아웃되었습니다. 다시 로그인해 주세요.")
OTP_FORMAT = _l("OTP 번호 6자리를 입력해 주세요.")
REAUTH_NEEDED = _l("이 작업은 비밀번호를 한 번 더 확인한 뒤에 할 수 있습니다.")
REAUTH_DONE = _l("비밀번호를 확인했습니다. 하던 작업을 계속해 주세요.")
FORBIDDEN = _l("이 화면은 담당 권한이 있는 직원만 쓸 수 있습니다. 접근 시도는 기록되었습니다.")
CONFIRM_MISMATCH = _l("확인란에 대상 아이디를 정확히 입력해 주세요.")
UPLOAD_MISSING = _l("가져올 CSV 파일을 골라 주세요.")
UPLOAD_NOT_UTF8 = _l("파일을 읽을 수 없습니다. UTF-8 CSV로 저장한 뒤 다시 올려 주세요.")
CUSTOMER_REGISTERED = _l(
    "고객을 등록했습니다. 아래 내용은 이 화면에서 한 번만 보입니다. "
    "인쇄해서 고객에게 전달해 주세요."
)
CARD_REISSUED = _l(
    "보안카드를 재발급했습니다. 이전 카드는 더 이상 쓸 수 없습니다. "
    "새 카드는 이 화면에서 한 번만 보입니다. 인쇄해서 고객에게 전달해 주세요."
)
FIELD_TOO_LONG = _l("입력이 너무 깁니다.")
WITHDRAWAL_COMPLETED = _l("탈퇴를 완료했습니다. 회원 정보는 파기되고 법정 보관 기록만 남았습니다.")
WITHDRAWAL_REJECTED = _l("탈퇴 신청을 반려했습니다. 고객은 탈퇴 화면에서 사유를 볼 수 있습니다.")
CORRECTION_APPROVED = _l("정정 신청을 승인했습니다.")
CORRECTION_REJECTED = _l("정정 신청을 반려했습니다.")
NOTICE_MARKED = _l("통지 완료로 표시했습니다.")
INQUIRY_ANSWERED = _l("답변을 등록했습니다. 고객은 문의 화면에서 볼 수 있습니다.")
DISCLOSURE_RECORDED = _l("제3자 제공 기록을 남겼습니다.")
CUSTOMER_NOT_FOUND = _l("이 아이디의 고객이 없습니다.")

# Staff accounts (portal.admin.services raises StaffError with these).
STAFF_ROLE_UNKNOWN = _l("역할은 고객지원, 요금, 개인정보 보호책임자, 관리자 중 하나여야 합니다.")
STAFF_LOGIN_TAKEN = _l("이미 있는 직원 아이디입니다.")
STAFF_NOT_SELF = _l("자기 계정의 역할 변경, 사용 중지, 초기화는 다른 관리자가 해야 합니다.")
STAFF_SAME_ROLE = _l("이미 그 역할입니다.")
STAFF_ALREADY_DISABLED = _l("이미 사용 중지된 계정입니다.")
STAFF_ALREADY_ACTIVE = _l("이미 사용 중인 계정입니다.")
STAFF_ROLE_CHANGED = _l("역할을 바꿨습니다. 그 직원의 로그인 세션은 모두 끝났습니다.")
STAFF_DISABLED = _l("계정을 사용 중지했습니다. 그 직원의 로그인 세션은 모두 끝났습니다.")
STAFF_ENABLED = _l("계정을 다시 사용하도록 했습니다.")
REVIEW_SAVED = _l("이 달의 접속기록 점검 완료를 기록했습니다.")
NUMBER_EXPECTED = _l("숫자로 입력해 주세요.")
DATE_FORMAT = _l("날짜를 YYYY-MM-DD 형식으로 입력해 주세요.")
NOTICE_POSTED = _l("공지사항을 게시했습니다.")
POLICY_ANNOUNCED = _l("처리방침 개정을 공고했습니다. 공고 공지가 함께 게시되었습니다.")
