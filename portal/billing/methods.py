"""The payment method (결제 정보): set it behind re-authentication, show it masked.

The plain account number exists only in the request that sets it: it is encrypted here,
its last 4 digits are kept for display, and it is never logged, echoed back into a form,
recorded in an event or exported.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from portal.audit.services import record_event
from portal.auth.models import UserSession
from portal.auth.sessions import ensure_recent_password
from portal.billing import messages as m
from portal.billing.banks import bank_name, banks
from portal.billing.models import PAYMENT_KINDS, PaymentMethod
from portal.customers import validation as v
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer
from portal.customers.services import collect
from portal.extensions import db
from portal.mail.services import alert
from portal.security import decrypt, encrypt

ACCOUNT_RE = re.compile(r"[0-9]{10,16}")


def account_number(value: str | None) -> str:
    """10–16 digits; hyphens and spaces allowed between them (full-width digits too)."""
    text = unicodedata.normalize("NFKC", (value or "").strip())
    if not re.fullmatch(r"[0-9][0-9 \-]*[0-9]", text or "x"):
        raise v.FieldInvalid(m.ACCOUNT_NUMBER_INVALID)
    digits = text.replace("-", "").replace(" ", "")
    if not ACCOUNT_RE.fullmatch(digits):
        raise v.FieldInvalid(m.ACCOUNT_NUMBER_INVALID)
    return digits


def bank_code(value: str | None) -> str:
    code = (value or "").strip()
    if code not in dict(banks()):
        raise v.FieldInvalid(m.BANK_INVALID)
    return code


def masked_account(last4: str | None) -> str:
    """``***-****-7654``: the shape of an account number, only the last 4 digits shown."""
    return f"***-****-{last4}" if last4 else ""


@dataclass
class MethodSummary:
    """What a page shows of a payment method: never the account number."""

    kind: str
    kind_label: str
    holder_name: str
    bank_code: str | None
    bank_name: str
    account_masked: str

    @property
    def label(self) -> str:
        if self.kind == "auto_debit":
            return f"{self.kind_label} · {self.bank_name} {self.account_masked}"
        return str(self.kind_label)


def summarise(
    kind: str | None, holder_name: str | None, code: str | None, last4: str | None
) -> MethodSummary | None:
    if kind is None:
        return None
    label = m.KIND_AUTO_DEBIT if kind == "auto_debit" else m.KIND_DEPOSIT
    return MethodSummary(
        kind=kind,
        kind_label=str(label),
        holder_name=holder_name or "",
        bank_code=code,
        bank_name=bank_name(code),
        account_masked=masked_account(last4),
    )


def payment_method_of(customer_id: int) -> PaymentMethod | None:
    return db.session.scalars(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)
    ).first()


def set_payment_method(
    customer: Customer,
    *,
    session_row: UserSession | None,
    kind: str | None,
    holder_name: str | None,
    holder_birth_date: str | None = None,
    holder_business_number: str | None = None,
    bank_code_value: str | None = None,
    account_number_value: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> PaymentMethod:
    """Register or replace the customer's payment method (a security event).

    Business customers give the holder's business number, individuals the holder's birth
    date. Every field is checked at once.

    :raises ReauthNeeded: the password was not typed within the window (nothing saved).
    :raises ValidationFailed: field → message, for every bad field.
    """
    ensure_recent_password(session_row)
    row = save_payment_method(
        customer,
        kind=kind,
        holder_name=holder_name,
        holder_birth_date=holder_birth_date,
        holder_business_number=holder_business_number,
        bank_code_value=bank_code_value,
        account_number_value=account_number_value,
        phone=phone,
        email=email,
    )
    # The customer's own change (the demo data and staff tools call save_payment_method).
    alert(customer, "payment_method_changed", method=kind)
    return row


def save_payment_method(
    customer: Customer,
    *,
    kind: str | None,
    holder_name: str | None,
    holder_birth_date: str | None = None,
    holder_business_number: str | None = None,
    bank_code_value: str | None = None,
    account_number_value: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> PaymentMethod:
    """The rules and the write of :func:`set_payment_method`, without the password check:
    for callers with no customer session (the demo data, a future staff screen).

    :raises ValidationFailed: field → message, for every bad field.
    """
    errors: dict[str, object] = {}
    if kind not in PAYMENT_KINDS:
        errors["kind"] = m.KIND_INVALID
    name = collect(errors, "holder_name", v.clean_text, holder_name, max_length=100)
    birth = business = None
    if customer.customer_type == "business":
        business = collect(
            errors, "holder_business_number", v.business_number, holder_business_number
        )
    else:
        birth = collect(errors, "holder_birth_date", v.birth_date, holder_birth_date)
    clean_phone = collect(errors, "phone", v.phone, phone, member_type=customer.member_type)
    clean_email = collect(errors, "email", v.email, email)
    code = digits = None
    if kind == "auto_debit":
        code = collect(errors, "bank_code", bank_code, bank_code_value)
        digits = collect(errors, "account_number", account_number, account_number_value)
    if errors:
        raise ValidationFailed(errors)
    row = payment_method_of(customer.id)
    if row is None:
        row = PaymentMethod(customer_id=customer.id)
        db.session.add(row)
    row.kind = kind
    row.holder_name = name
    row.holder_birth_date_encrypted = encrypt(birth.isoformat()) if birth else None
    row.holder_business_number_encrypted = encrypt(business) if business else None
    row.bank_code = code
    row.account_number_encrypted = encrypt(digits) if digits else None
    row.account_last4 = digits[-4:] if digits else None
    row.phone = clean_phone
    row.email = clean_email
    # The kind only: never a number, not even masked.
    record_event("payment_method_changed", customer_id=customer.id, detail=kind)
    db.session.flush()
    return row


def holder_identity(row: PaymentMethod) -> str:
    """The decrypted birth date or business number of the holder (for the owner only)."""
    token = row.holder_business_number_encrypted or row.holder_birth_date_encrypted
    return decrypt(token) if token else ""
