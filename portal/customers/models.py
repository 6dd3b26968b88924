"""Customers, their login-ID register and their service lines."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    DDL,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

MEMBER_TYPES = ("general", "overseas")
CUSTOMER_TYPES = ("individual", "business")
SECOND_FACTORS = ("card", "otp")
# Identity fields changed only through a correction request (PRODUCT.md §3).
CORRECTABLE_FIELDS = ("name", "birth_date", "business_number")


class LoginId(db.Model):
    """The register of every login ID ever issued.

    Policy §3 keeps login IDs apart from the other personal data, and PRODUCT.md §1 never issues
    one twice: a row here outlives its customer (``retired_at`` set on withdrawal) and the
    unique index on the lower-cased ID refuses any reuse.
    """

    __tablename__ = "login_ids"
    # Staff search by login-ID prefix (LIKE 'abc%'): the unique index serves it only under
    # the C collation on PostgreSQL; varchar_pattern_ops serves it under any collation.
    # (SQLite ignores the option: there it is a plain index beside the unique one.)
    __table_args__ = (
        Index(
            "ix_login_ids_login_id_pattern",
            "login_id",
            postgresql_ops={"login_id": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[str] = mapped_column(String(20), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<LoginId {self.login_id}{' retired' if self.retired_at else ''}>"


class Customer(UserMixin, db.Model):
    """A customer (회원). Every column here is personal data shown at /account/profile."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("member_type IN ('general', 'overseas')", name="member_type"),
        CheckConstraint("customer_type IN ('individual', 'business')", name="customer_type"),
        CheckConstraint("second_factor IN ('card', 'otp')", name="second_factor"),
        # Staff search by phone: the stored E.164 compared for equality.
        Index("ix_customers_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id_id: Mapped[int] = mapped_column(ForeignKey("login_ids.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    member_type: Mapped[str] = mapped_column(String(16), default="general")
    customer_type: Mapped[str] = mapped_column(String(16), default="individual")
    birth_date: Mapped[date | None] = mapped_column(Date)
    business_number: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(20))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    address: Mapped[str] = mapped_column(String(300), default="")
    # 상세주소 (building, floor, unit), apart from the road address the postcode belongs to.
    address_detail: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Business customers: the name is the 상호 and this the 대표자 (blank for individuals).
    representative: Mapped[str] = mapped_column(String(100), default="", server_default="")
    country: Mapped[str | None] = mapped_column(String(2))
    username: Mapped[str] = mapped_column(String(40), default="")
    # Where each item came from when it is not the application form: "email:self,name:
    # correction". Names only, never values (old values are destroyed, policy §3).
    field_sources: Mapped[str] = mapped_column(String(300), default="", server_default="")

    password_hash: Mapped[str] = mapped_column(String(100))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Accounts registered by staff must set a new password and confirm their factor first.
    must_activate: Mapped[bool] = mapped_column(default=True)
    second_factor: Mapped[str] = mapped_column(String(8), default="card")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_ip: Mapped[str | None] = mapped_column(String(45))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def identity_field(self) -> str:
        """The identity number this kind of customer has besides the name (optional until
        given): a business number for businesses, a birth date for individuals."""
        return "business_number" if self.customer_type == "business" else "birth_date"

    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Optimistic locking: a stale profile form is refused instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)

    login: Mapped[LoginId] = relationship(lazy="joined", innerjoin=True)
    lines: Mapped[list[ServiceLine]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ServiceLine.id",
    )

    # The version counts edits of the customer's data (profile, corrections), set by those
    # services; sign-in bookkeeping (last login, failure counters) leaves it alone. Every
    # UPDATE still carries "WHERE version = :seen", so a concurrent edit is caught, but a
    # sign-in on another device no longer makes an open profile form stale (and two
    # concurrent sign-ins no longer fail each other with StaleDataError).
    __mapper_args__ = {  # noqa: RUF012 - SQLAlchemy reads a dict
        "version_id_col": version,
        "version_id_generator": False,
    }

    @property
    def login_id(self) -> str:
        return self.login.login_id

    # Flask-Login keeps ``get_id()`` in the signed cookie. We give it the random token of the
    # server-side session (set by portal.auth.sessions), never the customer's row id, so that
    # ending the session row kills the cookie.
    session_token = None  # set per request, never stored
    current_session = None

    def get_id(self) -> str | None:
        return self.session_token

    def __repr__(self) -> str:
        return f"<Customer {self.id}>"


# Staff search by name ("contains", LIKE '%…%' on the lower-cased name): a B-tree cannot serve
# it. On PostgreSQL a trigram GIN index can (pg_trgm, a trusted extension: the database owner
# may create it; migration 0014 does), for what is typed of three characters or more; on
# SQLite this is a plain index on lower(name), kept so both schemas stay one model.
Index(
    "ix_customers_name_trgm",
    func.lower(Customer.name).label("name_lower"),
    postgresql_using="gin",
    postgresql_ops={"name_lower": "gin_trgm_ops"},
)
event.listen(
    Customer.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


# The services' names as printed everywhere (brand names: not translated).
SERVICE_NAMES = {"anytrack": "AnyTrack", "spot": "Spot"}


class ServiceLine(db.Model):
    """A subscribed service line: the service-usage information of policy §1."""

    __tablename__ = "service_lines"
    __table_args__ = (CheckConstraint("service IN ('anytrack', 'spot')", name="service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    service: Mapped[str] = mapped_column(String(16))
    plan: Mapped[str] = mapped_column(String(60))
    device_label: Mapped[str] = mapped_column(String(60), default="")
    device_number: Mapped[str] = mapped_column(String(30), default="")
    activated_on: Mapped[date] = mapped_column(Date)

    customer: Mapped[Customer] = relationship(back_populates="lines")

    @property
    def service_name(self) -> str:
        return SERVICE_NAMES.get(self.service, self.service)

    def __repr__(self) -> str:
        return f"<ServiceLine {self.id} {self.service}>"


class CorrectionRequest(db.Model):
    """A customer's request to correct an identity field, reviewed by staff.

    ``open_field`` equals ``field`` while the request is open and is NULL once resolved: the
    unique constraint on (customer_id, open_field) then allows at most one open request per
    field on every database (NULLs never collide), without dialect-specific partial indexes.
    """

    __tablename__ = "correction_requests"
    __table_args__ = (
        CheckConstraint("field IN ('name', 'birth_date', 'business_number')", name="field"),
        CheckConstraint("status IN ('open', 'approved', 'rejected')", name="status"),
        UniqueConstraint("customer_id", "open_field"),
        Index("ix_correction_requests_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(20))
    open_field: Mapped[str | None] = mapped_column(String(20))
    new_value: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_note: Mapped[str] = mapped_column(String(1000), default="")

    notifications: Mapped[list[CorrectionNotice]] = relationship(
        back_populates="correction",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CorrectionNotice.id",
    )

    @property
    def rejection_reason(self) -> str | None:
        """The staff's reason the customer is shown, for a rejected request only."""
        return (self.resolution_note or None) if self.status == "rejected" else None

    def __repr__(self) -> str:
        return f"<CorrectionRequest {self.id} {self.field} {self.status}>"


class CorrectionNotice(db.Model):
    """A "notify of correction" task: one recipient that had received the corrected data."""

    __tablename__ = "correction_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    correction_id: Mapped[int] = mapped_column(
        ForeignKey("correction_requests.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    correction: Mapped[CorrectionRequest] = relationship(back_populates="notifications")

    def __repr__(self) -> str:
        return f"<CorrectionNotice {self.id}{' done' if self.notified_at else ''}>"
