"""Messages of the customer field rules (Korean msgid, English in the catalog)."""

from flask_babel import lazy_gettext as _l

REQUIRED = _l("필수 항목입니다.")
# An empty required field, named (see services.collect); REQUIRED only where none is known.
MISSING = {
    "login_id": _l("아이디를 입력해 주세요."),
    "name": _l("성명을 입력해 주세요."),
    "email": _l("이메일을 입력해 주세요."),
    "phone": _l("연락처를 입력해 주세요."),
    "postal_code": _l("우편번호를 입력해 주세요."),
    "address": _l("주소를 입력해 주세요."),
    "country": _l("국가를 입력해 주세요."),
    "username": _l("유저네임을 입력해 주세요."),
    # The account pages' own forms (inquiries, correction requests).
    "subject": _l("제목을 입력해 주세요."),
    "body": _l("내용을 입력해 주세요."),
    "value": _l("바꿀 내용을 입력해 주세요."),
    "reason": _l("신청 사유를 입력해 주세요."),
}
TOO_LONG = _l("%(max)s자 이하로 입력해 주세요.")
LOGIN_ID_FORMAT = _l("아이디는 영문 소문자, 숫자, 밑줄(_)로 4~20자여야 합니다.")
LOGIN_ID_TAKEN = _l("이미 발급되었거나 사용할 수 없는 아이디입니다.")
EMAIL_INVALID = _l("올바른 이메일 주소가 아닙니다.")
PHONE_INVALID = _l("올바른 전화번호가 아닙니다.")
PHONE_NOT_KR = _l("일반 회원은 국내 전화번호를 입력해 주세요.")
PHONE_INTERNATIONAL = _l(
    "해외거주 회원은 국가번호를 포함한 국제 전화번호(+로 시작)를 입력해 주세요."
)
POSTAL_CODE_INVALID = _l("우편번호는 숫자 5자리입니다.")
COUNTRY_INVALID = _l("국가 코드는 영문 2자리(예: US)입니다.")
BIRTH_DATE_INVALID = _l("생년월일은 YYYY-MM-DD 형식의 지난 날짜여야 합니다.")
BUSINESS_NUMBER_INVALID = _l("사업자등록번호 10자리가 올바르지 않습니다(검증번호 불일치).")
MEMBER_TYPE_INVALID = _l("회원 구분이 올바르지 않습니다.")
CUSTOMER_TYPE_INVALID = _l("고객 유형이 올바르지 않습니다.")
SECOND_FACTOR_INVALID = _l("2차 인증 수단은 보안카드(card) 또는 OTP(otp)입니다.")
CONTROL_CHARACTERS = _l("입력할 수 없는 문자가 있습니다.")

FIELD_LABELS = {
    "login_id": _l("아이디"),
    "name": _l("성명"),
    "birth_date": _l("생년월일"),
    "business_number": _l("사업자등록번호"),
    "email": _l("이메일"),
    "phone": _l("연락처"),
    "postal_code": _l("우편번호"),
    "address": _l("주소"),
    "address_detail": _l("상세주소"),
    "representative": _l("대표자"),
    "country": _l("국가"),
    "username": _l("유저네임"),
}
