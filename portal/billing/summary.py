"""The billing facts other packages read: balance due, the payment method, the export part.

Keep the signatures: the dashboard, the profile and the data download call these. The
``*_expr`` helpers in :mod:`portal.billing.invoices` let a page fold the same facts into a
statement it runs anyway (statement budgets).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.billing.invoices import balance_due_expr, invoice_status, method_exprs
from portal.billing.methods import MethodSummary, masked_account, summarise
from portal.billing.models import Invoice, InvoiceItem, Payment, PaymentMethod
from portal.extensions import db


def balance_due(customer: Any) -> int:
    """Unpaid amount in won: every invoice's total less every payment (one statement)."""
    return int(db.session.scalar(select(balance_due_expr(customer.id))) or 0)


def payment_method_summary(customer: Any) -> MethodSummary | None:
    """The payment method, masked for display, or None when none is registered."""
    row = db.session.execute(select(*method_exprs(customer.id))).one()
    return summarise(row.pm_kind, row.pm_holder, row.pm_bank, row.pm_last4)


def _iso(value):
    return value.isoformat() if value is not None else None


def billing_export(customer: Any) -> dict:
    """Billing details (account number masked, no encrypted value) and invoices, for the
    data download. Covers every billing table listed in ``account.export.EXPORTED_TABLES``:
    payment_methods, invoices (with invoice_items inside) and payments."""
    method = db.session.scalars(
        select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)
    ).first()
    payment_method = None
    if method is not None:
        payment_method = {
            "kind": method.kind,
            "holder_name": method.holder_name,
            "bank_code": method.bank_code,
            "account_number": masked_account(method.account_last4) or None,
            "phone": method.phone,
            "email": method.email,
            "created_at": _iso(method.created_at),
            "updated_at": _iso(method.updated_at),
        }
    invoices = list(
        db.session.scalars(
            select(Invoice).where(Invoice.customer_id == customer.id).order_by(Invoice.id)
        )
    )
    items: dict[int, list[InvoiceItem]] = {}
    if invoices:
        for item in db.session.scalars(
            select(InvoiceItem)
            .where(InvoiceItem.invoice_id.in_([i.id for i in invoices]))
            .order_by(InvoiceItem.id)
        ):
            items.setdefault(item.invoice_id, []).append(item)
    payments = list(
        db.session.scalars(
            select(Payment).where(Payment.customer_id == customer.id).order_by(Payment.id)
        )
    )
    paid: dict[int, int] = {}
    for p in payments:
        paid[p.invoice_id] = paid.get(p.invoice_id, 0) + p.amount
    return {
        "payment_method": payment_method,
        "invoices": [
            {
                "id": i.id,
                "external_number": i.external_number,
                "period": i.period,
                "issued_on": _iso(i.issued_on),
                "due_on": _iso(i.due_on),
                "total": i.total,
                "paid": paid.get(i.id, 0),
                "status": invoice_status(i.total, paid.get(i.id, 0), i.due_on),
                "retention_category": i.retention_category,
                "items": [
                    {"description": it.description, "quantity": it.quantity, "amount": it.amount}
                    for it in items.get(i.id, [])
                ],
            }
            for i in invoices
        ],
        "payments": [
            {
                "id": p.id,
                "invoice_id": p.invoice_id,
                "external_number": p.external_number,
                "paid_on": _iso(p.paid_on),
                "amount": p.amount,
                "method": p.method,
                "retention_category": p.retention_category,
            }
            for p in payments
        ],
    }
