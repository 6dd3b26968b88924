"""Customer registration and the customer-data rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from portal.account import messages as m
from portal.account import validation as v
from portal.account.models import (
    CUSTOMER_TYPES,
    MEMBER_TYPES,
    SECOND_FACTORS,
    Customer,
    LoginId,
    ServiceLine,
)
from portal.auth.passwords import hash_password, password_problems
from portal.extensions import db


class AccountError(Exception):
    """Base of the account package's failures."""


class ValidationFailed(AccountError):
    """One or more fields are invalid; ``errors`` maps field name to message."""

    def __init__(self, errors: dict[str, object]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class LoginIdTaken(AccountError):
    """The login ID was issued before (to anyone, ever)."""


@dataclass
class NewCustomer:
    """Input for :func:`register_customer`, as typed on the paper application form."""

    login_id: str
    name: str
    email: str
    phone: str
    password: str
    member_type: str = "general"
    customer_type: str = "individual"
    birth_date: str | date | None = None
    business_number: str | None = None
    postal_code: str | None = None
    address: str | None = None
    country: str | None = None
    username: str | None = None
    second_factor: str = "card"
    activated: bool = False
    lines: list[dict] = field(default_factory=list)


@dataclass
class Registered:
    customer: Customer
    card_serial: str | None = None
    card_codes: list[str] | None = None
    otp_secret: str | None = None


def login_id_issued(login_id: str) -> bool:
    """True if ``login_id`` was ever issued (active or retired)."""
    stmt = select(func.count()).select_from(LoginId).where(LoginId.login_id == login_id.lower())
    return bool(db.session.scalar(stmt))


def _collect(errors: dict, name: str, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except v.FieldInvalid as exc:
        errors[name] = exc.message
        return None


def register_customer(data: NewCustomer) -> Registered:
    """Register a customer from an application form and issue their second factor.

    :raises ValidationFailed: a field breaks its rule (all fields are checked at once).
    :raises LoginIdTaken: the login ID was ever issued before.
    """
    errors: dict[str, object] = {}
    login = _collect(errors, "login_id", v.login_id, data.login_id)
    if data.member_type not in MEMBER_TYPES:
        errors["member_type"] = m.MEMBER_TYPE_INVALID
    if data.customer_type not in CUSTOMER_TYPES:
        errors["customer_type"] = m.CUSTOMER_TYPE_INVALID
    if data.second_factor not in SECOND_FACTORS:
        errors["second_factor"] = m.SECOND_FACTOR_INVALID
    name = _collect(errors, "name", v.clean_text, data.name, max_length=100)
    email = _collect(errors, "email", v.email, data.email)
    phone = _collect(errors, "phone", v.phone, data.phone, member_type=data.member_type)
    address = _collect(errors, "address", v.clean_text, data.address, max_length=300)
    username = _collect(
        errors, "username", v.clean_text, data.username or data.name or "", max_length=40
    )
    postal = country = None
    if data.member_type == "general":
        postal = _collect(errors, "postal_code", v.postal_code, data.postal_code)
    elif data.member_type == "overseas":
        country = _collect(errors, "country", v.country, data.country)
    birth = business = None
    if data.customer_type == "individual":
        if data.birth_date:
            birth = _collect(errors, "birth_date", v.birth_date, data.birth_date)
        else:
            errors["birth_date"] = m.BIRTH_DATE_REQUIRED
    elif data.customer_type == "business":
        if data.business_number:
            business = _collect(errors, "business_number", v.business_number, data.business_number)
        else:
            errors["business_number"] = m.BUSINESS_NUMBER_REQUIRED
    problems = password_problems(data.password or "", login_id=login or "")
    if problems:
        errors["password"] = problems[0]
    if errors:
        raise ValidationFailed(errors)
    assert login is not None
    if login_id_issued(login):
        raise LoginIdTaken(login)

    register = LoginId(login_id=login)
    db.session.add(register)
    db.session.flush()
    customer = Customer(
        login_id_id=register.id,
        name=name,
        member_type=data.member_type,
        customer_type=data.customer_type,
        birth_date=birth,
        business_number=business,
        email=email,
        phone=phone,
        postal_code=postal,
        address=address,
        country=country,
        username=username,
        password_hash=hash_password(data.password),
        must_activate=not data.activated,
        second_factor=data.second_factor,
    )
    customer.login = register
    db.session.add(customer)
    db.session.flush()
    for line in data.lines:
        db.session.add(ServiceLine(customer_id=customer.id, **line))
    result = Registered(customer=customer)
    if data.second_factor == "card":
        from portal.auth.cards import issue_card

        card, codes = issue_card(customer)
        result.card_serial, result.card_codes = card.serial, codes
    else:
        from portal.auth.otp import enrol_confirmed

        result.otp_secret = enrol_confirmed(customer)
    db.session.flush()
    return result


def customer_by_login_id(login_id: str) -> Customer | None:
    """Look a customer up by login ID (case-insensitive); None if unknown or retired."""
    stmt = (
        select(Customer)
        .join(Customer.login)
        .where(LoginId.login_id == (login_id or "").strip().lower())
    )
    return db.session.scalars(stmt).first()


@dataclass
class DashboardSummary:
    customer: Customer
    previous_login_at: object | None
    previous_login_ip: str | None
    notices: list


def dashboard_summary(customer: Customer) -> DashboardSummary:
    """What the dashboard shows: the customer, the previous sign-in, the latest notices."""
    from portal.audit.models import SecurityEvent
    from portal.policy.services import latest_notices

    # The newest login_success is this very session; the one before it is "최근 접속".
    stmt = (
        select(SecurityEvent)
        .where(SecurityEvent.customer_id == customer.id, SecurityEvent.kind == "login_success")
        .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
        .offset(1)
        .limit(1)
    )
    previous = db.session.scalars(stmt).first()
    return DashboardSummary(
        customer=customer,
        previous_login_at=previous.created_at if previous else None,
        previous_login_ip=previous.ip if previous else None,
        notices=latest_notices(limit=5),
    )
