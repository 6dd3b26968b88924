"""Back-office customer screens: search (masked), record (logged), registration, card reissue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from portal.admin.models import StaffSession
from portal.audit.models import AccessRecord
from portal.auth.models import SecurityCard
from portal.customers.models import Customer, LoginId
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.security import mask_email, mask_name, mask_phone
from tests.conftest import AuthActions, DemoCustomer, csrf_from, post_form

CODE_RE = re.compile(r'<span class="code-no">(\d\d)</span> <code>(\d{4})</code>')
SERIAL_RE = re.compile(r'id="card-serial">([0-9-]+)<')
FORM = {
    "login_id": "paper_kim",
    "name": "김서류",
    "email": "paper.kim@example.kr",
    "phone": "010-2345-6789",
    "member_type": "general",
    "customer_type": "individual",
    "birth_date": "1985-03-04",
    "business_number": "",
    "postal_code": "04524",
    "address": "서울특별시 중구 세종대로 110",
    "country": "",
    "username": "",
    "second_factor": "card",
}


@pytest.fixture
def config(config):
    config.RATELIMIT_LOGIN = "1000 per minute"
    return config


@pytest.fixture
def support(make_staff, staff_auth):
    staff = make_staff("support", login_id="helper")
    staff_auth.login(staff)
    return staff


def records(action: str | None = None) -> list[AccessRecord]:
    db.session.expire_all()
    stmt = select(AccessRecord).order_by(AccessRecord.seq)
    if action:
        stmt = stmt.where(AccessRecord.action == action)
    return list(db.session.scalars(stmt))


def assert_no_values(values: list[str]) -> None:
    """No access record holds any of ``values`` in any column."""
    for row in records():
        for column in AccessRecord.__table__.columns:
            cell = str(getattr(row, column.key) or "")
            for value in values:
                assert value not in cell, f"{value!r} in access_records.{column.key}"


# --- masking -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [("홍길동", "홍*동"), ("남궁길동", "남**동"), ("홍길", "홍*"), ("홍", "*"), ("", "")],
)
def test_mask_name(given, shown):
    assert mask_name(given) == shown


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("010-1234-5678", "010-****-5678"),
        ("02-123-4567", "02-***-4567"),
        ("+1 202-555-0123", "+1 ***-***-0123"),
        ("01012345678", "*******5678"),
    ],
)
def test_mask_phone(given, shown):
    assert mask_phone(given) == shown


def test_mask_email():
    assert mask_email("hong@example.com") == "ho***@example.com"
    assert mask_email("ab@example.com") == "a***@example.com"


# --- search ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "hong_gildong",
        "HONG_GIL",
        "hong",
        "길동",
        "010-1234-5678",
        "01012345678",
        "+82 10-1234-5678",
    ],
)
def test_search_by_each_kind_shows_masked_results(client, support, customer, q):
    response = client.get("/admin/customers", query_string={"q": q})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"/admin/customers/{customer.id}" in html
    assert "홍*동" in html and "010-****-5678" in html and "ho***@example.kr" in html
    # The unmasked values never reach the results page (the query box echoes only q).
    for value in ("홍길동", "1234-5678", "01012345678", "hong_gildong@example.kr"):
        if value not in q:
            assert value not in html
    rows = records("search")
    assert len(rows) == 1 and rows[0].fields == "q" and rows[0].customer_id is None
    assert_no_values([q, "홍길동", "+821012345678"])


def test_search_wildcards_are_literal_and_misses_are_empty(client, support, customer):
    for q in ("%", "_", "hong%", "김철수", "010-9999-0000"):
        html = client.get("/admin/customers", query_string={"q": q}).get_data(as_text=True)
        assert "조건에 맞는 고객이 없습니다" in html, q
    # An empty box lists no one and logs nothing.
    html = client.get("/admin/customers").get_data(as_text=True)
    assert "search-results" not in html
    assert len(records("search")) == 5


def test_search_is_paginated(client, support, make_customer):
    for i in range(23):
        make_customer(login_id=f"pager_{i:02d}", phone=f"010-5555-{i:04d}")
    page1 = client.get("/admin/customers?q=pager_").get_data(as_text=True)
    page2 = client.get("/admin/customers?q=pager_&page=2").get_data(as_text=True)
    record_link = re.compile(r'href="/admin/customers/\d+"')
    assert len(record_link.findall(page1)) == 20
    assert len(record_link.findall(page2)) == 3
    assert "page=2" in page1 and "q=pager_" in page1


def test_search_and_view_are_open_to_every_role(client, make_staff, staff_auth, customer):
    staff_auth.login(make_staff("billing", login_id="payer"))
    assert client.get("/admin/customers?q=hong").status_code == 200
    assert client.get(f"/admin/customers/{customer.id}").status_code == 200
    # …but the card form is for those who may issue cards.
    assert "보안카드 재발급" not in client.get(f"/admin/customers/{customer.id}").get_data(
        as_text=True
    )


# --- record ------------------------------------------------------------------------------


def test_record_shows_everything_and_logs_the_fields(client, support, customer):
    response = client.get(f"/admin/customers/{customer.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for shown in ("홍길동", "010-1234-5678", "hong_gildong@example.kr", "1990-01-01", "04524"):
        assert shown in html
    serial = db.session.scalar(
        select(SecurityCard.serial).where(SecurityCard.customer_id == customer.id)
    )
    assert serial in html
    rows = records("view")
    assert len(rows) == 1 and rows[0].customer_id == customer.id
    assert {"name", "phone", "email", "birth_date", "address", "security_card"} <= set(
        rows[0].fields.split(",")
    )
    assert_no_values(["홍길동", "+821012345678", "hong_gildong@example.kr", serial])


def test_record_shows_locks_and_open_requests(client, support, customer):
    from portal.account.corrections import request_correction

    row = db.session.get(Customer, customer.id)
    request_correction(row, field="name", value="홍길순", reason="개명")
    db.session.execute(
        update(SecurityCard)
        .where(SecurityCard.customer_id == customer.id)
        .values(locked_at=utcnow())
    )
    db.session.commit()
    html = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert "정정 신청: 성명 (정정 중)" in html
    assert "잠김" in html


def test_unknown_record_is_404_and_logs_nothing(client, support):
    assert client.get("/admin/customers/99999").status_code == 404
    assert records("view") == []


# --- permissions -------------------------------------------------------------------------


def test_billing_may_not_register_and_the_refusal_is_logged(client, make_staff, staff_auth):
    staff_auth.login(make_staff("billing", login_id="payer"))
    assert client.get("/admin/customers/new").status_code == 403
    denied = records("denied")
    assert len(denied) == 1 and denied[0].actor == "payer"
    assert denied[0].fields == "admin.register_customer"


def test_billing_may_not_issue_cards(client, make_staff, staff_auth, customer):
    staff_auth.login(make_staff("billing", login_id="payer"))
    response = post_form(
        client,
        f"/admin/customers/{customer.id}/card",
        {"confirm_login_id": customer.login_id},
        page="/admin/",
    )
    assert response.status_code == 403
    assert records("denied")[0].fields == "admin.issue_card"


def test_menu_links_to_search_and_register(client, support):
    html = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/customers"' in html and 'href="/admin/customers/new"' in html


# --- registration ------------------------------------------------------------------------


def test_register_shows_the_card_once(client, support, app):
    response = post_form(client, "/admin/customers/new", FORM)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    codes = CODE_RE.findall(html)
    assert len(codes) == app.config["PORTAL_CARD_CODES"]
    assert [int(n) for n, _ in codes] == list(range(1, len(codes) + 1))
    serial = SERIAL_RE.search(html).group(1)
    temporary = re.search(r'id="temporary-password">([^<]+)<', html).group(1)
    customer = db.session.scalar(
        select(Customer).join(Customer.login).where(LoginId.login_id == "paper_kim")
    )
    assert customer.must_activate and customer.name == "김서류"
    assert customer.phone == "+821023456789"
    # Shown once: the form page again holds no code, and nothing is in the cookie session.
    again = client.get("/admin/customers/new").get_data(as_text=True)
    assert not CODE_RE.search(again) and serial not in again and temporary not in again
    record = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert not CODE_RE.search(record)
    for cookie in client._cookies.values():
        assert temporary not in cookie.value and codes[0][1] + codes[1][1] not in cookie.value
    rows = records("register")
    assert len(rows) == 1 and rows[0].customer_id == customer.id
    assert "security_card" in rows[0].fields and "name" in rows[0].fields
    assert_no_values(["김서류", "+821023456789", "paper.kim@example.kr", serial, temporary])
    # The customer signs in with the temporary password and lands on the first-login step.
    customer_client = app.test_client()
    first = AuthActions(customer_client).step_one(DemoCustomer("paper_kim", temporary))
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/activate")


def test_register_with_otp_shows_the_secret_and_qr(client, support):
    response = post_form(
        client, "/admin/customers/new", {**FORM, "login_id": "otp_kim", "second_factor": "otp"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="otp-secret">[A-Z2-7]{16,}<', html)
    assert "<svg" in html and not CODE_RE.search(html)


def test_bad_fields_are_reported_each_beside_its_field_and_kept(client, support):
    bad = {
        **FORM,
        "login_id": "Bad ID!",
        "email": "not-an-email",
        "phone": "12345",
        "postal_code": "abc",
        "birth_date": "2999-01-01",
    }
    response = post_form(client, "/admin/customers/new", bad)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for name in ("login_id", "email", "phone", "postal_code", "birth_date"):
        assert f'id="e-{name}"' in html, name
    assert 'value="Bad ID!"' in html and 'value="not-an-email"' in html
    assert 'value="김서류"' in html  # good fields are kept too
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    assert records("register") == []


def test_bad_business_number_is_refused(client, support):
    form = {**FORM, "customer_type": "business", "business_number": "1234567890"}
    html = post_form(client, "/admin/customers/new", form).get_data(as_text=True)
    assert 'id="e-business_number"' in html


@pytest.mark.parametrize("retired", [False, True])
def test_an_issued_login_id_is_refused(client, support, customer, retired):
    if retired:
        db.session.add(LoginId(login_id="gone_user", retired_at=utcnow()))
        db.session.commit()
    login_id = "gone_user" if retired else customer.login_id.upper()
    response = post_form(client, "/admin/customers/new", {**FORM, "login_id": login_id})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="e-login_id"' in html and not CODE_RE.search(html)


def test_register_needs_csrf(client, support):
    response = client.post("/admin/customers/new", data=FORM)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


FUZZ = settings(
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60) | st.sampled_from(
    ["", " ", "０１０-１２３４-５６７８", "<script>x</script>", "' OR 1=1 --", "x" * 3000, "\x00"]
)


@FUZZ
@given(data=st.fixed_dictionaries({name: text for name in FORM}))
def test_registration_form_never_500(client, support, data):
    response = post_form(client, "/admin/customers/new", data)
    assert response.status_code in (200, 400)
    assert "<script>x</script>" not in response.get_data(as_text=True)


# --- card reissue ------------------------------------------------------------------------


def _age_password(staff_id: int) -> None:
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id)
        .values(authenticated_at=utcnow() - timedelta(minutes=10))
    )
    db.session.commit()


def _reissue(client, customer, typed, replacing=None):
    page = f"/admin/customers/{customer.id}"
    html = client.get(page).get_data(as_text=True)
    if replacing is None:
        replacing = re.search(r'name="replacing" value="([^"]*)"', html).group(1)
    return client.post(
        f"{page}/card",
        data={"csrf_token": csrf_from(html), "confirm_login_id": typed, "replacing": replacing},
    )


def test_reissue_needs_a_recent_password(client, support, customer):
    _age_password(support.id)
    response = _reissue(client, customer, customer.login_id)
    assert response.status_code == 302 and "/admin/reauth" in response.headers["Location"]
    assert records("card_issue") == []
    response = post_form(client, "/admin/reauth", {"password": support.password, "next": "/admin/"})
    assert response.status_code == 302
    assert _reissue(client, customer, customer.login_id).status_code == 200


def test_reissue_needs_the_typed_login_id(client, support, customer):
    old = db.session.scalar(
        select(SecurityCard.serial).where(SecurityCard.customer_id == customer.id)
    )
    for typed in ("", "someone_else"):
        response = _reissue(client, customer, typed)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "확인란에 대상 아이디를 정확히 입력해 주세요" in html and not CODE_RE.search(html)
    db.session.expire_all()
    active = db.session.scalars(
        select(SecurityCard.serial).where(
            SecurityCard.customer_id == customer.id, SecurityCard.revoked_at.is_(None)
        )
    ).all()
    assert active == [old]
    assert records("card_issue") == []


def test_reissue_prints_a_new_card_once_and_the_old_one_stops_working(
    client, app, support, customer
):
    response = _reissue(client, customer, customer.login_id.upper())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    codes = [code for _, code in CODE_RE.findall(html)]
    assert len(codes) == app.config["PORTAL_CARD_CODES"]
    serial = SERIAL_RE.search(html).group(1)
    rows = records("card_issue")
    assert len(rows) == 1 and rows[0].fields == "security_card"
    assert rows[0].customer_id == customer.id
    assert_no_values([serial, *codes[:3]])
    # Shown once: the record page names the serial, never the codes.
    record = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert serial in record and not CODE_RE.search(record)
    # The same form sent again (a reload) replaces nothing: its card is no longer current.
    again = _reissue(client, customer, customer.login_id, replacing=customer_serial_before(html))
    assert not CODE_RE.search(again.get_data(as_text=True))
    assert len(records("card_issue")) == 1
    # The old card's codes no longer sign the customer in; the new card's do.
    old_client = AuthActions(app.test_client())
    assert old_client.step_one(customer).status_code == 302
    assert old_client.answer_card(customer).status_code != 302
    new_customer = DemoCustomer(customer.login_id, customer.password, card_codes=codes)
    fresh = AuthActions(app.test_client())
    assert fresh.step_one(new_customer).status_code == 302
    assert fresh.answer_card(new_customer).status_code == 302


def customer_serial_before(_html: str) -> str:
    """A serial that is no longer the current card (the one the resubmitted form carried)."""
    return db.session.scalars(
        select(SecurityCard.serial).where(SecurityCard.revoked_at.is_not(None))
    ).first()


def test_reissue_of_unknown_customer_is_404(client, support):
    response = post_form(
        client, "/admin/customers/99999/card", {"confirm_login_id": "x"}, page="/admin/"
    )
    assert response.status_code == 404


def test_reissue_needs_csrf(client, support, customer):
    response = client.post(
        f"/admin/customers/{customer.id}/card", data={"confirm_login_id": customer.login_id}
    )
    assert response.status_code == 400
    assert records("card_issue") == []
