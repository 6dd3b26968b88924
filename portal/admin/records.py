"""The customer record staff open from a search (read only): what the lower packages know
about one customer, gathered for one page. No rule lives here; each fact is the owning
package's answer."""

from __future__ import annotations

from dataclasses import dataclass

from portal.account.corrections import open_correction_fields
from portal.auth.services import FactorStatus, factor_status
from portal.customers.models import CORRECTABLE_FIELDS, Customer
from portal.customers.services import APPLICATION_FIELDS, customer_by_id
from portal.withdrawal.rights import rights_requests_of
from portal.withdrawal.services import open_request_of

# Every personal-data item the record page shows unmasked: the access record names them.
SHOWN_FIELDS = (
    *APPLICATION_FIELDS,
    "service_lines",
    "last_login",
    "security_card",
    "otp",
)


@dataclass
class CustomerRecord:
    customer: Customer
    factors: FactorStatus
    under_correction: list[str]
    withdrawal_open_since: object | None
    open_rights_requests: int

    @property
    def fields_shown(self) -> list[str]:
        return list(SHOWN_FIELDS)


def customer_record(customer_id: int) -> CustomerRecord | None:
    """The record of ``customer_id``, or None if there is no such customer."""
    customer = customer_by_id(customer_id, with_lines=True)
    if customer is None:
        return None
    withdrawal = open_request_of(customer.id)
    fields = open_correction_fields(customer.id)
    return CustomerRecord(
        customer=customer,
        factors=factor_status(customer),
        under_correction=[f for f in CORRECTABLE_FIELDS if f in fields],
        withdrawal_open_since=withdrawal.created_at if withdrawal is not None else None,
        open_rights_requests=sum(1 for r in rights_requests_of(customer.id) if r.status == "open"),
    )
