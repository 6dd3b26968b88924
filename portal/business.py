"""The company's business details, as one piece of configuration (전자상거래법 제10조).

Korean customers look for the operator's 상호, 대표자, 사업자등록번호, 통신판매업 신고번호,
address and customer centre at the foot of every page, and the e-commerce act requires a
seller to show them; the same facts are printed as the issuer of tax invoices and
confirmations. They live here, once, so the footer, the error pages, the documents, the
withdrawal page and mail can never disagree. Each can be replaced from the environment
(``PORTAL_COMPANY_*``, ``PORTAL_CS_*``) without a release; the defaults are the company's own
(상호 and the §9 numbers from the 2023-09-15 policy, the rest from the issuer data the
documents have always printed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields


class BusinessConfigError(RuntimeError):
    """A business detail from the environment is malformed; the message is one line."""


@dataclass(frozen=True)
class BusinessDetails:
    """What the footer, error pages and documents print about the company."""

    company_name: str = "아리온통신(주)"
    representative: str = "정아리"
    # 10 digits, shown as 120-81-47521.
    registration_number: str = "1208147521"
    # 통신판매업 신고번호 as the district office issued it. The policy does not give it, so
    # there is no default to invent: the footer leaves the line out until it is configured.
    mail_order_number: str = ""
    address: str = "서울특별시 강남구 테헤란로 152"
    business_type: str = "정보통신업"
    business_item: str = "위치기반서비스"
    # The customer centre: the §9 담당자 line of the policy, which answers customers.
    cs_phone: str = "02-2679-8705"
    cs_hours: str = "평일 09:00~18:00 (점심 12:00~13:00, 주말·공휴일 휴무)"
    cs_email: str = ""

    @property
    def registration_number_display(self) -> str:
        """``120-81-47521``: the way the number is printed on every Korean document."""
        n = self.registration_number
        return f"{n[:3]}-{n[3:5]}-{n[5:]}" if len(n) == 10 else n

    @property
    def cs_phone_digits(self) -> str:
        """The number for a ``tel:`` link."""
        return re.sub(r"[^0-9+]", "", self.cs_phone)

    def as_issuer(self) -> dict[str, str]:
        """The issuer block of tax invoices and confirmations (billing's documents)."""
        return {
            "company_name": self.company_name,
            "registration_number": self.registration_number,
            "address": self.address,
            "representative": self.representative,
            "business_type": self.business_type,
            "business_item": self.business_item,
            "contact": f"고객센터 {self.cs_phone}",
        }


# Environment variable for each detail.
ENVIRONMENT_NAMES = {
    "company_name": "PORTAL_COMPANY_NAME",
    "representative": "PORTAL_COMPANY_REPRESENTATIVE",
    "registration_number": "PORTAL_COMPANY_REGISTRATION_NUMBER",
    "mail_order_number": "PORTAL_COMPANY_MAIL_ORDER_NUMBER",
    "address": "PORTAL_COMPANY_ADDRESS",
    "business_type": "PORTAL_COMPANY_BUSINESS_TYPE",
    "business_item": "PORTAL_COMPANY_BUSINESS_ITEM",
    "cs_phone": "PORTAL_CS_PHONE",
    "cs_hours": "PORTAL_CS_HOURS",
    "cs_email": "PORTAL_CS_EMAIL",
}
assert set(ENVIRONMENT_NAMES) == {f.name for f in fields(BusinessDetails)}


def from_environment(environ: Mapping[str, str] | None = None) -> BusinessDetails:
    """The defaults, with each ``PORTAL_COMPANY_*`` / ``PORTAL_CS_*`` that is set replacing one.

    :raises BusinessConfigError: a registration number that is not 10 digits, or a phone
        number with letters in it.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name, variable in ENVIRONMENT_NAMES.items():
        raw = " ".join((environ.get(variable) or "").split())
        if raw:
            values[name] = raw
    number = values.get("registration_number")
    if number is not None:
        digits = number.replace("-", "")
        if not re.fullmatch(r"[0-9]{10}", digits):
            raise BusinessConfigError(
                f"PORTAL_COMPANY_REGISTRATION_NUMBER must be 10 digits, got {number!r}"
            )
        values["registration_number"] = digits
    phone = values.get("cs_phone")
    if phone is not None and not re.fullmatch(r"\+?[0-9][0-9 -]{2,19}", phone):
        raise BusinessConfigError(f"PORTAL_CS_PHONE must be a phone number, got {phone!r}")
    return BusinessDetails(**values)
