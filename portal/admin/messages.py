"""User-facing messages of the back office, in Korean (the msgid) with English in the catalog."""

from flask_babel import lazy_gettext as _l

PASSWORD_REUSED = _l("최근에 쓴 비밀번호 5개는 다시 쓸 수 없습니다.")
PASSWORD_EXPIRED = _l(
    "비밀번호를 바꾼 지 90일이 지났거나 관리자가 정한 임시 비밀번호입니다. "
    "새 비밀번호로 바꿔 주세요."
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
