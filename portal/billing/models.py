"""Payment methods, invoices (청구서) with their items, and payments received (PRODUCT.md §4).

Every table is a child of ``customers`` with ``ondelete="CASCADE"``, like the account tables:
what the law keeps after a withdrawal (payment and e-invoice records, 5 years) is moved to
the retention store first, guided by each row's ``retention_category``.

Secrets at rest: the account number, and the holder's birth date or business number, are
stored only encrypted with the data keys (``portal.security.encrypt``: Fernet, a fresh IV per
value); the last 4 digits of the account number are kept apart for display.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import UTCDateTime, utcnow
from portal.extensions import db

PAYMENT_KINDS = ("deposit", "auto_debit")
# How a payment was received (a deposit, an automatic debit, a card at the shop, anything else).
PAYMENT_CHANNELS = ("deposit", "auto_debit", "card", "other")
# Retention categories of policy §3 (the retention package computes purge dates from them):
# 대금결제 및 재화 등의 공급에 관한 기록 5년 (전자상거래법), 전자세금계산서 5년 (국세기본법).
RETENTION_PAYMENT = "payment_record"
RETENTION_E_INVOICE = "e_invoice"
RETENTION_YEARS = {RETENTION_PAYMENT: 5, RETENTION_E_INVOICE: 5}


class PaymentMethod(db.Model):
    """The customer's one payment method: 무통장입금 (deposit) or 자동이체 (auto_debit)."""

    __tablename__ = "payment_methods"
    __table_args__ = (
        CheckConstraint("kind IN ('deposit', 'auto_debit')", name="kind"),
        CheckConstraint("retention_category IN ('payment_record')", name="retention_category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    holder_name: Mapped[str] = mapped_column(String(100))
    # Exactly one of the two, by customer type; encrypted.
    holder_birth_date_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    holder_business_number_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # auto_debit only.
    bank_code: Mapped[str | None] = mapped_column(String(3))
    account_number_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    account_last4: Mapped[str | None] = mapped_column(String(4))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    retention_category: Mapped[str] = mapped_column(String(20), default=RETENTION_PAYMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:  # never the account number
        return f"<PaymentMethod {self.id} {self.kind}>"


class Invoice(db.Model):
    """A monthly invoice (청구서). Its status is never stored: see ``invoices.invoice_status``."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("total > 0", name="total_positive"),
        CheckConstraint("retention_category IN ('e_invoice')", name="retention_category"),
        Index("ix_invoices_customer_due", "customer_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # The billing system's own number (imports are idempotent through it); None when added
    # by hand.
    external_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)  # a KST calendar date
    total: Mapped[int] = mapped_column(Integer)  # whole won, VAT included
    retention_category: Mapped[str] = mapped_column(String(20), default=RETENTION_E_INVOICE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[InvoiceItem]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="InvoiceItem.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", passive_deletes=True, order_by="Payment.id"
    )

    def __repr__(self) -> str:
        return f"<Invoice {self.id} {self.period}>"


class InvoiceItem(db.Model):
    """One line of an invoice: a plan, how many lines or devices, the amount in won."""

    __tablename__ = "invoice_items"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[int] = mapped_column(Integer)


class Payment(db.Model):
    """A payment received against one invoice (partial payments allowed)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("method IN ('deposit', 'auto_debit', 'card', 'other')", name="method"),
        CheckConstraint("retention_category IN ('payment_record')", name="retention_category"),
        Index("ix_payments_customer_paid", "customer_id", "paid_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    external_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(12))
    retention_category: Mapped[str] = mapped_column(String(20), default=RETENTION_PAYMENT)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    invoice: Mapped[Invoice] = relationship(back_populates="payments")

    def __repr__(self) -> str:
        return f"<Payment {self.id} {self.amount}>"
