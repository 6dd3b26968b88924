"""User-facing messages of sign-in, in Korean (the msgid) with English in the catalog."""

from flask_babel import lazy_gettext as _l

from portal.auth import errors as e

PASSWORD_TOO_SHORT = _l("비밀번호는 8자 이상이어야 합니다.")
PASSWORD_TOO_LONG = _l("비밀번호는 128자 이하여야 합니다.")
PASSWORD_CLASSES = _l(
    "비밀번호는 영문 대문자·소문자·숫자·특수문자 중 2종류 이상으로 10자 이상, "
    "또는 3종류 이상으로 8자 이상이어야 합니다."
)
PASSWORD_CONTAINS_ID = _l("비밀번호에 아이디를 포함할 수 없습니다.")
PASSWORD_COMMON = _l("너무 흔하거나 추측하기 쉬운 비밀번호입니다. 다른 비밀번호를 정해 주세요.")
PASSWORD_MISMATCH = _l("새 비밀번호와 확인이 일치하지 않습니다.")
PASSWORD_SAME = _l("새 비밀번호는 지금 비밀번호와 달라야 합니다.")
# The hint under every new-password field: the rules above, in one sentence.
PASSWORD_RULES = _l(
    "8~128자. 영문 대문자·소문자·숫자·특수문자(한글 포함) 중 2종류 이상이면 10자 이상, "
    "3종류 이상이면 8자 이상. 아이디를 포함하거나 흔한 비밀번호는 쓸 수 없습니다."
)

BAD_CREDENTIALS = _l("아이디 또는 비밀번호가 올바르지 않습니다.")
ACCOUNT_LOCKED = _l(
    "비밀번호를 여러 번 잘못 입력하여 계정이 잠겼습니다. %(minutes)s분 뒤에 다시 시도해 주세요."
)
TEMPORARY_PASSWORD_EXPIRED = _l(
    "임시 비밀번호의 사용 기한이 지났습니다. '비밀번호 찾기'로 새 비밀번호를 정하거나 "
    "고객센터에 문의해 주세요."
)
STEP2_EXPIRED = _l("인증 시간이 지났습니다. 처음부터 다시 로그인해 주세요.")
STEP2_TOO_MANY = _l("잘못된 입력이 너무 많아 로그인을 중단했습니다. 처음부터 다시 로그인해 주세요.")
LOGIN_FIRST = _l("먼저 아이디와 비밀번호로 로그인해 주세요.")

CARD_WRONG = _l("보안카드 번호가 올바르지 않습니다. (%(count)s/%(limit)s회 실패)")
CARD_FORMAT = _l("보안카드 번호는 각각 숫자 2자리로 입력해 주세요.")
CARD_LOCKED = _l(
    "보안카드 번호를 여러 번 잘못 입력하여 보안카드가 잠겼습니다. "
    "다른 인증 수단을 쓰거나 고객센터에서 보안카드를 재발급받아 주세요."
)
# The same lock for a customer with no other factor: nothing to switch to on this page.
CARD_LOCKED_ONLY = _l(
    "보안카드 번호를 여러 번 잘못 입력하여 보안카드가 잠겼습니다. "
    "고객센터에서 보안카드를 재발급받으면 다시 로그인할 수 있습니다."
)
CARD_STALE = _l(
    "다른 창에서 보안카드 질문이 바뀌었습니다. 아래에 새로 표시된 번호를 입력해 주세요."
)
CARD_MISSING = _l("사용할 수 있는 보안카드가 없습니다. 고객센터에 재발급을 요청해 주세요.")
CARD_EXHAUSTED = _l("이 보안카드의 번호 조합을 모두 사용했습니다. 보안카드를 재발급받아 주세요.")

