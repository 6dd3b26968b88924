"""Every mail's words, in Korean (the msgid) with English in the catalog.

A kind is a subject, paragraphs with ``%(name)s`` placeholders filled from the message's
context, and at most one link (a path on the portal, joined to PORTAL_BASE_URL). No kind has
a placeholder for a password, a card code, a recovery code or an account number: mail is
read on shared and forwarded screens, so it says *that* something changed, never the secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from portal.mail.errors import UnknownKind

GREETING = _l("%(name)s님, 안녕하세요.")
GREETING_ANONYMOUS = _l("안녕하세요.")
NOT_YOU = _l("본인이 한 일이 아니라면 즉시 비밀번호를 바꾸고 고객센터(%(centre)s)로 연락해 주세요.")
FOOTER = _l("이 메일은 발신 전용입니다. 문의는 고객센터(%(centre)s)로 해 주세요.")
LINK_FALLBACK = _l("링크가 열리지 않으면 아래 주소를 브라우저에 붙여 넣어 주세요.")
SUBJECT_PREFIX = "[AnyTrack/Spot]"


@dataclass(frozen=True)
class Kind:
    """One kind of mail: subject, paragraphs, the link (path template and label)."""

    subject: object
    paragraphs: tuple
    link_label: object | None = None
    link_path: str | None = None
    warn: bool = False  # adds the "not you?" line
    labels: dict = field(default_factory=dict)  # context key → {value: lazy label}


FACTOR_CHANGES = {
    "otp_enrolled": _l("OTP 앱이 새로 등록되었습니다."),
    "recovery_codes_generated": _l(
        "복구 코드를 새로 만들었습니다. 이전 복구 코드는 쓸 수 없습니다."
    ),
    "card_issued": _l("보안카드가 재발급되었습니다. 이전 보안카드는 쓸 수 없습니다."),
}
PAYMENT_KINDS = {"deposit": _l("무통장입금"), "auto_debit": _l("자동이체")}
CORRECTION_FIELDS = {
    "name": _l("성명"),
    "birth_date": _l("생년월일"),
    "business_number": _l("사업자등록번호"),
}
CORRECTION_OUTCOMES = {
    "approved": _l("승인되어 정보가 정정되었습니다."),
    "rejected": _l("반려되었습니다. 사유는 포털에서 확인할 수 있습니다."),
}

KINDS: dict[str, Kind] = {
    "password_reset": Kind(
        subject=_l("비밀번호 재설정 안내"),
        paragraphs=(
            _l("아이디 %(login_id)s의 비밀번호 재설정을 요청하셨습니다."),
            _l(
                "아래 링크는 %(minutes)s분 동안 한 번만 쓸 수 있습니다. 새 비밀번호를 정한 뒤 "
                "보안카드 또는 OTP로 본인 확인을 마치면 새 비밀번호가 적용됩니다."
            ),
            _l("요청하지 않으셨다면 이 메일을 무시해 주세요. 비밀번호는 바뀌지 않습니다."),
        ),
        link_label=_l("비밀번호 재설정"),
        link_path="/login/reset/%(token)s",
    ),
    "login_ids": Kind(
        subject=_l("아이디 안내"),
        paragraphs=(
            _l("이 메일 주소로 가입된 아이디를 알려 드립니다: %(login_ids)s"),
            _l("요청하지 않으셨다면 이 메일을 무시해 주세요."),
        ),
        link_label=_l("로그인"),
        link_path="/login",
    ),
    "new_browser_signin": Kind(
        subject=_l("새 브라우저에서 로그인했습니다"),
        paragraphs=(
            _l("%(when)s에 전에 쓰지 않던 브라우저에서 계정에 로그인했습니다."),
            _l("접속 IP: %(ip)s · 브라우저: %(agent)s"),
        ),
        link_label=_l("로그인 기기와 세션 보기"),
        link_path="/account/security",
        warn=True,
    ),
    "password_changed": Kind(
        subject=_l("비밀번호가 변경되었습니다"),
        paragraphs=(
            _l("%(when)s에 계정의 비밀번호가 변경되었습니다."),
            _l("다른 기기의 로그인은 모두 종료되었습니다."),
        ),
        link_label=_l("비밀번호 찾기"),
        link_path="/login/forgot-password",
        warn=True,
    ),
    "second_factor_changed": Kind(
        subject=_l("2단계 인증 수단이 변경되었습니다"),
        paragraphs=(_l("%(when)s: %(change)s"),),
        link_label=_l("보안 설정 보기"),
        link_path="/account/security",
        warn=True,
        labels={"change": FACTOR_CHANGES},
    ),
    "recovery_code_used": Kind(
        subject=_l("복구 코드로 로그인했습니다"),
        paragraphs=(
            _l("%(when)s에 복구 코드로 로그인했습니다. 남은 복구 코드는 %(left)s개입니다."),
        ),
        link_label=_l("보안 설정 보기"),
        link_path="/account/security",
        warn=True,
    ),
    "payment_method_changed": Kind(
        subject=_l("결제수단이 변경되었습니다"),
        paragraphs=(_l("%(when)s에 결제수단이 %(method)s(으)로 등록되었습니다."),),
        link_label=_l("요금·결제 보기"),
        link_path="/billing",
        warn=True,
        labels={"method": PAYMENT_KINDS},
    ),
    "withdrawal_requested": Kind(
        subject=_l("탈퇴 신청이 접수되었습니다"),
        paragraphs=(
            _l("%(when)s에 회원 탈퇴 신청이 접수되었습니다."),
            _l("거래 내역 정산을 확인한 뒤 처리직원이 탈퇴를 완료하고 다시 알려 드립니다."),
        ),
        link_label=_l("탈퇴 신청 보기"),
        link_path="/account/withdraw",
        warn=True,
    ),
    "withdrawal_completed": Kind(
        subject=_l("회원 탈퇴가 완료되었습니다"),
        paragraphs=(
            _l("%(when)s에 회원 탈퇴가 완료되었습니다. 그동안 이용해 주셔서 감사합니다."),
            _l(
                "법령에 따라 보존하는 기록을 제외한 개인정보는 모두 파기되었으며, "
                "아이디는 다시 발급되지 않습니다."
            ),
        ),
    ),
    "correction_decided": Kind(
        subject=_l("정보 정정 요청이 처리되었습니다"),
        paragraphs=(_l("%(field)s 정정 요청이 %(outcome)s"),),
        link_label=_l("정정 요청 보기"),
        link_path="/account/corrections",
        labels={"field": CORRECTION_FIELDS, "outcome": CORRECTION_OUTCOMES},
    ),
    "inquiry_answered": Kind(
        subject=_l("문의에 답변이 등록되었습니다"),
        paragraphs=(_l("문의하신 \u201c%(subject)s\u201d에 답변이 등록되었습니다."),),
        link_label=_l("답변 보기"),
        link_path="/account/inquiries/%(inquiry_id)s",
    ),
    "policy_revision": Kind(
        subject=_l("개인정보처리방침 개정 안내"),
        paragraphs=(
            _l("개인정보처리방침이 개정되어 %(effective)s부터 시행됩니다."),
            _l("개정 내용은 아래 링크에서 이전 방침과 비교해 보실 수 있습니다."),
        ),
        link_label=_l("개정 내용 보기"),
        link_path="/privacy/diff?to=%(label)s",
    ),
    "terms_revision": Kind(
        subject=_l("이용약관 개정 안내"),
        paragraphs=(
            _l("서비스 이용약관이 개정되어 %(effective)s부터 시행됩니다."),
            _l("개정 내용은 아래 링크에서 현행 약관과 비교해 보실 수 있습니다."),
        ),
        link_label=_l("개정 내용 보기"),
        link_path="/terms/diff?to=%(label)s",
    ),
}


def kind(name: str) -> Kind:
    """The definition of mail kind ``name``.

    :raises UnknownKind: no such kind.
    """
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(name) from None
