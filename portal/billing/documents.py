"""Printable documents: tax invoice (세금계산서), purchase confirmation (구매확인서),
activation confirmation (개통확인서). Each prints identity fields, so each is refused while a
correction of one of them is open (PRODUCT.md §3, 개인정보 보호법 §36).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.billing.banks import issuer
from portal.billing.errors import NotBusinessCustomer
from portal.billing.invoices import InvoiceRow, invoice_of, row_of
from portal.billing.models import Invoice
from portal.customers.models import Customer, ServiceLine
from portal.customers.services import ensure_not_under_correction
from portal.dbtypes import kst_today
from portal.extensions import db


def vat_split(total: int) -> tuple[int, int]:
    """A VAT-included total → (supply, VAT): supply = floor(total × 10 / 11), VAT the rest.

    33,000 → (30,000, 3,000). Integers only: no float rounding ever touches money.
    """
    supply = total * 10 // 11
    return supply, total - supply


def format_business_number(digits: str | None) -> str:
    if not digits or len(digits) != 10:
        return digits or ""
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def identity_fields(customer: Customer) -> list[str]:
    """The identity fields a document prints for this customer."""
    if customer.customer_type == "business":
        return ["name", "business_number"]
    return ["name", "birth_date"]


@dataclass
class InvoiceDocument:
    issuer: dict
    customer: Customer
    invoice: Invoice
    row: InvoiceRow
    supply: int
    vat: int
    printed_on: object


def tax_invoice(customer: Customer, invoice_id: int) -> InvoiceDocument:
    """:raises InvoiceNotFound, NotBusinessCustomer, UnderCorrection."""
    invoice = invoice_of(customer.id, invoice_id)  # 404 first: never say whose it is
    if customer.customer_type != "business":
        raise NotBusinessCustomer()
    ensure_not_under_correction(customer, ["name", "business_number"])
    supply, vat = vat_split(invoice.total)
    return InvoiceDocument(issuer(), customer, invoice, row_of(invoice), supply, vat, kst_today())


def purchase_confirmation(customer: Customer, invoice_id: int) -> InvoiceDocument:
    """:raises InvoiceNotFound, UnderCorrection."""
    invoice = invoice_of(customer.id, invoice_id)
    ensure_not_under_correction(customer, identity_fields(customer))
    supply, vat = vat_split(invoice.total)
    return InvoiceDocument(issuer(), customer, invoice, row_of(invoice), supply, vat, kst_today())


@dataclass
class ActivationDocument:
    issuer: dict
    customer: Customer
    lines: list[ServiceLine]
    printed_on: object


def activation_confirmation(customer: Customer) -> ActivationDocument:
    """:raises UnderCorrection."""
    ensure_not_under_correction(customer, identity_fields(customer))
    lines = list(
        db.session.scalars(
            select(ServiceLine)
            .where(ServiceLine.customer_id == customer.id)
            .order_by(ServiceLine.activated_on, ServiceLine.id)
        )
    )
    return ActivationDocument(issuer(), customer, lines, kst_today())
