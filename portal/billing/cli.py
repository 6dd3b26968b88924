"""The ``billing`` command group (REFERENCE.md): add invoices, record payments, import a CSV.

Thin: parse, call a service, commit once, print; the rules and their words are the billing
services' and :func:`~portal.billing.messages.message_for`. Every command exits 1 with one
line on bad input and then changes nothing.
"""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

from portal.audit.access import record_cli_access
from portal.billing.errors import BillingError, CustomerNotFound, ImportRaced
from portal.billing.imports import import_billing
from portal.billing.invoices import add_invoice, record_payment
from portal.billing.messages import message_for
from portal.cli_support import fail, read_body
from portal.customers.errors import ValidationFailed
from portal.customers.services import customer_by_login_id
from portal.extensions import db

billing_cli = AppGroup("billing", help="Invoices and payments (청구·납부).")


@billing_cli.command("add-invoice")
@click.option("--login-id", required=True)
@click.option("--amount", required=True, help="Whole won, VAT included.")
@click.option("--due", required=True, help="YYYY-MM-DD (KST).")
@click.option("--period", help="YYYY-MM; default: the due date's month.")
@click.option("--paid", is_flag=True, help="Record a payment of the whole amount today.")
@click.option("--json", "as_json", is_flag=True)
def add_invoice_command(
    login_id: str, amount: str, due: str, period: str | None, paid: bool, as_json: bool
) -> None:
    """Add an invoice for a customer."""
    customer = customer_by_login_id(login_id)
    try:
        if customer is None:
            raise CustomerNotFound(login_id)
        invoice = add_invoice(customer, amount=amount, due=due, period=period)
        if paid:
            record_payment(invoice.id, amount=invoice.total)
    except ValidationFailed as exc:
        fail(exc.one_line())
    except BillingError as exc:
        fail(message_for(exc))
    record_cli_access("invoice_add", customer_id=customer.id, fields=["invoices"])
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"invoice_id": invoice.id}))
        return
    click.echo(f"청구서를 추가했습니다 / invoice added: #{invoice.id} {invoice.period}")


@billing_cli.command("record-payment")
@click.option("--invoice-id", required=True, type=int)
@click.option("--amount", required=True, help="Whole won; at most what is still due.")
@click.option(
    "--method",
    type=click.Choice(["deposit", "auto_debit", "card", "other"]),
    default="deposit",
)
@click.option("--json", "as_json", is_flag=True)
def record_payment_command(invoice_id: int, amount: str, method: str, as_json: bool) -> None:
    """Record a payment received against an invoice (today, KST)."""
    try:
        payment = record_payment(invoice_id, amount=amount, method=method)
    except ValidationFailed as exc:
        fail(exc.one_line())
    except BillingError as exc:
        fail(message_for(exc))
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"payment_id": payment.id}))
        return
    click.echo(f"납부를 기록했습니다 / payment recorded: #{payment.id} {payment.amount:,}원")


@billing_cli.command("import")
@click.argument("path")
@click.option("--json", "as_json", is_flag=True)
def import_command(path: str, as_json: bool) -> None:
    """Import invoices and payments from a CSV file: all rows or none."""
    text = read_body(path)
    try:
        result = import_billing(text)
        for customer_id in sorted(result.customer_ids):
            record_cli_access("billing_import", customer_id=customer_id, fields=["invoices"])
    except ImportRaced:
        db.session.rollback()
        fail(
            "nothing imported: another import wrote the same numbers at that moment;"
            " run the file again (it skips what is held)"
        )
    except BillingError as exc:
        db.session.rollback()
        for line, message in getattr(exc, "rows", []):
            click.echo(f"line {line}: {message}", err=True)
        fail(f"nothing imported: {len(getattr(exc, 'rows', []))} bad rows")
    db.session.commit()
    counts = {
        "invoices_added": result.invoices_added,
        "invoices_skipped": result.invoices_skipped,
        "payments_added": result.payments_added,
        "payments_skipped": result.payments_skipped,
    }
    if as_json:
        click.echo(json.dumps(counts))
        return
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


def register(app: Flask) -> None:
    app.cli.add_command(billing_cli)
