"""Billing pages: parse, call one service, flash, redirect or render. Never commit here.

Every invoice and document URL answers the same 404 for a missing id and for another
customer's: the services look invoices up by (customer, id) only.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.auth.errors import ReauthNeeded
from portal.auth.guards import reauth_required
from portal.auth.sessions import loads_customer, signed_in_customer
from portal.billing import bp
from portal.billing import messages as m
from portal.billing.banks import bank_name, banks
from portal.billing.documents import (
    activation_confirmation,
    format_business_number,
    purchase_confirmation,
    tax_invoice,
)
from portal.billing.errors import (
    InvoiceNotFound,
    NotBusinessCustomer,
)
from portal.billing.forms import PaymentMethodForm
from portal.billing.invoices import billing_page, invoice_of, recent_payments, row_of
from portal.billing.methods import payment_method_of, set_payment_method, summarise
from portal.customers.errors import UnderCorrection, ValidationFailed
from portal.customers.validation import display_phone
from portal.errors import render_error
from portal.extensions import db
from portal.pagination import parse_page

PER_PAGE = 20
FORM_FIELDS = (
    "kind",
    "holder_name",
    "holder_birth_date",
    "holder_business_number",
    "bank_code",
    "phone",
    "email",
)


@bp.get("/billing")
@login_required
def index():
    page = parse_page(request.args.get("page"))
    data = billing_page(current_user.id, page=page, per_page=PER_PAGE, summarise=summarise)
    return render_template(
        "billing/index.html",
        data=data,
        payments=recent_payments(current_user.id),
        page=page,
        has_next=data.has_next,
        channel_labels=m.CHANNEL_LABELS,
    )


def _stored_values(customer) -> dict[str, str]:
    row = payment_method_of(customer.id)
    if row is None:
        return {
            "kind": "",
            "holder_name": customer.name,
            "holder_birth_date": "",
            "holder_business_number": "",
            "bank_code": "",
            "phone": display_phone(customer.phone, customer.member_type),
            "email": customer.email,
        }
    # Identity numbers and the account number are never put back into the form.
    return {
        "kind": row.kind,
        "holder_name": row.holder_name,
        "holder_birth_date": "",
        "holder_business_number": "",
        "bank_code": row.bank_code or "",
        "phone": display_phone(row.phone, customer.member_type),
        "email": row.email,
    }


@bp.route("/billing/payment-method", methods=["GET", "POST"])
@reauth_required(return_to="/billing/payment-method")
@loads_customer
def payment_method():
    customer = signed_in_customer()
    errors: dict[str, object] = {}
    status = 200
    values = _stored_values(customer)
    if request.method == "POST":
        form = PaymentMethodForm(request.form)
        values.update({name: form[name].data or "" for name in FORM_FIELDS})
        if not form.validate():
            errors, status = {name: m.FORM_SHAPE for name in form.errors}, 400
        else:
            try:
                set_payment_method(
                    customer,
                    session_row=customer.current_session,
                    kind=form.kind.data,
                    holder_name=form.holder_name.data,
                    holder_birth_date=form.holder_birth_date.data,
                    holder_business_number=form.holder_business_number.data,
                    bank_code_value=form.bank_code.data,
                    account_number_value=form.account_number.data,
                    phone=form.phone.data,
                    email=form.email.data,
                )
            except ReauthNeeded:
                db.session.rollback()
                flash(m.PAYMENT_METHOD_REAUTH, "info")
                return redirect(url_for("auth.reauth", next=url_for("billing.payment_method")))
            except ValidationFailed as exc:
                errors, status = dict(exc.errors), 400
            else:
                flash(m.PAYMENT_METHOD_SAVED, "success")
                return redirect(url_for("billing.index"))
        # The account number is never echoed back, not even into a hidden field.
        if values["kind"] == "auto_debit" and "account_number" not in errors:
            errors.setdefault("account_number", m.ACCOUNT_NUMBER_RETYPE)
    current = payment_method_of(customer.id)
    summary = (
        summarise(current.kind, current.holder_name, current.bank_code, current.account_last4)
        if current is not None
        else None
    )
    return (
        render_template(
            "billing/payment_method.html",
            c=customer,
            values=values,
            errors=errors,
            banks=banks(),
            current=summary,
        ),
        status,
    )


@bp.get("/billing/invoices/<int:invoice_id>")
@login_required
def invoice(invoice_id: int):
    try:
        row = invoice_of(current_user.id, invoice_id)
    except InvoiceNotFound:
        abort(404)
    return render_template(
        "billing/invoice.html",
        invoice=row,
        summary=row_of(row),
        channel_labels=m.CHANNEL_LABELS,
        is_business=current_user.customer_type == "business",
    )


def _document(template: str, build, *args):
    try:
        doc = build(signed_in_customer(), *args)
    except InvoiceNotFound:
        abort(404)
    except NotBusinessCustomer as exc:
        return render_error(403, m.message_for(exc))
    except UnderCorrection as exc:
        return render_error(409, m.message_for(exc))
    return render_template(
        template, doc=doc, bank_name=bank_name, business_number=format_business_number
    )


@bp.get("/billing/invoices/<int:invoice_id>/tax-invoice")
@login_required
@loads_customer
def tax_invoice_page(invoice_id: int):
    return _document("billing/tax_invoice.html", tax_invoice, invoice_id)


@bp.get("/billing/invoices/<int:invoice_id>/purchase-confirmation")
@login_required
@loads_customer
def purchase_confirmation_page(invoice_id: int):
    return _document("billing/purchase_confirmation.html", purchase_confirmation, invoice_id)


@bp.get("/billing/activation-confirmation")
@login_required
@loads_customer
def activation_confirmation_page():
    return _document("billing/activation_confirmation.html", activation_confirmation)