OTP_WRONG = _l(
    "OTP 번호가 올바르지 않습니다. (%(count)s/%(limit)s회 실패) "
    "앱의 번호가 계속 맞지 않으면 휴대전화의 시각이 정확한지(날짜 및 시간 자동 설정) "
    "확인해 주세요."
)
OTP_FORMAT = _l("OTP 번호는 숫자 6자리로 입력해 주세요.")
OTP_REPLAY = _l("이미 사용한 OTP 번호입니다. 앱에 새 번호가 나오면 입력해 주세요.")
OTP_LOCKED = _l(
    "OTP 번호를 여러 번 잘못 입력하여 OTP가 잠겼습니다. %(minutes)s분 뒤에 다시 시도해 주세요."
)
OTP_NOT_ENROLLED = _l("OTP가 등록되어 있지 않습니다.")
OTP_ENROLLED = _l("OTP가 등록되었습니다. 다음 로그인부터 OTP를 쓸 수 있습니다.")

RECOVERY_WRONG = _l("복구 코드가 올바르지 않거나 이미 사용되었습니다.")
RECOVERY_USED = _l("복구 코드로 로그인했습니다. 남은 복구 코드: %(count)s개")
RECOVERY_REGENERATED = _l("새 복구 코드를 만들었습니다. 이전 코드는 더 이상 쓸 수 없습니다.")

METHOD_UNAVAILABLE = _l("선택한 인증 수단을 사용할 수 없습니다.")
SIGNED_IN = _l("로그인했습니다.")
SIGNED_OUT = _l("로그아웃했습니다.")
SESSION_ENDED = _l("세션을 종료했습니다.")
SESSION_EXPIRED = _l("오랫동안 사용하지 않아 로그아웃되었습니다. 다시 로그인해 주세요.")
ACTIVATE_CONFIRM_FACTOR = _l(
    "새 비밀번호를 받았습니다. 보안카드 또는 OTP로 본인 확인을 마치면 새 비밀번호가 적용됩니다."
)
ACTIVATE_FIRST = _l("처음 로그인하셨습니다. 새 비밀번호를 정해 주세요.")
REAUTH_NEEDED = _l("보안을 위해 비밀번호를 다시 입력해 주세요.")
REAUTH_WRONG = _l("비밀번호가 올바르지 않습니다.")
PASSWORD_CHANGED = _l("비밀번호를 바꿨습니다. 다른 기기의 로그인은 모두 종료되었습니다.")
CURRENT_PASSWORD_WRONG = _l("지금 비밀번호가 올바르지 않습니다.")

FORGOT_PASSWORD_SENT = _l(
    "입력하신 아이디 또는 이메일로 가입된 계정이 있으면, 등록된 이메일로 비밀번호 재설정 링크를 "
    "보냈습니다. 링크는 %(minutes)s분 동안 한 번만 쓸 수 있습니다. 메일이 오지 않으면 스팸함을 "
    "확인하거나 고객센터(02-2679-8705)로 연락해 주세요."
)
FORGOT_ID_SENT = _l(
    "입력하신 이메일로 가입된 계정이 있으면, 그 주소로 아이디를 보냈습니다. 아이디는 화면에 "
    "표시하지 않습니다. 메일이 오지 않으면 고객센터(02-2679-8705)로 연락해 주세요."
)
# An empty required field names itself (the summary above the form is read on its own).
LOGIN_ID_MISSING = _l("아이디를 입력해 주세요.")
PASSWORD_MISSING = _l("비밀번호를 입력해 주세요.")
PASSWORD_CONFIRM_MISSING = _l("비밀번호 확인을 입력해 주세요.")
CURRENT_PASSWORD_MISSING = _l("지금 비밀번호를 입력해 주세요.")
NEW_PASSWORD_MISSING = _l("새 비밀번호를 입력해 주세요.")
NEW_PASSWORD_CONFIRM_MISSING = _l("새 비밀번호 확인을 입력해 주세요.")
RECOVERY_CODE_MISSING = _l("복구 코드를 입력해 주세요.")
MISSING = {
    "login_id": LOGIN_ID_MISSING,
    "password": PASSWORD_MISSING,
    "password_confirm": PASSWORD_CONFIRM_MISSING,
    "current_password": CURRENT_PASSWORD_MISSING,
    "new_password": NEW_PASSWORD_MISSING,
    "new_password_confirm": NEW_PASSWORD_CONFIRM_MISSING,
    "recovery_code": RECOVERY_CODE_MISSING,
}
FORGOT_PASSWORD_REQUIRED = _l("아이디 또는 이메일 주소를 입력해 주세요.")
EMAIL_REQUIRED = _l("이메일 주소를 입력해 주세요.")
EMAIL_MALFORMED = _l("올바른 이메일 주소가 아닙니다. 예: name@example.com")
RESET_UNKNOWN = _l(
    "비밀번호 재설정 링크가 올바르지 않습니다. 메일의 링크를 빠짐없이 복사했는지 확인하거나 "
    "새 링크를 요청해 주세요."
)
RESET_USED = _l(
    "이미 사용한 비밀번호 재설정 링크입니다. 링크는 한 번만 쓸 수 있습니다. "
    "새 링크를 요청해 주세요."
)
RESET_EXPIRED = _l("비밀번호 재설정 링크의 유효 시간이 지났습니다. 새 링크를 요청해 주세요.")
RESET_CONFIRM_FACTOR = _l(
    "새 비밀번호를 받았습니다. 보안카드 또는 OTP로 본인 확인을 마치면 새 비밀번호가 적용되고, "
    "다른 모든 기기의 로그인이 종료됩니다."
)


