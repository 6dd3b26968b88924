"""Business details come from one configuration structure (portal/business.py)."""

from __future__ import annotations

import pytest

from portal.business import BusinessConfigError, BusinessDetails, from_environment
from portal.customers.validation import business_number_ok


def test_defaults_are_the_companys_and_the_number_is_valid():
    details = from_environment({})
    assert details == BusinessDetails()
    assert details.company_name == "아리온통신(주)" and details.cs_phone == "02-2679-8705"
    assert business_number_ok(details.registration_number)
    assert details.registration_number_display == "120-81-47521"
    assert details.cs_phone_digits == "0226798705"


def test_environment_replaces_each_detail():
    details = from_environment(
        {
            "PORTAL_COMPANY_NAME": " 새회사(주) ",
            "PORTAL_COMPANY_REGISTRATION_NUMBER": "124-81-00998",
            "PORTAL_CS_PHONE": "1588-0000",
            "PORTAL_CS_HOURS": "연중무휴",
        }
    )
    assert details.company_name == "새회사(주)"
    assert details.registration_number == "1248100998"
    assert details.cs_phone == "1588-0000" and details.cs_hours == "연중무휴"
    assert details.as_issuer()["company_name"] == "새회사(주)"


@pytest.mark.parametrize(
    "variable, value",
    [("PORTAL_COMPANY_REGISTRATION_NUMBER", "12345"), ("PORTAL_CS_PHONE", "call us")],
)
def test_malformed_values_are_refused(variable, value):
    with pytest.raises(BusinessConfigError):
        from_environment({variable: value})
