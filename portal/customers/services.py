"""Customer lookup and creation from an application form (PRODUCT.md §1).

Creating the row is all this package does; the credentials that come with a new customer
(password hash, security card or OTP) are the auth package's, which calls :func:`create_customer`
from :func:`portal.auth.registration.register_customer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.customers import messages as m
from portal.customers import validation as v
from portal.customers.errors import LoginIdTaken, UnderCorrection, ValidationFailed
from portal.customers.models import (
    CORRECTABLE_FIELDS,
    CUSTOMER_TYPES,
    MEMBER_TYPES,
    SECOND_FACTORS,
    CorrectionRequest,
    Customer,
    LoginId,
    ServiceLine,
)
from portal.dbtypes import KST
from portal.extensions import db

# The items of the application form (policy §1), as the access log names them when staff
# register a customer: names only, never values.
APPLICATION_FIELDS = (
    "login_id",
    "name",
    "email",
    "phone",
    "member_type",
    "customer_type",
    "birth_date",
    "business_number",
    "postal_code",
    "address",
    "country",
    "username",
)


@dataclass
class NewCustomer:
    """An application form, as typed on paper (the password too: it is checked and hashed
    by the auth package, never stored as given)."""

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
class Application:
    """An application form whose every field passed its rule, normalised for storage."""

    login_id: str
    name: str
    email: str
    phone: str
    member_type: str
    customer_type: str
    second_factor: str
    activated: bool
    address: str | None
    username: str | None
    postal_code: str | None = None
    country: str | None = None
    birth_date: date | None = None
    business_number: str | None = None
    lines: list[dict] = field(default_factory=list)


def login_id_issued(login_id: str) -> bool:
    """True if ``login_id`` was ever issued (active or retired)."""
    stmt = select(func.count()).select_from(LoginId).where(LoginId.login_id == login_id.lower())
    return bool(db.session.scalar(stmt))


def collect(errors: dict, name: str, rule, *args, **kwargs):
    """Apply a field rule; on failure note its message under ``name`` and return None."""
    try:
        return rule(*args, **kwargs)
    except v.FieldMissing as exc:
        # "이메일을 입력해 주세요.", not a bare "필수 항목입니다." (the summary lists it alone).
        errors[name] = m.MISSING.get(name, exc.message)
        return None
    except v.FieldInvalid as exc:
        errors[name] = exc.message
        return None


def _given(value: str | date | None) -> bool:
    """An optional item counts as absent when empty or blank (an empty CSV cell, say)."""
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def check_application(data: NewCustomer, *, errors: dict[str, object]) -> Application:
    """Check every field of an application form at once.

    ``errors`` may already hold problems found by the caller (the password's, say): they are
    reported together with the fields' own.

    :raises ValidationFailed: any field breaks its rule.
    """
    login = collect(errors, "login_id", v.login_id, data.login_id)
    if data.member_type not in MEMBER_TYPES:
        errors["member_type"] = m.MEMBER_TYPE_INVALID
    if data.customer_type not in CUSTOMER_TYPES:
        errors["customer_type"] = m.CUSTOMER_TYPE_INVALID
    if data.second_factor not in SECOND_FACTORS:
        errors["second_factor"] = m.SECOND_FACTOR_INVALID
    app = Application(
        login_id=login or "",
        name=collect(errors, "name", v.clean_text, data.name, max_length=v.NAME_MAX),
        email=collect(errors, "email", v.email, data.email),
        phone=collect(errors, "phone", v.phone, data.phone, member_type=data.member_type),
        member_type=data.member_type,
        customer_type=data.customer_type,
        second_factor=data.second_factor,
        activated=data.activated,
        address=collect(errors, "address", v.clean_text, data.address, max_length=v.ADDRESS_MAX),
        username=collect(
            errors,
            "username",
            v.clean_text,
            data.username or data.name or "",
            max_length=v.USERNAME_MAX,
        ),
        lines=list(data.lines),
    )
    if data.member_type == "general":
        app.postal_code = collect(errors, "postal_code", v.postal_code, data.postal_code)
    elif data.member_type == "overseas":
        app.country = collect(errors, "country", v.country, data.country)
    # Birth date and business number are billing items (policy §1-가-2), not sign-up items:
    # the policy lists what registration collects, and they are not on that list. Optional
    # here (asked for when billing needs them, or added by a correction request), but a
    # value that is given must pass its rule (a real past date; the business number's
    # check digit).
    if data.customer_type == "individual" and _given(data.birth_date):
        app.birth_date = collect(errors, "birth_date", v.birth_date, data.birth_date)
    elif data.customer_type == "business" and _given(data.business_number):
        app.business_number = collect(
            errors, "business_number", v.business_number, data.business_number
        )
    if errors:
        raise ValidationFailed(errors)
    return app


def create_customer(app: Application, *, password_hash: str) -> Customer:
    """Store a checked application: the login ID in its register, the customer, the lines.

    :raises LoginIdTaken: the login ID was ever issued before.
    """
    if login_id_issued(app.login_id):
        raise LoginIdTaken(app.login_id)
    register = LoginId(login_id=app.login_id)
    db.session.add(register)
    db.session.flush()
    customer = Customer(
        login_id_id=register.id,
        name=app.name,
        member_type=app.member_type,
        customer_type=app.customer_type,
        birth_date=app.birth_date,
        business_number=app.business_number,
        email=app.email,
        phone=app.phone,
        postal_code=app.postal_code,
        address=app.address,
        country=app.country,
        username=app.username,
        password_hash=password_hash,
        must_activate=not app.activated,
        second_factor=app.second_factor,
    )
    customer.login = register
    db.session.add(customer)
    db.session.flush()
    for line in app.lines:
        db.session.add(ServiceLine(customer_id=customer.id, **line))
    db.session.flush()
    return customer


def customer_by_id(customer_id: int, *, with_lines: bool = False) -> Customer | None:
    """A customer by row id (the staff record), its service lines loaded in the same go
    when asked; None if unknown (withdrawn customers' rows are gone)."""
    stmt = select(Customer).where(Customer.id == customer_id)
    if with_lines:
        stmt = stmt.options(selectinload(Customer.lines))
    return db.session.scalars(stmt).first()


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


def fields_under_correction(customer_id: int, fields, *, on: date | None = None) -> list[str]:
    """Those of ``fields`` that have an open correction request (PRODUCT.md §3), in order.

    While a request is open the field is neither used nor provided (개인정보 보호법 §36):
    every package that prints or provides an identity field asks here first (account's
    disclosures, billing's documents). ``on``: a provision recorded after the fact; only
    requests opened on or before that KST day count. One statement; none when no
    correctable field is asked for.
    """
    wanted = [f for f in fields if f in CORRECTABLE_FIELDS]
    if not wanted:
        return []
    stmt = select(CorrectionRequest.field, CorrectionRequest.created_at).where(
        CorrectionRequest.customer_id == customer_id,
        CorrectionRequest.open_field.in_(wanted),
    )
    return sorted(
        {
            field
            for field, created_at in db.session.execute(stmt)
            if on is None or created_at.astimezone(KST).date() <= on
        },
        key=wanted.index,
    )


def ensure_not_under_correction(customer: Customer, fields, *, on: date | None = None) -> None:
    """Refuse to use or provide ``fields`` of ``customer`` while a correction is open.

    Call this before printing a document or providing data to a third party. ``on`` is the
    KST date of a provision being recorded after the fact: only requests opened on or before
    that day block it (a provision made before the request was lawful and must be recordable,
    so that its recipient is notified if the correction is approved).

    :raises UnderCorrection: one of ``fields`` has an open correction request.
    """
    blocked = fields_under_correction(customer.id, fields, on=on)
    if blocked:
        raise UnderCorrection(blocked)


def customers_by_email(email: str, *, limit: int = 10) -> list[Customer]:
    """The customers whose address is ``email`` (case-insensitive), oldest first; [] when the
    text cannot be an address (it is never sent to the database then)."""
    try:
        address = v.email(email)
    except v.FieldInvalid:
        return []
    stmt = (
        select(Customer)
        .where(func.lower(Customer.email) == address.lower())
        .order_by(Customer.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
