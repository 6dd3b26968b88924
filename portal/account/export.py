"""The customer's data download (PRODUCT.md §3: everything held about them, as JSON).

Coverage is explicit and tested: every table that holds rows about a customer (a foreign key
to ``customers``, directly or through another such table) must be listed either in
:data:`EXPORTED_TABLES` or, with the reason, in :data:`NOT_EXPORTED`. A new personal-data
table that is in neither makes ``tests/account/test_export.py`` fail, so nobody can add one
and forget the download.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import MetaData, Table, select

from portal.audit.services import record_event
from portal.billing.summary import billing_export
from portal.customers.models import Customer
from portal.customers.validation import display_phone
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.security import mask

SCHEMA_VERSION = 1

# Table → key in the download. Rows are read generically (every column except those in
# EXCLUDED_COLUMNS), so a column added later is exported without anyone touching this file.
# Two keys are special: "profile" (built here from customers + login_ids) and "billing"
# (built by portal.billing.summary.billing_export, which masks account numbers): billing
# lists its tables here with the value "billing" when it lands.
EXPORTED_TABLES: dict[str, str] = {
    "customers": "profile",
    "login_ids": "profile",  # the login ID and its issue date, inside the profile
    "service_lines": "service_lines",
    "security_events": "events",
    "user_sessions": "sessions",
    "security_cards": "security_cards",
    "otp_credentials": "otp",
    "recovery_codes": "recovery_codes",
    "correction_requests": "correction_requests",
    "correction_notices": "correction_notices",
    "disclosures": "disclosures",
    "inquiries": "inquiries",
    # Built by billing_export: the account number masked, encrypted values left out, the
    # items inside their invoice.
    "payment_methods": "billing",
    "invoices": "billing",
    "invoice_items": "billing",
    "payments": "billing",
    # Read generically like the others (the table belongs to the withdrawal package above).
    "withdrawal_requests": "withdrawal_requests",
    "rights_requests": "rights_requests",
    "mail_outbox": "mail",  # what was mailed to them and when (not the text: see below)
}

# Tables that hold rows about a customer but are deliberately left out, and why.
NOT_EXPORTED: dict[str, str] = {
    # A half-finished sign-in (step 1 passed, step 2 pending) that lives at most 5 minutes:
    # it holds only a token hash and the chosen factor — nothing about the person — and the
    # sign-in itself is in "events" once it completes or fails.
    "pending_logins": "transient sign-in state, no personal data; the outcome is an event",
    # Which code pairs of the security card were already answered. It describes the card,
    # not the person, and a copy of the download in the wrong hands would tell an attacker
    # which challenges can no longer come up (narrowing the card). The card itself (masked
    # serial, dates, lock) is exported under "security_cards".
    "card_used_pairs": "card state that would weaken the card if leaked; card itself exported",
    # A reset link in flight (30 minutes): only the hash of its token, a credential by nature;
    # the request and its use are in "events".
    "password_resets": "a credential in flight, minutes long; the request is an event",
}

# Secrets and internal bookkeeping are never written to the file, even for the owner:
# a download is a file that gets mailed, synced and left in Downloads folders.
EXCLUDED_COLUMNS: dict[str, set[str]] = {
    # bcrypt hash: useless to the customer, an offline-guessing target to anyone else.
    "customers": {"password_hash", "login_id_id"},
    "login_ids": {"id"},
    # The card codes and the pending challenge are the second factor itself.
    "security_cards": {"codes_encrypted", "challenge_first", "challenge_last"},
    # The TOTP secret is the second factor itself.
    "otp_credentials": {"secret_encrypted", "pending_secret_encrypted", "last_used_step"},
    # Recovery codes are stored only as keyed hashes; the dates and use are exported (which
    # pepper keyed a hash is our bookkeeping, not the customer's data).
    "recovery_codes": {"code_hash", "pepper_id"},
    # The session token hash would let nobody in, but it is a credential by nature.
    "user_sessions": {"token_hash"},
    # Internal uniqueness helper (equals "field" while open).
    "correction_requests": {"open_field"},
    "withdrawal_requests": {"open_customer_id"},
    # A message's text can hold a reset link (a credential while it lasts); the customer has
    # the mail itself. The kind, dates and status are exported. The server's reply is ours.
    "mail_outbox": {"content_encrypted", "last_error"},
}

# Columns shown masked, as on screen.
MASKED_COLUMNS: dict[tuple[str, str], int] = {("security_cards", "serial"): 4}


def customer_tables(metadata: MetaData) -> set[str]:
    """Names of every table holding rows about a customer (FK path to ``customers``)."""
    found = {"customers"}
    changed = True
    while changed:
        changed = False
        for table in metadata.sorted_tables:
            if table.name in found:
                continue
            if any(fk.column.table.name in found for fk in table.foreign_keys):
                found.add(table.name)
                changed = True
    return found


def uncovered_tables(metadata: MetaData) -> set[str]:
    """Customer tables that are neither exported nor excluded with a reason."""
    return customer_tables(metadata) - set(EXPORTED_TABLES) - set(NOT_EXPORTED)


def _value(table: str, column: str, value):
    if value is None:
        return None
    if (table, column) in MASKED_COLUMNS:
        return mask(str(value), MASKED_COLUMNS[(table, column)])
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):  # never reached: binary columns are secrets
        raise TypeError(f"binary column {table}.{column} must be excluded from the export")
    return value


def _row(table: Table, mapping) -> dict:
    skip = EXCLUDED_COLUMNS.get(table.name, set())
    return {
        col.name: _value(table.name, col.name, mapping[col.name])
        for col in table.columns
        if col.name not in skip
    }


def _rows_of(table: Table, customer_id: int) -> list[dict]:
    stmt = select(table).where(table.c.customer_id == customer_id).order_by(table.c.id)
    return [_row(table, row) for row in db.session.execute(stmt).mappings()]


def build_export(customer: Customer) -> dict:
    """Everything held about ``customer``, ready for ``json.dumps``.

    Identity data under correction is included: the customer is the data subject, not a
    third party, and needs to see what is held while the correction is pending.
    """
    tables = db.metadata.tables
    profile_table = tables["customers"]
    login_table = tables["login_ids"]
    profile_row = (
        db.session.execute(select(profile_table).where(profile_table.c.id == customer.id))
        .mappings()
        .one()
    )
    login_row = (
        db.session.execute(
            select(login_table).where(login_table.c.id == profile_row["login_id_id"])
        )
        .mappings()
        .one()
    )
    profile = {"login_id": login_row["login_id"], "login_id_issued_at": None}
    profile.update(_row(profile_table, profile_row))
    profile["login_id_issued_at"] = _value("login_ids", "issued_at", login_row["issued_at"])
    # "phone" stays E.164 (what is stored; unambiguous for any program or country). The
    # download is also read by people, so the number as shown on screen comes beside it;
    # an added key, so SCHEMA_VERSION stays (readers of version 1 ignore it).
    profile["phone_display"] = display_phone(profile_row["phone"], profile_row["member_type"])

    data: dict = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": utcnow().isoformat(),
        "profile": profile,
        "billing": billing_export(customer),
    }
    for name, key in EXPORTED_TABLES.items():
        if key in ("profile", "billing"):
            continue
        data[key] = _rows_of(tables[name], customer.id)
    return data


def export_customer_data(customer: Customer) -> dict:
    """The download for the customer themself, recorded as an event in the same transaction."""
    data = build_export(customer)
    record_event("data_exported", customer_id=customer.id)
    return data


def view_customer_data(customer: Customer) -> dict:
    """The same collection as the download, for the printable 열람 page; recorded as its own
    event, so the customer's history tells a look from a file that left the site."""
    data = build_export(customer)
    record_event("data_viewed", customer_id=customer.id)
    return data
