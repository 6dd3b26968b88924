"""Third-party disclosures (제3자 제공 내역, policy §5 exceptions, PRODUCT.md §6).

Staff record each provision (a CLI command now, the staff screen later); the customer sees
their own list. Items come from a closed vocabulary so that an approved correction can tell
exactly which recipients received the corrected field.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.account import messages as m
from portal.account.models import Disclosure
from portal.customers import validation as v
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer, LoginId
from portal.customers.services import ensure_not_under_correction
from portal.dbtypes import kst_today
from portal.extensions import db
from portal.pagination import Page, paginate, paginate_rows

ITEMS = {
    "name": _l("성명"),
    "birth_date": _l("생년월일"),
    "business_number": _l("사업자등록번호"),
    "login_id": _l("아이디"),
    "email": _l("이메일"),
    "phone": _l("연락처"),
    "address": _l("주소"),
    "service_usage": _l("서비스 이용 정보"),
    "access_log": _l("접속 기록"),
    "billing": _l("결제 정보"),
}


# Staff may type the Korean names printed on the request letter as well as the keys.
ALIASES = {
    "성명": "name",
    "이름": "name",
    "생년월일": "birth_date",
    "사업자등록번호": "business_number",
    "아이디": "login_id",
    "이메일": "email",
    "연락처": "phone",
    "전화번호": "phone",
    "주소": "address",
    "서비스 이용 정보": "service_usage",
    "접속 기록": "access_log",
    "결제 정보": "billing",
}


def item_label(key: str) -> str:
    return str(ITEMS.get(key, key))


def _parse_items(items) -> list[str]:
    raw = items.split(",") if isinstance(items, str) else list(items or [])
    keys: list[str] = []
    for item in raw:
        text = " ".join(str(item).split())
        key = ALIASES.get(text, text.lower())
        if key and key not in keys:
            keys.append(key)
    if not keys or any(key not in ITEMS for key in keys):
        raise ValidationFailed({"items": m.DISCLOSURE_ITEMS_INVALID % {"items": ", ".join(ITEMS)}})
    return keys


def _parse_date(value: str | date | None) -> date:
    if value is None or value == "":
        return kst_today()
    try:
        parsed = value if isinstance(value, date) else date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed({"date": m.DISCLOSURE_DATE_INVALID}) from exc
    if parsed > kst_today() or parsed.year < 2000:
        raise ValidationFailed({"date": m.DISCLOSURE_DATE_INVALID})
    return parsed


def record_disclosure(
    customer: Customer,
    *,
    recipient: str | None,
    legal_basis: str | None,
    items,
    disclosed_on: str | date | None = None,
) -> Disclosure:
    """Record one provision of the customer's data to a third party.

    :raises ValidationFailed: a missing recipient or basis, unknown items, a future date.
    :raises UnderCorrection: an identity item provided is under correction (it must not be
        provided until the request is resolved).
    """
    errors: dict[str, object] = {}
    clean = {}
    for name, value, limit in (("recipient", recipient, 200), ("basis", legal_basis, 300)):
        try:
            clean[name] = v.clean_text(value, max_length=limit)
        except v.FieldInvalid as exc:
            errors[name] = exc.message
    try:
        keys = _parse_items(items)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        keys = []
    try:
        when = _parse_date(disclosed_on)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    ensure_not_under_correction(customer, keys, on=when)
    row = Disclosure(
        customer_id=customer.id,
        disclosed_on=when,
        recipient=clean["recipient"],
        legal_basis=clean["basis"],
        items=",".join(keys),
    )
    db.session.add(row)
    db.session.flush()
    return row


def disclosures_of(customer_id: int, *, page: int = 1, per_page: int = 20) -> Page:
    """One page of the customer's disclosures, newest first (the (customer, date) index)."""
    stmt = (
        select(Disclosure)
        .where(Disclosure.customer_id == customer_id)
        .order_by(Disclosure.disclosed_on.desc(), Disclosure.id.desc())
    )
    return paginate(stmt, page=page, per_page=per_page)


def disclosure_ledger(*, page: int = 1, per_page: int = 20) -> Page:
    """One page of the whole ledger for staff: (disclosure, login ID) pairs, newest first
    (the (disclosed_on, id) index)."""
    stmt = (
        select(Disclosure, LoginId.login_id)
        .join(Customer, Customer.id == Disclosure.customer_id)
        .join(LoginId, LoginId.id == Customer.login_id_id)
        .order_by(Disclosure.disclosed_on.desc(), Disclosure.id.desc())
    )
    return paginate_rows(stmt, page=page, per_page=per_page)
