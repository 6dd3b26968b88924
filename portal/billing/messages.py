"""User-facing messages of the billing package (Korean msgid, English in the catalog)."""

from flask_babel import lazy_gettext as _l

from portal.auth.errors import ReauthNeeded
from portal.billing import errors as e
from portal.customers.errors import UnderCorrection
from portal.customers.messages import FIELD_LABELS

FORM_SHAPE = _l("입력 형식이 올바르지 않습니다.")
KIND_INVALID = _l("결제 방법은 무통장입금 또는 자동이체 중에서 선택해 주세요.")
BANK_INVALID = _l("목록에 있는 은행을 선택해 주세요.")
ACCOUNT_NUMBER_INVALID = _l(
    "계좌번호는 숫자 10~16자리로 입력해 주세요(하이픈 '-'은 넣어도 됩니다)."
)
ACCOUNT_NUMBER_RETYPE = _l("보안을 위해 계좌번호는 다시 입력해 주세요.")
PAYMENT_METHOD_SAVED = _l("결제 정보를 저장했습니다.")
PAYMENT_METHOD_REAUTH = _l("결제 정보를 바꾸려면 보안을 위해 비밀번호를 다시 입력해 주세요.")
KIND_DEPOSIT = _l("무통장입금")
KIND_AUTO_DEBIT = _l("자동이체")
STATUS_ISSUED = _l("납부 대기")
STATUS_PAID = _l("납부 완료")
STATUS_OVERDUE = _l("연체")
CHANNEL_LABELS = {
    "deposit": _l("무통장입금"),
    "auto_debit": _l("자동이체"),
    "card": _l("카드"),
    "other": _l("기타"),
}
AMOUNT_INVALID = _l("금액은 1원 이상의 정수(원 단위)로 입력해 주세요.")
DATE_INVALID = _l("날짜는 YYYY-MM-DD 형식이어야 합니다.")
PERIOD_INVALID = _l("청구 기간은 YYYY-MM 형식이어야 합니다.")
METHOD_INVALID = _l("납부 방법은 deposit, auto_debit, card, other 중 하나입니다.")
RECORD_INVALID = _l("record 열은 invoice 또는 payment 이어야 합니다.")
INVOICE_NUMBER_INVALID = _l("청구서 번호는 영문, 숫자, '-', '_'로 1~40자입니다.")
INVOICE_NUMBER_DUPLICATE = _l("같은 청구서 번호가 파일에 두 번 있습니다 (%(line)s행).")
INVOICE_NUMBER_CONFLICT = _l("이미 등록된 청구서 번호이며 내용이 다릅니다.")
PAYMENT_NUMBER_DUPLICATE = _l("같은 납부 번호가 파일에 두 번 있습니다 (%(line)s행).")
INVOICE_UNKNOWN = _l("파일에도 등록된 청구서에도 없는 청구서 번호입니다.")
PAID_ON_FUTURE = _l("납부일은 오늘 또는 지난 날짜여야 합니다.")
IMPORT_HEADER_INVALID = _l("머리글(1행)에 필요한 열이 없습니다: %(columns)s")
IMPORT_EMPTY = _l("가져올 행이 없습니다.")
REAUTH_NEEDED = PAYMENT_METHOD_REAUTH
INVOICE_NOT_FOUND = _l("청구서를 찾을 수 없습니다.")
PAYMENT_TOO_LARGE = _l("납부 금액이 남은 청구 금액(%(due)s원)보다 큽니다.")
INVOICE_ALREADY_PAID = _l("이미 모두 납부된 청구서입니다.")
NOT_BUSINESS = _l(
    "세금계산서는 사업자 회원에게만 발행됩니다. 개인 회원은 구매확인서를 이용해 주세요."
)
UNDER_CORRECTION = _l(
    "정정 신청이 처리 중인 정보(%(fields)s)가 들어가는 서류는 처리될 때까지 발급할 수 없습니다."
)
CUSTOMER_NOT_FOUND = _l("아이디 %(login_id)s인 회원이 없습니다.")
DEFAULT_ITEM = _l("서비스 이용료")


def message_for(exc: e.BillingError | ReauthNeeded | UnderCorrection) -> str:
    """The message a billing failure shows (the one mapping for views and commands)."""
    if isinstance(exc, UnderCorrection):
        labels = ", ".join(str(FIELD_LABELS.get(f, f)) for f in exc.fields)
        return str(UNDER_CORRECTION % {"fields": labels})
    if isinstance(exc, e.PaymentTooLarge):
        return str(PAYMENT_TOO_LARGE % {"due": f"{exc.due:,}"})
    if isinstance(exc, e.CustomerNotFound):
        return str(CUSTOMER_NOT_FOUND % {"login_id": exc.login_id})
    if isinstance(exc, e.ImportFailed):
        return "; ".join(f"{line}: {message}" for line, message in exc.rows)
    return str(_FIXED[type(exc)])


_FIXED = {
    ReauthNeeded: REAUTH_NEEDED,
    e.InvoiceNotFound: INVOICE_NOT_FOUND,
    e.InvoiceAlreadyPaid: INVOICE_ALREADY_PAID,
    e.NotBusinessCustomer: NOT_BUSINESS,
}
