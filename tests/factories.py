"""Test data built through the same services the portal uses."""

from __future__ import annotations

from portal.auth.registration import register_customer
from portal.customers.services import NewCustomer
from portal.extensions import db

PASSWORD = "Trk-Portal-7731!"


def create_customer(
    *,
    login_id: str = "hong_gildong",
    password: str = PASSWORD,
    second_factor: str = "card",
    activated: bool = True,
    **overrides,
):
    from tests.conftest import DemoCustomer

    fields = {
        "login_id": login_id,
        "name": "홍길동",
        "email": f"{login_id}@example.kr",
        "phone": "010-1234-5678",
        "member_type": "general",
        "customer_type": "individual",
        "birth_date": "1990-01-01",
        "postal_code": "04524",
        "address": "서울특별시 중구 세종대로 110",
        "username": "길동",
        "password": password,
        "second_factor": second_factor,
        "activated": activated,
    }
    fields.update(overrides)
    result = register_customer(NewCustomer(**fields))
    db.session.commit()
    return DemoCustomer(
        login_id=result.customer.login_id,
        password=password,
        card_codes=result.card_codes,
        otp_secret=result.otp_secret,
        id=result.customer.id,
    )
