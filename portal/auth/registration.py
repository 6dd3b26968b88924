"""Registering a customer with credentials: the staff-side application form (policy §1-나).

The customers package checks and stores the form; this module adds what makes it an account
that can sign in: the password (its rules and bcrypt hash) and the second factor (a security
card printed for the customer, or an OTP secret).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from portal.auth.cards import issue_card
from portal.auth.otp import enrol_confirmed
from portal.auth.passwords import hash_password, password_problems, temporary_password
from portal.customers import validation as v
from portal.customers.models import Customer
from portal.customers.services import NewCustomer, check_application, create_customer
from portal.extensions import db


@dataclass
class Registered:
    """A new customer and the second factor to hand over (printed once, never stored plain)."""

    customer: Customer
    card_serial: str | None = None
    card_codes: list[str] | None = None
    otp_secret: str | None = None
    # Set when the system drew the first password (the staff screen): printed once.
    temporary_password: str | None = None


def register_customer(data: NewCustomer) -> Registered:
    """Register a customer from an application form and issue their second factor.

    :raises ValidationFailed: a field or the password breaks its rule (all checked at once).
    :raises LoginIdTaken: the login ID was ever issued before.
    """
    errors: dict[str, object] = {}
    try:
        login_id = v.login_id(data.login_id)
    except v.FieldInvalid:
        login_id = ""  # reported by check_application with the other fields
    problems = password_problems(data.password or "", login_id=login_id)
    if problems:
        errors["password"] = problems[0]
    application = check_application(data, errors=errors)
    customer = create_customer(application, password_hash=hash_password(data.password))
    result = Registered(customer=customer)
    if application.second_factor == "card":
        card, codes = issue_card(customer)
        result.card_serial, result.card_codes = card.serial, codes
    else:
        result.otp_secret = enrol_confirmed(customer)
    db.session.flush()
    return result


def register_with_temporary_password(data: NewCustomer) -> Registered:
    """The staff screen's registration: the system draws the first password, so no one
    (neither the paper form nor the staff member) chooses it, and the account starts at the
    first-login step, where the customer replaces it before anything else.

    :raises ValidationFailed, LoginIdTaken: see :func:`register_customer`.
    """
    try:
        login_id = v.login_id(data.login_id)
    except v.FieldInvalid:
        login_id = ""
    password = temporary_password(login_id=login_id)
    result = register_customer(replace(data, password=password, activated=False))
    result.temporary_password = password
    return result