def minutes(seconds: int) -> int:
    """Whole minutes, rounded up, for "try again in N minutes"."""
    return max(1, -(-seconds // 60))


CARD_CHANGED = _l(
    "그사이 보안카드가 이미 재발급되었습니다. 고객 정보를 다시 열어 현재 카드를 확인해 주세요."
)


def missing_fields(form) -> list:
    """One message per empty field of a refused sign-in form, in the form's order
    ("아이디를 입력해 주세요."); empty when every field was filled (a shape problem)."""
    return [MISSING[f.name] for f in form if f.name in MISSING and not (f.data or "").strip()]


def message_for(exc: e.AuthError):
    """The message a sign-in failure shows (the one mapping for views and commands)."""
    if isinstance(exc, e.AccountLocked):
        return ACCOUNT_LOCKED % {"minutes": minutes(exc.seconds_left)}
    if isinstance(exc, e.OtpLocked):
        return OTP_LOCKED % {"minutes": minutes(exc.seconds_left)}
    if isinstance(exc, e.WrongCardCode):
        return CARD_WRONG % {"count": exc.failures, "limit": exc.limit}
    if isinstance(exc, e.WrongOtp):
        return OTP_WRONG % {"count": exc.failures, "limit": exc.limit}
    if isinstance(exc, e.PendingLoginExpired):
        return STEP2_TOO_MANY if exc.too_many else STEP2_EXPIRED
    if isinstance(exc, e.ReauthFailed):
        return CURRENT_PASSWORD_WRONG if exc.current else REAUTH_WRONG
    if isinstance(exc, e.ResetLinkInvalid):
        return _RESET.get(exc.reason, RESET_UNKNOWN)
    return _FIXED.get(type(exc), METHOD_UNAVAILABLE)


_RESET = {"unknown": RESET_UNKNOWN, "used": RESET_USED, "expired": RESET_EXPIRED}

# Failures whose message carries no data.
_FIXED = {
    e.InvalidCredentials: BAD_CREDENTIALS,
    e.TemporaryPasswordExpired: TEMPORARY_PASSWORD_EXPIRED,
    e.CardMissing: CARD_MISSING,
    e.CardLocked: CARD_LOCKED,
    e.CardExhausted: CARD_EXHAUSTED,
    e.StaleChallenge: CARD_STALE,
    e.OtpNotEnrolled: OTP_NOT_ENROLLED,
    e.OtpReplay: OTP_REPLAY,
    e.WrongRecoveryCode: RECOVERY_WRONG,
    e.MethodUnavailable: METHOD_UNAVAILABLE,
    e.EmailMalformed: EMAIL_MALFORMED,
    e.CardChanged: CARD_CHANGED,
}


# Customer import (``flask customers import`` and the back office's import screen).
IMPORT_ROW = _l("%(line)s행: %(message)s")
IMPORT_NOTHING_WRITTEN = _l("잘못된 행이 %(count)s개 있어 아무것도 가져오지 않았습니다.")
IMPORT_LOGIN_ID_REPEATED = _l("아이디가 %(line)s행과 겹칩니다.")
IMPORT_CELLS = _l("칸이 %(count)s개입니다. 머리글처럼 %(expected)s개여야 합니다.")
IMPORT_COLUMNS_MISSING = _l("머리글(1행)에 필요한 열이 없습니다: %(columns)s")
IMPORT_COLUMNS_UNKNOWN = _l(
    "머리글(1행)에 알 수 없는 열이 있습니다: %(columns)s (쓸 수 있는 열: %(allowed)s)"
)
IMPORT_COLUMNS_REPEATED = _l("머리글(1행)에 같은 열이 두 번 있습니다: %(columns)s")
IMPORT_PASSWORD_COLUMN = _l(
    "비밀번호 열은 받지 않습니다. 가져온 회원마다 임시 비밀번호를 새로 만들어 한 번만 보여 줍니다."
)
IMPORT_EMPTY = _l("가져올 행이 없습니다.")
IMPORT_TOO_MANY_ROWS = _l(
    "%(line)s행: 한 번에 %(limit)s행까지 가져올 수 있습니다. 파일을 나누어 주세요."
)
IMPORT_LINE_TOO_LONG = _l("%(line)s행: 줄이 너무 깁니다(%(limit)s바이트 초과).")
IMPORT_NOT_UTF8 = _l(
    "%(line)s행: UTF-8 텍스트가 아닙니다. Excel에서는 'CSV UTF-8(쉼표로 분리)'로 저장해 주세요."
)
IMPORT_MALFORMED = _l(
    "%(line)s행: CSV 형식이 올바르지 않습니다(닫히지 않은 따옴표, 너무 긴 칸 등)."
)
IMPORT_CONFLICT = _l(
    "%(line)s행: 가져오는 동안 다른 등록과 겹쳤습니다(아이디 %(login_id)s). "
    "아무것도 가져오지 않았습니다. 다시 실행해 주세요."
)


def import_refusal(exc: e.ImportRefused) -> str:
    """One line saying why an import file was refused as a whole (commands and screens)."""
    if isinstance(exc, e.ImportColumns):
        parts = []
        if exc.passwords:
            parts.append(str(IMPORT_PASSWORD_COLUMN))
        if exc.missing:
            parts.append(str(IMPORT_COLUMNS_MISSING % {"columns": ", ".join(exc.missing)}))
        if exc.unknown:
            parts.append(
                str(
                    IMPORT_COLUMNS_UNKNOWN
                    % {"columns": ", ".join(exc.unknown), "allowed": ", ".join(exc.allowed)}
                )
            )
        if exc.repeated:
            parts.append(str(IMPORT_COLUMNS_REPEATED % {"columns": ", ".join(exc.repeated)}))
        return " ".join(parts)
    if isinstance(exc, e.ImportTooLarge):
        message = IMPORT_TOO_MANY_ROWS if exc.rows else IMPORT_LINE_TOO_LONG
        return str(message % {"line": exc.line, "limit": f"{exc.limit:,}"})
    if isinstance(exc, e.ImportNotUtf8):
        return str(IMPORT_NOT_UTF8 % {"line": exc.line})
    if isinstance(exc, e.ImportMalformed):
        return str(IMPORT_MALFORMED % {"line": exc.line})
    return str(IMPORT_EMPTY)
