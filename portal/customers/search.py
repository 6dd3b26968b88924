"""Staff search of customers by login ID, name or phone (PRODUCT.md §7), results masked.

One box, three readings of what was typed, OR-ed in one statement:

- a login ID: exact or prefix, case-insensitive (IDs are stored lower-cased). Served by the
  login-ID index (on PostgreSQL a ``varchar_pattern_ops`` index, so the prefix LIKE uses it
  whatever the database collation);
- a phone number in any form a person types (``010-1234-5678``, ``01012345678``,
  ``+82 10-…``): normalised to E.164 by the same rule as the application form and compared
  with the stored E.164 (indexed, ``ix_customers_phone``);
- a name: contains. Names are stored in plain text (not encrypted: every page and document
  prints them), so no blind index is needed; but a "contains" match cannot use a B-tree, and
  this part reads the customers table. Acceptable for a back office of a few staff; a
  trigram index (PostgreSQL ``pg_trgm``) is the way up if the table grows large.

The results carry masked values only (``홍*동``, ``010-****-5678``, ``ho***@example.com``):
the unmasked record is one click further and is access-logged as a view.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import false, func, select, union

from portal.customers import validation as v
from portal.customers.models import Customer, LoginId
from portal.pagination import Page, paginate
from portal.security import mask_email, mask_name, mask_phone

# Longer than any login ID, name or phone anyone types; longer queries are cut, not refused.
QUERY_MAX = 100
PER_PAGE = 20
_LIKE_ESCAPE = "\\"
# The start of a login ID (any length up to a whole one): a shorter query is still a prefix.
_LOGIN_PREFIX_RE = re.compile(r"[a-z0-9_]{1,20}")


@dataclass(frozen=True)
class SearchHit:
    """One result row, every personal value already masked."""

    customer_id: int
    login_id: str
    name: str
    phone: str
    email: str
    member_type: str


def normalise_query(raw: str | None) -> str:
    """What the box held, trimmed, NFC, without control characters, at most QUERY_MAX long."""
    text = unicodedata.normalize("NFC", (raw or "").strip())
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    return text[:QUERY_MAX].strip()


def _escape_like(text: str) -> str:
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


def _as_phone(text: str) -> str | None:
    """The E.164 form of ``text`` if it reads as a phone number (Korean or international)."""
    member_type = "overseas" if unicodedata.normalize("NFKC", text).startswith("+") else "general"
    try:
        return v.phone(text, member_type=member_type)
    except v.FieldInvalid:
        return None


def _matching_ids(query: str):
    """The ids of the customers ``query`` finds, as a UNION of one select per reading of it.

    An OR across login_ids and customers cannot use either table's index (the planner reads
    both whole); each branch of the UNION uses its own: the login-ID prefix
    (ix_login_ids_login_id_pattern), the phone number, the name's trigrams.
    """
    branches = []
    login = query.lower()
    if _LOGIN_PREFIX_RE.fullmatch(login):
        branches.append(
            select(Customer.id)
            .join(Customer.login)
            .where(LoginId.login_id.like(_escape_like(login) + "%", escape=_LIKE_ESCAPE))
        )
    phone = _as_phone(query)
    if phone is not None:
        branches.append(select(Customer.id).where(Customer.phone == phone))
    branches.append(
        select(Customer.id).where(
            func.lower(Customer.name).like(
                "%" + _escape_like(query.lower()) + "%", escape=_LIKE_ESCAPE
            )
        )
    )
    return union(*branches)


def search_customers(raw_query: str | None, *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Page ``page`` of the customers matching ``raw_query`` as :class:`SearchHit` rows,
    newest registration first. An empty query matches nobody (no "list everyone")."""
    query = normalise_query(raw_query)
    stmt = (
        select(Customer)
        .join(Customer.login)
        .where(Customer.id.in_(_matching_ids(query)) if query else false())
        .order_by(Customer.id.desc())
    )
    found = paginate(stmt, page=page, per_page=per_page)
    return Page(
        items=[_hit(customer) for customer in found.items],
        page=found.page,
        has_next=found.has_next,
    )


def _hit(customer: Customer) -> SearchHit:
    return SearchHit(
        customer_id=customer.id,
        login_id=customer.login_id,
        name=mask_name(customer.name),
        phone=mask_phone(v.display_phone(customer.phone, customer.member_type)),
        email=mask_email(customer.email),
        member_type=customer.member_type,
    )
