"""The customer's own account: the dashboard summary, the profile (see and edit) and its facts."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Integer, bindparam, exists, func, literal, or_, select
from sqlalchemy.orm.exc import StaleDataError

from portal.account.errors import StaleProfile
from portal.account.models import Disclosure, Inquiry
from portal.audit.models import SecurityEvent
from portal.audit.services import record_event
from portal.auth.cards import serial_tail
from portal.auth.models import OtpCredential, RecoveryCode, SecurityCard, UserSession
from portal.auth.sessions import SignedIn, ensure_recent_password
from portal.billing.invoices import balance_due_expr, method_exprs
from portal.billing.methods import summarise
from portal.billing.models import Invoice
from portal.customers import messages as cm
from portal.customers import validation as v
from portal.customers.errors import ValidationFailed
from portal.customers.models import (
    CORRECTABLE_FIELDS,
    SERVICE_NAMES,
    CorrectionRequest,
    Customer,
    ServiceLine,
)
from portal.customers.services import collect
from portal.database import checkpoint_wal_after_commit
from portal.extensions import db
from portal.policy.notices import latest_notice_heads

# Security events that are a failed attempt to sign in (a wrong password, card code, OTP or
# recovery code); the locks that follow are consequences, not further attempts.
FAILED_SIGN_IN_KINDS = ("login_failure", "second_factor_failure")


@dataclass(frozen=True, slots=True)
class LineRow:
    """A service line as the dashboard and the profile list it (plain columns read in the
    page's one statement, not ORM objects: building those cost more than the statement)."""

    service: str
    plan: str
    device_label: str
    activated_on: date
    device_number: str = ""

    @property
    def service_name(self) -> str:
        return SERVICE_NAMES.get(self.service, self.service)


@dataclass
class DashboardSummary:
    greeting_name: str  # the username the customer chose, else the name on the application
    previous_login_at: object | None
    previous_login_ip: str | None
    notices: list
    balance_due: int = 0
    lines: list = field(default_factory=list)
    failed_sign_ins: int = 0  # since the previous successful sign-in
    last_failure_at: object | None = None
    last_failure_ip: str | None = None
    # How many invoices billing holds: "nothing unpaid" is only said once there is a bill.
    invoices: int = 0


def dashboard_summary(customer: Customer | SignedIn) -> DashboardSummary:
    """What the dashboard shows: the greeting, the previous sign-in, the lines, the notices.

    Statement budget (tested, ≤ 3 per page with the session loader): the previous sign-in
    and the service lines come in ONE statement — a one-row derived table of the previous
    sign-in, left-joined to the lines, so there is a row even without lines. The balance due
    is billing's scalar subquery (``balance_due_expr``, what ``billing.summary.balance_due``
    runs on its own), folded into that one statement. The notices are public content,
    remembered per content version (:func:`portal.policy.notices.latest_notice_heads`).
    """
    stmt = _dashboard_statement()
    rows = db.session.execute(stmt, {"customer_id": customer.id}).all()
    return DashboardSummary(
        greeting_name=customer.username or customer.name,
        previous_login_at=rows[0].at if rows else None,
        previous_login_ip=rows[0].ip if rows else None,
        notices=latest_notice_heads(limit=5),
        balance_due=int(rows[0].balance or 0) if rows else 0,
        failed_sign_ins=int(rows[0].failures or 0) if rows else 0,
        last_failure_at=rows[0].failure_at if rows else None,
        last_failure_ip=rows[0].failure_ip if rows else None,
        invoices=int(rows[0].invoices or 0) if rows else 0,
        lines=_lines_of(rows),
    )


@functools.cache
def _dashboard_statement():
    # Built once per process: composing this statement costs more than running it (~2 ms
    # of SQLAlchemy expression building per request); the customer is a bound parameter.
    customer_id = bindparam("customer_id", type_=Integer)

    # The newest login_success is this very session; the one before it is "최근 접속".
    previous_event = (
        select(SecurityEvent.created_at, SecurityEvent.ip)
        .where(SecurityEvent.customer_id == customer_id, SecurityEvent.kind == "login_success")
        .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
        .offset(1)
        .limit(1)
        .subquery()
    )
    previous_at = select(previous_event.c.created_at).scalar_subquery()
    # Failed sign-ins since the previous one that succeeded (all of them before a first
    # sign-in): what a customer should notice if someone else is trying their password.
    failures = (
        select(SecurityEvent.created_at, SecurityEvent.ip)
        .where(
            SecurityEvent.customer_id == customer_id,
            # One plain bound parameter per kind, not an expanding IN: an expanding one is
            # rewritten into the SQL text on every execution (~3 % of this page's time).
            SecurityEvent.kind.in_([literal(kind) for kind in FAILED_SIGN_IN_KINDS]),
            or_(previous_at.is_(None), SecurityEvent.created_at > previous_at),
        )
        .subquery()
    )
    last_failure = select(failures.c.created_at, failures.c.ip).order_by(
        failures.c.created_at.desc()
    )
    previous = select(
        previous_at.label("at"),
        select(previous_event.c.ip).scalar_subquery().label("ip"),
        balance_due_expr(customer_id).label("balance"),
        select(func.count()).select_from(failures).scalar_subquery().label("failures"),
        last_failure.with_only_columns(failures.c.created_at)
        .limit(1)
        .scalar_subquery()
        .label("failure_at"),
        last_failure.with_only_columns(failures.c.ip)
        .limit(1)
        .scalar_subquery()
        .label("failure_ip"),
        select(func.count(Invoice.id))
        .where(Invoice.customer_id == customer_id)
        .scalar_subquery()
        .label("invoices"),
    ).subquery("previous_login")
    return _with_lines(previous, customer_id)


def _with_lines(one_row, customer_id):
    """A one-row subquery of a page's facts, left-joined to the customer's service lines:
    a row per line (in order), and one row without a line when there is none, so the
    facts and the lines are one statement."""
    lines = ServiceLine.__table__
    return (
        # Columns, not the ServiceLine entity: without an entity the statement runs as
        # Core, and building ORM objects for a list the page only prints cost more than
        # the statement.
        select(
            one_row,
            lines.c.id.label("line_id"),
            lines.c.service,
            lines.c.plan,
            lines.c.device_label,
            lines.c.device_number,
            lines.c.activated_on,
        )
        .select_from(one_row)
        .outerjoin(lines, lines.c.customer_id == customer_id)
        .order_by(lines.c.id)
    )


def _lines_of(rows) -> list[LineRow]:
    """The service lines of :func:`_with_lines`' rows."""
    return [
        LineRow(r.service, r.plan, r.device_label, r.activated_on, r.device_number)
        for r in rows
        if r.line_id is not None
    ]


# --- profile: see and edit (PRODUCT.md §3, policy §7) ----------------------------------------


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
    session_row: UserSession | None,
    version: int,
    email: str | None,
    phone: str | None,
    address: str | None,
    username: str | None,
    postal_code: str | None = None,
    country: str | None = None,
    address_detail: str | None = None,
    representative: str | None = None,
) -> list[str]:
    """Apply a profile edit by the customer; return the names of the fields that changed.

    Only the editable fields are parameters: status, login ID, identity fields and the like
    cannot be reached from a form (no mass assignment). The old values are overwritten in
    place and nothing keeps them (policy §3); the event log gets the changed field NAMES.

    Re-authentication (PRODUCT.md §2) is checked first, for every field, not only email and phone:
    the address is where devices, paper bills and tax invoices go, and Korean telecoms and
    banks put the whole 회원정보 변경 screen behind a fresh identity check rather than
    asking field by field. One rule for the whole form is also one the customer can predict.

    Optimistic locking, twice: the version the form was made from must be the row's version
    now (a stale form is refused before anything is touched), and the UPDATE itself carries
    ``WHERE version = :seen`` (SQLAlchemy ``version_id_col``), which catches a concurrent
    writer that committed between our read and our write.

    :raises ReauthNeeded: the password was not typed recently enough in ``session_row``.
    :raises StaleProfile: the form was made from an older version, or a concurrent edit won.
    :raises ValidationFailed: a field breaks its rule; nothing was changed.

    ``address_detail`` (상세주소) is optional: None (a form or script that does not send it)
    leaves the stored one as it is; "" clears it. ``representative`` (대표자) likewise, and
    only for business customers (ignored for individuals).
    """
    customer_id = customer.id  # readable after a failed flush, for the exception
    ensure_recent_password(session_row)
    if version != customer.version:
        raise StaleProfile(customer_id)
    errors: dict[str, object] = {}
    wanted: dict[str, object] = {
        "email": collect(errors, "email", v.email, email),
        "phone": collect(errors, "phone", v.phone, phone, member_type=customer.member_type),
        "address": collect(errors, "address", v.clean_text, address, max_length=v.ADDRESS_MAX),
        "username": collect(errors, "username", v.clean_text, username, max_length=v.USERNAME_MAX),
    }
    if address_detail is not None:
        wanted["address_detail"] = collect(
            errors,
            "address_detail",
            v.clean_text,
            address_detail,
            max_length=v.ADDRESS_DETAIL_MAX,
            required=False,
        )
    if representative is not None and customer.customer_type == "business":
        wanted["representative"] = collect(
            errors,
            "representative",
            v.clean_text,
            representative,
            max_length=v.REPRESENTATIVE_MAX,
            required=False,
        )
    if customer.member_type == "general":
        wanted["postal_code"] = collect(errors, "postal_code", v.postal_code, postal_code)
    else:
        # Overseas members: a country and a free-form foreign address, no Korean postcode.
        wanted["country"] = collect(errors, "country", v.country, country)
    if errors:
        raise ValidationFailed(errors)
    changed = [name for name, value in wanted.items() if getattr(customer, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(customer, name, wanted[name])
    set_field_sources(customer, changed, "self")
    customer.version = customer.version + 1

    record_event("profile_updated", customer_id=customer.id, detail=",".join(changed))
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise StaleProfile(customer_id) from exc
    # Old values are destroyed (policy §3): on SQLite the overwritten pages stay in the -wal
    # file until a checkpoint, so checkpoint once this edit commits.
    checkpoint_wal_after_commit()
    return changed


def current_profile_values(customer_id: int) -> list[tuple[object, str]]:
    """(label, value) pairs of the editable items as stored now, for the 409 page."""
    db.session.expire_all()
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        return []
    names = ["email", "phone", "address", "address_detail", "username"]
    names.insert(2, "postal_code" if customer.member_type == "general" else "country")
    shown = {name: getattr(customer, name) or "" for name in names}
    shown["phone"] = v.display_phone(customer.phone, customer.member_type)
    return [(cm.FIELD_LABELS[name], shown[name]) for name in names]


@dataclass
class ProfileFacts:
    """What /account/profile shows beyond the customer row's plain fields, ready to print:
    the customer's identity number (``Customer.identity_field``) masked, None when not given,
    and the facts kept elsewhere."""

    identity_field: str
    identity_masked: str | None
    card_serial_tail: str | None
    card_issued_at: object | None
    otp_confirmed_at: object | None
    sessions: int
    recovery_codes_left: int
    disclosures: int
    inquiries: int
    under_correction: set[str]
    # billing's masked summary (billing.methods.MethodSummary), or None
    payment_method: object | None = None
    lines: list[LineRow] = field(default_factory=list)


def profile_facts(customer: Customer) -> ProfileFacts:
    """The masked identity number, and security, disclosure, inquiry and correction facts for
    /account/profile.

    The facts come in one SELECT of scalar subqueries, left-joined to the service lines (a
    row per line, at least one), so the profile page costs the same number of statements
    however many lines, sessions, codes or requests the customer has (statement budget,
    tested).
    """

    rows = db.session.execute(_profile_facts_statement(), {"customer_id": customer.id}).all()
    row = rows[0]
    return ProfileFacts(
        payment_method=summarise(row.pm_kind, row.pm_holder, row.pm_bank, row.pm_last4),
        identity_field=customer.identity_field,
        identity_masked=masked_identity(customer),
        card_serial_tail=serial_tail(row.card_serial),
        card_issued_at=row.card_issued_at,
        otp_confirmed_at=row.otp_confirmed_at,
        sessions=row.sessions or 0,
        recovery_codes_left=row.recovery or 0,
        disclosures=row.disclosures or 0,
        inquiries=row.inquiries or 0,
        under_correction={n for n in CORRECTABLE_FIELDS if getattr(row, f"open_{n}")},
        lines=_lines_of(rows),
    )


@functools.cache
def _profile_facts_statement():
    # Built once per process (see _dashboard_statement); the customer is a bound parameter.
    cid = bindparam("customer_id", type_=Integer)
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
    # The payment method (masked) in the same statement: billing's scalar subqueries, as
    # billing.summary.payment_method_summary runs them on its own.
    columns += method_exprs(cid)
    return _with_lines(select(*columns).subquery("facts"), cid)


def mask_business_number(value: str | None) -> str:
    """``124-81-00998`` → ``124-81-***98``: enough to recognise, not enough to reuse."""
    if not value or len(value) != 10:
        return ""
    return f"{value[:3]}-{value[3:5]}-***{value[8:]}"


def mask_birth_date(value: date | None) -> str:
    """Only the year on screen; the full date is in the (re-authenticated) data download."""
    return f"{value.year}-**-**" if value else ""


def masked_identity(customer: Customer) -> str | None:
    """The customer's identity number as pages show it; None when not given yet."""
    if customer.identity_field == "business_number":
        return mask_business_number(customer.business_number) or None
    return mask_birth_date(customer.birth_date) or None
