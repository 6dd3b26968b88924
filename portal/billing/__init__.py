"""Billing: payment methods, invoices, payments, printable documents (PRODUCT.md §4)."""

from flask import Blueprint

# Routes are attached by portal.billing.views, imported in portal.register_blueprints.
bp = Blueprint("billing", __name__)
