"""Accounts for the black-box security suite, made in the live server's own database.

Run as ``python -m tests.security.seed N`` with the server's environment (production
configuration): it creates ``N`` card customers, ``N`` OTP customers with recovery codes and
one staff account per role, commits, and prints their secrets as JSON on stdout. One process
for all of them, instead of one ``flask customers create`` per account, keeps the suite's
set-up to a second or two.
"""

from __future__ import annotations

import json
import sys
import uuid

from portal import create_app
from portal.admin.services import create_staff
from portal.auth import otp
from portal.auth.registration import register_customer
from portal.customers.services import NewCustomer
from portal.extensions import db

PASSWORD = "Sec-Portal-2026!"
STAFF_PASSWORD = "Staff-Portal-2026!"
ROLES = ("support", "billing", "privacy_officer", "admin")


def _customer(login_id: str, second_factor: str, number: int) -> dict:
    result = register_customer(
        NewCustomer(
            login_id=login_id,
            name="김보안",
            email=f"{login_id}@example.kr",
            phone=f"010-{2000 + number:04d}-{5000 + number:04d}",
            password=PASSWORD,
            birth_date="1990-01-01",
            postal_code="04524",
            address="서울 중구 세종대로 110",
            second_factor=second_factor,
            activated=True,
        )
    )
    out = {
        "id": result.customer.id,
        "login_id": login_id,
        "password": PASSWORD,
        "card_codes": result.card_codes,
        "otp_secret": result.otp_secret,
    }
    if second_factor == "otp":
        out["recovery_codes"] = otp.regenerate_recovery_codes(result.customer)
    return out


def seed(count: int) -> dict:
    # A fresh tag per run: login IDs never collide with an earlier run's on a kept database.
    tag = uuid.uuid4().hex[:6]
    card = [_customer(f"sc{tag}{i:02d}", "card", i) for i in range(count)]
    otp_customers = [_customer(f"so{tag}{i:02d}", "otp", 100 + i) for i in range(count)]
    staff = {}
    for role in ROLES:
        login_id = f"st{tag}{role[:4]}"
        member, secret = create_staff(
            login_id=login_id, name="보안담당", role=role, password=STAFF_PASSWORD
        )
        staff[role] = {
            "id": member.id,
            "login_id": login_id,
            "password": STAFF_PASSWORD,
            "otp_secret": secret,
        }
    db.session.commit()
    return {"card": card, "otp": otp_customers, "staff": staff}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    app = create_app()
    with app.app_context():
        print(json.dumps(seed(count), ensure_ascii=False))


if __name__ == "__main__":
    main()
