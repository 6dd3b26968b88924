"""The printable 열람 page: the data download (:mod:`portal.account.export`) laid out for people.

This module owns only the presentation of what :func:`~portal.account.export.build_export`
collects — Korean labels for keys and columns, times in Seoul, yes/no for flags — so the
page and the JSON file can never disagree: a column added to a table appears on both, under
its Korean label once one is written here and under its column name until then. Nothing is
queried here; the values are the export's, already masked where the export masks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from portal.dbtypes import KST

# Sections in the order a customer reads them; a key of the export that is not listed here
# still appears, at the end, under its own name (never silently dropped).
SECTIONS: dict[str, object] = {
    "profile": _l("회원 정보"),
    "service_lines": _l("서비스 회선·단말기"),
    "billing.payment_method": _l("결제 수단"),
    "billing.invoices": _l("청구서"),
    "billing.payments": _l("납부 내역"),
    "security_cards": _l("보안카드"),
    "otp": _l("OTP 인증"),
    "recovery_codes": _l("복구 코드"),
    "sessions": _l("로그인 세션"),
    "events": _l("접속·보안 기록"),
    "correction_requests": _l("정정 신청"),
    "correction_notices": _l("정정 결과 통지"),
    "disclosures": _l("제3자 제공 내역"),
    "inquiries": _l("문의"),
    "withdrawal_requests": _l("탈퇴 신청"),
    "rights_requests": _l("권리 행사 요청"),
    "mail": _l("보낸 메일"),
}

LABELS: dict[str, object] = {
    "login_id": _l("아이디"),
    "login_id_issued_at": _l("아이디 발급일시"),
    "name": _l("성명"),
    "representative": _l("대표자"),
    "member_type": _l("회원 구분"),
    "customer_type": _l("고객 유형"),
    "birth_date": _l("생년월일"),
    "business_number": _l("사업자등록번호"),
    "email": _l("이메일"),
    "phone": _l("연락처(국제 형식)"),
    "phone_display": _l("연락처"),
    "postal_code": _l("우편번호"),
    "address": _l("주소"),
    "address_detail": _l("상세주소"),
    "country": _l("국가"),
    "username": _l("유저네임"),
    "field_sources": _l("정보 출처"),
    "password_changed_at": _l("비밀번호 변경일시"),
    "must_activate": _l("첫 로그인 설정 필요"),
    "second_factor": _l("2차 인증 수단"),
    "failed_logins": _l("연속 로그인 실패 횟수"),
    "locked_until": _l("잠금 해제 일시"),
    "last_login_at": _l("최근 로그인 일시"),
    "last_login_ip": _l("최근 로그인 IP"),
    "created_at": _l("생성일시"),
    "updated_at": _l("수정일시"),
    "version": _l("수정 차수"),
    "id": _l("번호"),
    "service": _l("서비스"),
    "plan": _l("요금제"),
    "device_label": _l("단말기 이름"),
    "device_number": _l("단말기 번호"),
    "activated_on": _l("개통일"),
    "kind": _l("종류"),
    "detail": _l("내용"),
    "ip": _l("IP 주소"),
    "user_agent": _l("브라우저"),
    "last_seen_at": _l("마지막 사용 일시"),
    "authenticated_at": _l("비밀번호 확인 일시"),
    "serial": _l("일련번호"),
    "issued_at": _l("발급일시"),
    "revoked_at": _l("폐기일시"),
    "failed_attempts": _l("연속 실패 횟수"),
    "locked_at": _l("잠긴 일시"),
    "confirmed_at": _l("등록 완료 일시"),
    "pending_created_at": _l("등록 대기 시작 일시"),
    "used_at": _l("사용 일시"),
    "field": _l("항목"),
    "new_value": _l("요청 값"),
    "reason": _l("사유"),
    "status": _l("상태"),
    "resolved_at": _l("처리 일시"),
    "resolution_note": _l("처리 메모"),
    "correction_id": _l("정정 신청 번호"),
    "recipient": _l("받는 곳"),
    "notified_at": _l("통지 일시"),
    "disclosed_on": _l("제공일"),
    "legal_basis": _l("근거"),
    "items": _l("항목"),
    "recorded_at": _l("기록 일시"),
    "subject": _l("제목"),
    "body": _l("본문"),
    "answer": _l("답변"),
    "answered_at": _l("답변 일시"),
    "retention_category": _l("보관 구분"),
    "holder_name": _l("예금주"),
    "bank_code": _l("은행 코드"),
    "account_number": _l("계좌번호"),
    "external_number": _l("관리 번호"),
    "period": _l("청구 기간"),
    "issued_on": _l("발행일"),
    "due_on": _l("납부기한"),
    "total": _l("청구 금액"),
    "paid": _l("납부 금액"),
    "invoice_id": _l("청구서 번호"),
    "paid_on": _l("납부일"),
    "amount": _l("금액"),
    "method": _l("납부 방법"),
    "description": _l("내역"),
    "quantity": _l("수량"),
    "closed_at": _l("종결 일시"),
    "language": _l("언어"),
    "priority": _l("우선순위"),
    "attempts": _l("발송 시도"),
    "next_attempt_at": _l("다음 시도 일시"),
    "sent_at": _l("발송 일시"),
    "customer_id": _l("회원 번호"),
}

# Columns that repeat the page's owner on every row: shown once, not in each table.
HIDDEN = {"customer_id"}
YES, NO = _l("예"), _l("아니요")


@dataclass(frozen=True)
class Section:
    key: str
    title: object
    # Each record is a list of (label, text) pairs; a section may hold no record.
    records: list[list[tuple[object, str]]]


def label_of(key: str) -> object:
    """The Korean label of a key of the export (its own name until one is written here)."""
    return LABELS.get(key, key)


def display(value) -> str:
    """One value as a person reads it: times in Seoul, dates as dates, flags as 예/아니요."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(value, str) and len(value) >= 19 and value[10] == "T":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is not None:
            return parsed.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST")
        return parsed.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(display(item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{label_of(k)}: {display(v)}" for k, v in value.items())
    return str(value)


def _record(row: dict) -> list[tuple[object, str]]:
    return [(label_of(key), display(value)) for key, value in row.items() if key not in HIDDEN]


def _flatten(data: dict) -> dict[str, object]:
    """The export's keys, with billing's parts as their own sections."""
    flat: dict[str, object] = {}
    for key, value in data.items():
        if key in ("schema_version", "generated_at"):
            continue
        if key == "billing" and isinstance(value, dict):
            for part, inner in value.items():
                flat[f"billing.{part}"] = inner
            continue
        flat[key] = value
    return flat


def readable_sections(data: dict) -> list[Section]:
    """The export as sections of labelled records, in reading order."""
    flat = _flatten(data)
    order = [key for key in SECTIONS if key in flat] + [key for key in flat if key not in SECTIONS]
    sections: list[Section] = []
    for key in order:
        value = flat[key]
        if isinstance(value, dict):
            records = [_record(value)]
        elif isinstance(value, list):
            records = [
                _record(row) if isinstance(row, dict) else [("", display(row))] for row in value
            ]
        elif value is None:
            records = []
        else:
            records = [[("", display(value))]]
        sections.append(Section(key=key, title=SECTIONS.get(key, key), records=records))
    return sections
