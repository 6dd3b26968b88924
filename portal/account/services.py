"""Customer registration and the customer-data rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.orm.exc import StaleDataError

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


class StaleProfile(AccountError):
    """The profile form was made from an older version of the row: nothing was saved."""


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
    """Look a customer up by login ID (case-insensitive); None if unknown or retired.

    Text that cannot be a login ID is never sent to the database (a NUL byte, say, would
    make PostgreSQL fail the query).
    """
    try:
        login_id = v.login_id(login_id)
    except v.FieldInvalid:
        return None
    stmt = select(Customer).join(Customer.login).where(LoginId.login_id == login_id)
    return db.session.scalars(stmt).first()


@dataclass
class DashboardSummary:
    customer: Customer
    previous_login_at: object | None
    previous_login_ip: str | None
    notices: list
    balance_due: int = 0
    lines: list = field(default_factory=list)


def dashboard_summary(customer: Customer) -> DashboardSummary:
    """What the dashboard shows: the customer, the previous sign-in, the lines, the notices.

    Statement budget (tested, ≤ 4 per page with the session loader and the site-wide policy
    banner): the previous sign-in and the service lines come in ONE statement — a one-row
    derived table of the previous sign-in, left-joined to the lines, so there is a row even
    without lines — and the notices in one more; the balance comes from billing.
    """
    from portal.audit.models import SecurityEvent
    from portal.billing.summary import balance_due
    from portal.policy.notices import latest_notices

    # The newest login_success is this very session; the one before it is "최근 접속".
    previous_event = (
        select(SecurityEvent.created_at, SecurityEvent.ip)
        .where(SecurityEvent.customer_id == customer.id, SecurityEvent.kind == "login_success")
        .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
        .offset(1)
        .limit(1)
        .subquery()
    )
    previous = select(
        select(previous_event.c.created_at).scalar_subquery().label("at"),
        select(previous_event.c.ip).scalar_subquery().label("ip"),
    ).subquery("previous_login")
    stmt = (
        select(previous.c.at, previous.c.ip, ServiceLine)
        .select_from(previous)
        .outerjoin(ServiceLine, ServiceLine.customer_id == customer.id)
        .order_by(ServiceLine.id)
    )
    rows = db.session.execute(stmt).all()
    return DashboardSummary(
        customer=customer,
        previous_login_at=rows[0].at if rows else None,
        previous_login_ip=rows[0].ip if rows else None,
        notices=latest_notices(limit=5),
        balance_due=balance_due(customer),
        lines=[row.ServiceLine for row in rows if row.ServiceLine is not None],
    )


# --- profile: see and edit (SPEC §3, policy §7) ----------------------------------------

EDITABLE_FIELDS = ("email", "phone", "postal_code", "address", "country", "username")


def field_sources(customer: Customer) -> dict[str, str]:
    """Where each item came from, if not the application form: ``{"email": "self"}``."""
    out: dict[str, str] = {}
    for part in (customer.field_sources or "").split(","):
        name, _, source = part.partition(":")
        if name and source:
            out[name] = source
    return out


def set_field_sources(customer: Customer, fields: list[str], source: str) -> None:
    """Record that ``fields`` now come from ``source`` (names only, never values)."""
    sources = field_sources(customer)
    for name in fields:
        sources[name] = source
    customer.field_sources = ",".join(f"{k}:{v}" for k, v in sorted(sources.items()))[:300]


def update_profile(
    customer: Customer,
    *,
    version: int,
    email: str | None,
    phone: str | None,
    address: str | None,
    username: str | None,
    postal_code: str | None = None,
    country: str | None = None,
) -> list[str]:
    """Apply a profile edit by the customer; return the names of the fields that changed.

    Only the editable fields are parameters: status, login ID, identity fields and the like
    cannot be reached from a form (no mass assignment). The old values are overwritten in
    place and nothing keeps them (policy §3); the event log gets the changed field NAMES.

    Optimistic locking, twice: the version the form was made from must be the row's version
    now (a stale form is refused before anything is touched), and the UPDATE itself carries
    ``WHERE version = :seen`` (SQLAlchemy ``version_id_col``), which catches a concurrent
    writer that committed between our read and our write.

    :raises StaleProfile: the form was made from an older version, or a concurrent edit won.
    :raises ValidationFailed: a field breaks its rule; nothing was changed.
    """
    customer_id = customer.id  # readable after a failed flush, for the exception
    if version != customer.version:
        raise StaleProfile(customer_id)
    errors: dict[str, object] = {}
    wanted: dict[str, object] = {
        "email": _collect(errors, "email", v.email, email),
        "phone": _collect(errors, "phone", v.phone, phone, member_type=customer.member_type),
        "address": _collect(errors, "address", v.clean_text, address, max_length=300),
        "username": _collect(errors, "username", v.clean_text, username, max_length=40),
    }
    if customer.member_type == "general":
        wanted["postal_code"] = _collect(errors, "postal_code", v.postal_code, postal_code)
    else:
        # Overseas members: a country and a free-form foreign address, no Korean postcode.
        wanted["country"] = _collect(errors, "country", v.country, country)
    if errors:
        raise ValidationFailed(errors)
    changed = [name for name, value in wanted.items() if getattr(customer, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(customer, name, wanted[name])
    set_field_sources(customer, changed, "self")
    customer.version = customer.version + 1
    from portal.audit.services import record_event

    record_event("profile_updated", customer_id=customer.id, detail=",".join(changed))
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise StaleProfile(customer_id) from exc
    return changed


def current_profile_values(customer_id: int) -> list[tuple[object, str]]:
    """(label, value) pairs of the editable items as stored now, for the 409 page."""
    db.session.expire_all()
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        return []
    names = ["email", "phone", "address", "username"]
    names.insert(2, "postal_code" if customer.member_type == "general" else "country")
    return [(m.FIELD_LABELS[name], getattr(customer, name) or "") for name in names]


@dataclass
class ProfileFacts:
    """Everything about the customer that is not on the customer row, in one statement."""

    card_serial: str | None
    card_issued_at: object | None
    otp_confirmed_at: object | None
    sessions: int
    recovery_codes_left: int
    disclosures: int
    inquiries: int
    under_correction: set[str]


def profile_facts(customer: Customer) -> ProfileFacts:
    """Security, disclosure, inquiry and correction facts for /account/profile.

    One SELECT of scalar subqueries, so the profile page costs the same number of statements
    however many sessions, codes or requests the customer has (statement budget, tested).
    """
    from portal.account.records import CORRECTABLE_FIELDS, CorrectionRequest, Disclosure, Inquiry
    from portal.auth.models import OtpCredential, RecoveryCode, SecurityCard, UserSession

    cid = customer.id
    active_card = (
        select(SecurityCard)
        .where(SecurityCard.customer_id == cid, SecurityCard.revoked_at.is_(None))
        .order_by(SecurityCard.issued_at.desc(), SecurityCard.id.desc())
        .limit(1)
        .subquery()
    )

    def count(model, *where):
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    columns = [
        select(active_card.c.serial).scalar_subquery().label("card_serial"),
        select(active_card.c.issued_at).scalar_subquery().label("card_issued_at"),
        select(OtpCredential.confirmed_at)
        .where(OtpCredential.customer_id == cid)
        .scalar_subquery()
        .label("otp_confirmed_at"),
        count(UserSession, UserSession.customer_id == cid).label("sessions"),
        count(RecoveryCode, RecoveryCode.customer_id == cid, RecoveryCode.used_at.is_(None)).label(
            "recovery"
        ),
        count(Disclosure, Disclosure.customer_id == cid).label("disclosures"),
        count(Inquiry, Inquiry.customer_id == cid).label("inquiries"),
    ]
    for name in CORRECTABLE_FIELDS:
        columns.append(
            exists()
            .where(CorrectionRequest.customer_id == cid, CorrectionRequest.open_field == name)
            .label(f"open_{name}")
        )
    row = db.session.execute(select(*columns)).one()
    return ProfileFacts(
        card_serial=row.card_serial,
        card_issued_at=row.card_issued_at,
        otp_confirmed_at=row.otp_confirmed_at,
        sessions=row.sessions or 0,
        recovery_codes_left=row.recovery or 0,
        disclosures=row.disclosures or 0,
        inquiries=row.inquiries or 0,
        under_correction={n for n in CORRECTABLE_FIELDS if getattr(row, f"open_{n}")},
    )


def mask_business_number(value: str | None) -> str:
    """``124-81-00998`` → ``124-81-***98``: enough to recognise, not enough to reuse."""
    if not value or len(value) != 10:
        return ""
    return f"{value[:3]}-{value[3:5]}-***{value[8:]}"


def mask_birth_date(value: date | None) -> str:
    """Only the year on screen; the full date is in the (re-authenticated) data download."""
    return f"{value.year}-**-**" if value else ""
