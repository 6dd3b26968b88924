"""Demo data for a development machine (``flask demo load``), loaded once."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from portal.account.disclosures import record_disclosure
from portal.account.inquiries import answer_inquiry, submit_inquiry
from portal.admin.models import Staff
from portal.admin.services import create_staff
from portal.auth import cards, otp
from portal.auth.registration import register_customer
from portal.billing.invoices import add_invoice, record_payment
from portal.billing.methods import save_payment_method
from portal.customers.services import NewCustomer, customer_by_login_id
from portal.dbtypes import kst_today
from portal.extensions import db
from portal.policy.notices import post_notice
from portal.policy.officers import fill_officer_contact
from portal.policy.seed.loader import ensure_seed, ensure_terms_seed
from portal.security import decrypt

# Demo sign-ins are printed by `flask demo load`; they exist only in development data, and
# load_demo refuses to run anywhere else: these passwords are public (they are in the source),
# and one of them opens an admin staff account.
DEMO_ENVIRONMENTS = ("development", "testing")
DEMO_PASSWORD = "Gps-Portal-2026!"  # noqa: S105
STAFF_PASSWORD = "Staff-Console-2026!"  # noqa: S105
# One demo staff account per role (least privilege is easier to see than to describe).
DEMO_STAFF = (
    ("support", "고객지원 담당", "support"),
    ("billing", "요금 담당", "billing"),
    ("privacy", "개인정보 보호책임자", "privacy_officer"),
    ("admin", "관리자", "admin"),
)

# The §9 officers' names and addresses: the seed policy gives roles and numbers only.
DEMO_OFFICERS = {
    "개인정보 관리책임자": {
        "name": "정아리",
        "department": "경영지원실",
        "phone": "02-6309-6800",
        "email": "privacy@arion.example.kr",
    },
    "개인정보 관리담당자": {
        "name": "박지훈",
        "department": "솔루션사업팀",
        "phone": "02-2679-8705",
        "email": "privacy-desk@arion.example.kr",
    },
}

DEMO_CUSTOMERS = [
    NewCustomer(
        login_id="kim_minsu",
        name="김민수",
        email="minsu.kim@example.kr",
        phone="010-1234-5678",
        member_type="general",
        customer_type="individual",
        birth_date="1985-04-12",
        postal_code="04524",
        address="서울특별시 중구 세종대로 110",
        username="민수",
        password=DEMO_PASSWORD,
        second_factor="card",
        activated=True,
        lines=[
            {
                "service": "anytrack",
                "plan": "애니트랙 베이직",
                "device_label": "차량 1",
                "device_number": "AT-20931",
                "activated_on": date(2023, 3, 2),
            },
            {
                "service": "spot",
                "plan": "스팟 라이트",
                "device_label": "아이 가방",
                "device_number": "SP-55120",
                "activated_on": date(2024, 1, 15),
            },
        ],
    ),
    NewCustomer(
        login_id="lee_seoyeon",
        name="이서연",
        email="seoyeon.lee@example.kr",
        phone="010-9876-5432",
        member_type="general",
        customer_type="individual",
        birth_date="1992-11-03",
        postal_code="48058",
        address="부산광역시 해운대구 센텀중앙로 79",
        username="서연",
        password=DEMO_PASSWORD,
        second_factor="otp",
        activated=True,
        lines=[
            {
                "service": "spot",
                "plan": "스팟 스탠다드",
                "device_label": "반려견",
                "device_number": "SP-77031",
                "activated_on": date(2024, 6, 1),
            }
        ],
    ),
    NewCustomer(
        login_id="arion_logis",
        name="아리온물류(주)",
        email="billing@arion-logis.example.kr",
        phone="02-6309-6800",
        member_type="general",
        customer_type="business",
        business_number="1248100998",
        postal_code="07299",
        address="서울특별시 영등포구 경인로 775",
        username="아리온물류",
        password=DEMO_PASSWORD,
        second_factor="card",
        activated=True,
        lines=[
            {
                "service": "anytrack",
                "plan": "애니트랙 비즈 50",
                "device_label": "화물차 1-50",
                "device_number": "AT-B0001",
                "activated_on": date(2022, 9, 1),
            },
        ],
    ),
    NewCustomer(
        login_id="park_abroad",
        name="박지훈",
        email="jihoon.park@example.com",
        phone="+1 415 555 2671",
        member_type="overseas",
        customer_type="individual",
        birth_date="1979-02-28",
        country="US",
        address="500 Howard St, San Francisco, CA 94105",
        username="Jihoon",
        password=DEMO_PASSWORD,
        second_factor="card",
        activated=True,
        lines=[
            {
                "service": "anytrack",
                "plan": "애니트랙 글로벌",
                "device_label": "캠핑카",
                "device_number": "AT-G7710",
                "activated_on": date(2025, 5, 20),
            }
        ],
    ),
    NewCustomer(
        login_id="choi_newbie",
        name="최하늘",
        email="haneul.choi@example.kr",
        phone="010-2222-3333",
        member_type="general",
        customer_type="individual",
        birth_date="2000-07-07",
        postal_code="34126",
        address="대전광역시 유성구 대학로 99",
        username="하늘",
        password=DEMO_PASSWORD,
        second_factor="card",
        activated=False,
    ),
]


def _demo_history(customer) -> None:
    """A question answered and a disclosure on record, so those pages show something."""
    inquiry = submit_inquiry(
        customer,
        subject="청구서 수신 이메일 변경",
        body="청구서를 회사 이메일로도 받을 수 있을까요?",
    )
    answer_inquiry(inquiry.id, body="회원 정보 수정에서 이메일을 바꾸시면 다음 달부터 적용됩니다.")
    record_disclosure(
        customer,
        recipient="○○카드(주)",
        legal_basis="유료 서비스 요금 결제 (개인정보 처리방침 5. 개인정보 공유 및 제공)",
        items="name,phone",
        disclosed_on=date(2025, 3, 10),
    )


def _month_start(day: date, back: int) -> date:
    """The first day of the month ``back`` months before ``day``'s."""
    month = day.month - 1 - back
    return date(day.year + month // 12, month % 12 + 1, 1)


def _demo_billing(customer, *, monthly: int, items, method: dict) -> None:
    """Four months of invoices: two paid, one partly paid (overdue), the newest unpaid and
    not yet due. A business customer's invoices give tax invoices.

    Dates follow today, so the statuses look right whenever the demo is loaded.
    """
    save_payment_method(customer, **method)
    today = kst_today()
    for back, paid in ((4, monthly), (3, monthly), (2, monthly // 3), (1, 0)):
        start = _month_start(today, back)
        due = _month_start(today, back - 1) + timedelta(days=24)  # the 25th of the next month
        if back == 1:
            due = max(due, today + timedelta(days=14))  # the newest is not due yet
        invoice = add_invoice(
            customer,
            amount=monthly,
            due=due,
            period=f"{start:%Y-%m}",
            issued_on=_month_start(today, back - 1),
            items=items,
        )
        if paid:
            record_payment(
                invoice.id,
                amount=paid,
                paid_on=min(due - timedelta(days=3), today),
                method="auto_debit" if method["kind"] == "auto_debit" else "deposit",
            )


# Payment methods of the demo customers (the account number is a made-up one).
DEMO_BILLING = {
    "kim_minsu": {
        "monthly": 16500,
        "items": [("애니트랙 베이직", 1, 11000), ("스팟 라이트", 1, 5500)],
        "method": {
            "kind": "auto_debit",
            "holder_name": "김민수",
            "holder_birth_date": "1985-04-12",
            "bank_code_value": "088",
            "account_number_value": "110-432-987654",
            "phone": "010-1234-5678",
            "email": "minsu.kim@example.kr",
        },
    },
    "lee_seoyeon": {
        "monthly": 7700,
        "items": [("스팟 스탠다드", 1, 7700)],
        "method": {
            "kind": "deposit",
            "holder_name": "이서연",
            "holder_birth_date": "1992-11-03",
            "phone": "010-9876-5432",
            "email": "seoyeon.lee@example.kr",
        },
    },
    "arion_logis": {
        "monthly": 550000,
        "items": [("애니트랙 비즈 50", 50, 550000)],
        "method": {
            "kind": "auto_debit",
            "holder_name": "아리온물류(주)",
            "holder_business_number": "124-81-00998",
            "bank_code_value": "003",
            "account_number_value": "012-345678-01-011",
            "phone": "02-6309-6800",
            "email": "billing@arion-logis.example.kr",
        },
    },
}


class DemoRefused(Exception):
    """Demo data was asked for outside development and testing."""

    def __init__(self, env_name: str) -> None:
        super().__init__(env_name)
        self.env_name = env_name


def load_demo() -> list[dict]:
    """Create the demo customers and staff accounts (one per role) if missing; return their
    sign-ins (staff ones marked ``staff``).

    :raises DemoRefused: the app runs in neither development nor testing.
    """
    env_name = current_app.config.get("ENV_NAME", "")
    if env_name not in DEMO_ENVIRONMENTS:
        raise DemoRefused(env_name)
    ensure_seed()  # a no-op after ``flask db upgrade`` (migration 0002 inserts it)
    ensure_terms_seed()
    for role, contact in DEMO_OFFICERS.items():
        fill_officer_contact(role, **contact)
    sign_ins: list[dict] = []
    for data in DEMO_CUSTOMERS:
        customer = customer_by_login_id(data.login_id)
        if customer is None:
            customer = register_customer(data).customer
            if data.login_id == "kim_minsu":
                _demo_history(customer)
            if data.login_id in DEMO_BILLING:
                _demo_billing(customer, **DEMO_BILLING[data.login_id])
        entry: dict = {
            "who": f"{customer.name} ({data.member_type}/{data.customer_type}"
            f"{', 첫 로그인' if not data.activated else ''})",
            "login_id": customer.login_id,
            "password": data.password,
        }
        card = cards.active_card(customer.id)
        if card is not None:
            entry["card"] = {"serial": card.serial, "codes": cards.card_codes(card)}
        credential = otp.otp_credential(customer.id)
        if credential is not None and credential.secret_encrypted is not None:
            entry["otp_secret"] = decrypt(credential.secret_encrypted)
        sign_ins.append(entry)
    if db.session.scalars(select(Staff).where(Staff.login_id == "admin")).first() is None:
        post_notice(
            title="연말 서버 점검 안내 (12월 20일 02:00~04:00)",
            body_md="점검 시간에는 포털과 위치 조회 앱을 잠시 쓸 수 없습니다. 양해 부탁드립니다.",
            popup=True,
            author="고객센터",
        )
    for login_id, name, role in DEMO_STAFF:
        staff = db.session.scalars(select(Staff).where(Staff.login_id == login_id)).first()
        if staff is None:
            staff, _ = create_staff(
                login_id=login_id, name=name, role=role, password=STAFF_PASSWORD
            )
        sign_ins.append(
            {
                "who": f"staff ({role})",
                "login_id": staff.login_id,
                "password": STAFF_PASSWORD,
                "otp_secret": decrypt(staff.otp_secret_encrypted),
                "staff": True,
            }
        )
    return sign_ins
