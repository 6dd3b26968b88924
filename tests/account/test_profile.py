"""/account/profile and /account/profile/edit: see everything, edit safely (PRODUCT.md §3)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from portal.account.errors import StaleProfile
from portal.account.services import (
    field_sources,
    mask_birth_date,
    mask_business_number,
    profile_facts,
    update_profile,
)
from portal.audit.models import SecurityEvent
from portal.auth.cards import active_card, serial_tail
from portal.customers.errors import ValidationFailed
from portal.customers.models import Customer, ServiceLine
from tests.account.conftest import fresh, password_session, version_from
from tests.conftest import post_form

EDIT = "/account/profile/edit"

GOOD = {
    "email": "gildong.new@example.kr",
    "phone": "010-9999-8888",
    "postal_code": "06236",
    "address": "서울특별시 강남구 테헤란로 152",
    "username": "새길동",
}


def _submit(client, **changes):
    html = client.get(EDIT).get_data(as_text=True)
    data = {**GOOD, "version": version_from(html), **changes}
    return post_form(client, EDIT, data, page=EDIT)


# --- viewing -------------------------------------------------------------------------


def test_profile_needs_sign_in(client):
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_profile_shows_every_group_with_sources_and_masks(signed_in, client):
    response = client.get("/account/profile")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    for heading in ("본인 확인 정보", "연락처", "주소", "결제 정보", "서비스 이용 정보", "보안"):
        assert heading in html
    assert "등록된 결제 정보가 없습니다" in html
    assert "hong_gildong" in html and "홍길동" in html
    assert "hong_gildong@example.kr" in html and "010-1234-5678" in html and "04524" in html
    # Birth date: year only on screen (the full date is in the re-authenticated download).
    assert "1990-**-**" in html and "1990-01-01" not in html
    assert "가입신청서" in html and "서비스 이용" in html
    assert "정정 중" not in html
    assert "password_hash" not in html and "$2b$" not in html


def test_business_number_is_partially_masked(auth, business, client):
    auth.login(business)
    html = client.get("/account/profile").get_data(as_text=True)
    assert "124-81-***98" in html
    assert "1248100998" not in html and "124-81-00998" not in html
    assert "<dt>사업자등록번호</dt>" in html and "<dt>생년월일</dt>" not in html


def test_masks():
    from datetime import date

    assert mask_business_number("1248100998") == "124-81-***98"
    assert mask_business_number(None) == ""
    assert mask_birth_date(date(1990, 1, 2)) == "1990-**-**"
    assert mask_birth_date(None) == ""


def test_service_lines_show_the_service_name(app, db, signed_in, client):
    for service, plan in (("anytrack", "베이직"), ("spot", "스팟 플러스")):
        db.session.add(
            ServiceLine(
                customer_id=signed_in.id, service=service, plan=plan, activated_on=date(2024, 1, 2)
            )
        )
    db.session.commit()
    profile = client.get("/account/profile").get_data(as_text=True)
    assert '<td data-label="서비스">AnyTrack</td><td data-label="요금제">베이직</td>' in profile
    assert '<td data-label="서비스">Spot</td><td data-label="요금제">스팟 플러스</td>' in profile
    dashboard = client.get("/account").get_data(as_text=True)
    assert "<li>AnyTrack · 베이직 · " in dashboard and "<li>Spot · 스팟 플러스 · " in dashboard


def test_profile_lists_only_the_customers_own_lines_in_order(
    app, db, signed_in, client, make_customer
):
    assert "등록된 회선이 없습니다." in client.get("/account/profile").text
    other = make_customer(login_id="otherline1")
    for customer_id, label, number in (
        (signed_in.id, "차량용", "010-1111-2222"),
        (other.id, "남의 단말", "010-9999-0000"),
        (signed_in.id, "가방용", "SP-0002"),
    ):
        db.session.add(
            ServiceLine(
                customer_id=customer_id,
                service="spot",
                plan="스팟",
                device_label=label,
                device_number=number,
                activated_on=date(2024, 3, 4),
            )
        )
    db.session.commit()
    html = client.get("/account/profile").text
    assert html.index("차량용") < html.index("가방용")
    assert '<span class="nowrap">010-1111-2222</span>' in html and "SP-0002" in html
    assert "남의 단말" not in html and "010-9999-0000" not in html
    assert "2024-03-04" in html and "등록된 회선이 없습니다." not in html
    # The facts still come once, not once per line.
    facts = profile_facts(fresh(signed_in.id))
    assert [line.device_label for line in facts.lines] == ["차량용", "가방용"]
    assert facts.sessions == 1


def test_card_serial_shows_only_its_last_four_digits(app, db, signed_in, client):
    card = active_card(signed_in.id)
    assert card is not None and serial_tail(card.serial) == card.serial[-4:]
    assert serial_tail(None) is None
    customer = db.session.get(Customer, signed_in.id)
    facts = profile_facts(customer)
    assert facts.card_serial_tail == card.serial[-4:]
    assert facts.identity_field == "birth_date" and facts.identity_masked == "1990-**-**"
    for url in ("/account/profile", "/account/security"):
        html = client.get(url).get_data(as_text=True)
        assert f"일련번호 끝자리 {card.serial[-4:]}" in html
        assert card.serial not in html and card.serial[:9] not in html


def test_profile_escapes_html_held_in_the_data(app, db, signed_in, client):
    customer = fresh(signed_in.id)
    customer.username = "<script>alert(1)</script>"
    customer.address = '"><img src=x onerror=alert(1)>'
    db.session.commit()
    html = client.get("/account/profile").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    dashboard = client.get("/account").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in dashboard


# --- editing -------------------------------------------------------------------------


def test_edit_form_holds_current_values_and_version(signed_in, client):
    html = client.get(EDIT).get_data(as_text=True)
    assert 'name="version" value="1"' in html
    assert 'value="hong_gildong@example.kr"' in html
    for name in ("email", "phone", "postal_code", "address", "username"):
        assert f'name="{name}"' in html
    assert 'name="country"' not in html  # general members have a postcode, not a country


def test_edit_saves_changes_and_logs_field_names_only(db, signed_in, client):
    response = _submit(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/profile")
    customer = fresh(signed_in.id)
    assert customer.email == "gildong.new@example.kr"
    assert customer.phone == "+821099998888"
    assert customer.postal_code == "06236"
    assert customer.username == "새길동"
    assert customer.version == 2
    assert field_sources(customer)["email"] == "self"
    event = db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.kind == "profile_updated")
    ).one()
    assert set(event.detail.split(",")) == {"email", "phone", "postal_code", "address", "username"}
    # Names only: neither the old nor the new values are in the event log.
    for value in ("hong_gildong@example.kr", "gildong.new", "9999", "06236", "04524", "테헤란로"):
        assert value not in event.detail
    html = client.get("/account/profile").get_data(as_text=True)
    assert "회원 정보를 저장했습니다" in html and "본인 수정" in html
    assert "hong_gildong@example.kr" not in html


def test_edit_one_field_logs_only_that_field(db, signed_in, client):
    current = {
        "email": "hong_gildong@example.kr",
        "phone": "010-1234-5678",
        "postal_code": "04524",
        "address": "서울특별시 중구 세종대로 110",
        "username": "길동",
    }
    response = _submit(client, **{**current, "username": "의적"})
    assert response.status_code == 302
    event = db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.kind == "profile_updated")
    ).one()
    assert event.detail == "username"


def test_unchanged_submit_saves_nothing(db, signed_in, client):
    current = {
        "email": "hong_gildong@example.kr",
        "phone": "+82 10-1234-5678",
        "postal_code": "04524",
        "address": "서울특별시 중구 세종대로 110",
        "username": "길동",
    }
    response = _submit(client, **current)
    assert response.status_code == 302
    assert fresh(signed_in.id).version == 1
    assert "바뀐 내용이 없어" in client.get("/account/profile").get_data(as_text=True)
    assert not db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.kind == "profile_updated")
    ).first()


BAD_INPUT = [
    ("email", "not-an-email", "올바른 이메일 주소가 아닙니다"),
    ("email", "a@b", "올바른 이메일 주소가 아닙니다"),
    ("phone", "12345", "올바른 전화번호가 아닙니다"),
    ("phone", "+1 415 555 2671", "국내 전화번호"),
    ("postal_code", "0452", "우편번호는 숫자 5자리"),
    ("postal_code", "045241", "우편번호는 숫자 5자리"),
    ("postal_code", "", "우편번호를 입력해 주세요"),
    ("address", "", "주소를 입력해 주세요"),
    ("address", "가" * 301, "300자 이하"),
    ("username", "", "유저네임을 입력해 주세요"),
    ("username", "x" * 41, "40자 이하"),
    ("username", "bell\x07", "입력할 수 없는 문자"),
    ("email", "x" * 10_240, "입력 형식이 올바르지 않습니다"),
    ("address", "가" * 10_240, "입력 형식이 올바르지 않습니다"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_korean_message_and_nothing_saved(
    signed_in, client, name, value, message
):
    response = _submit(client, **{name: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    customer = fresh(signed_in.id)
    # All or nothing: the valid fields of the same submit were not saved either.
    assert customer.email == "hong_gildong@example.kr"
    assert customer.username == "길동"
    assert customer.version == 1


def test_html_in_every_field_is_escaped_on_the_error_page(signed_in, client):
    payload = "<b>x</b><script>alert(1)</script>"
    response = _submit(client, **{name: payload for name in GOOD})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_html_in_text_fields_is_stored_as_text_and_escaped(signed_in, client):
    response = _submit(client, address="<i>서울</i> & 부산", username="<b>길동</b>")
    assert response.status_code == 302
    assert fresh(signed_in.id).username == "<b>길동</b>"
    html = client.get("/account/profile").get_data(as_text=True)
    assert "<b>길동</b>" not in html and "&lt;b&gt;길동&lt;/b&gt;" in html
    assert "&lt;i&gt;서울&lt;/i&gt; &amp; 부산" in html


def test_extra_fields_are_ignored(signed_in, client):
    response = _submit(
        client,
        status="withdrawn",
        login_id="admin",
        customer_id="999",
        id="999",
        name="임꺽정",
        customer_type="business",
        member_type="overseas",
        must_activate="1",
        password_hash="x",
        field_sources="email:form",
    )
    assert response.status_code == 302
    customer = fresh(signed_in.id)
    assert customer.id == signed_in.id
    assert customer.login_id == "hong_gildong"
    assert customer.name == "홍길동"
    assert customer.customer_type == "individual"
    assert customer.member_type == "general"
    assert customer.must_activate is False
    assert customer.email == "gildong.new@example.kr"


def test_missing_or_forged_version_is_refused(signed_in, client):
    response = post_form(client, EDIT, {**GOOD}, page=EDIT)
    assert response.status_code == 400
    assert "화면 정보가 올바르지 않습니다" in response.get_data(as_text=True)
    response = post_form(client, EDIT, {**GOOD, "version": "1 OR 1=1"}, page=EDIT)
    assert response.status_code == 400
    assert fresh(signed_in.id).email == "hong_gildong@example.kr"


def test_overseas_member_edits_country_and_free_address(auth, overseas, client):
    auth.login(overseas)
    html = client.get(EDIT).get_data(as_text=True)
    assert 'name="country"' in html and 'name="postal_code"' not in html
    data = {
        "email": "jihoon@example.com",
        "phone": "+44 20 7946 0958",
        "country": "gb",
        "address": "10 Downing St, London SW1A 2AA",
        "username": "Jihoon",
        "postal_code": "1",  # ignored for overseas members
        "version": version_from(html),
    }
    response = post_form(client, EDIT, data, page=EDIT)
    assert response.status_code == 302, response.get_data(as_text=True)
    customer = fresh(overseas.id)
    assert (customer.phone, customer.country, customer.postal_code) == (
        "+442079460958",
        "GB",
        None,
    )


def test_overseas_member_needs_international_phone(auth, overseas, client):
    auth.login(overseas)
    html = client.get(EDIT).get_data(as_text=True)
    data = {
        "email": "jihoon@example.com",
        "phone": "010-1234-5678",
        "country": "US",
        "address": "500 Howard St",
        "username": "Jihoon",
        "version": version_from(html),
    }
    response = post_form(client, EDIT, data, page=EDIT)
    assert response.status_code == 400
    assert "국가번호를 포함한 국제 전화번호" in response.get_data(as_text=True)


# --- lost updates ----------------------------------------------------------------------


def test_lost_update_two_clients_one_version(app, customer):
    from tests.conftest import AuthActions

    first, second = app.test_client(), app.test_client()
    AuthActions(first).login(customer)
    AuthActions(second).login(customer)
    html_first = first.get(EDIT).get_data(as_text=True)
    html_second = second.get(EDIT).get_data(as_text=True)
    assert version_from(html_first) == version_from(html_second) == "1"

    response = post_form(
        first, EDIT, {**GOOD, "email": "first@example.kr", "version": "1"}, page=EDIT
    )
    assert response.status_code == 302

    response = post_form(
        second,
        EDIT,
        {**GOOD, "email": "second@example.kr", "username": "둘째", "version": "1"},
        page=EDIT,
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "다른 곳에서 먼저 변경되었습니다" in html
    assert "아무것도 저장하지 않았습니다" in html
    # The 409 page shows what is stored now, and links back to the form.
    assert "first@example.kr" in html and "second@example.kr" not in html
    assert 'href="/account/profile/edit"' in html
    stored = fresh(customer.id)
    assert stored.email == "first@example.kr"
    assert stored.username == "새길동"
    assert stored.version == 2

    # A fresh form carries the new version and saves.
    response = post_form(
        second,
        EDIT,
        {
            **GOOD,
            "email": "second@example.kr",
            "version": version_from(second.get(EDIT).get_data(as_text=True)),
        },
        page=EDIT,
    )
    assert response.status_code == 302
    assert fresh(customer.id).email == "second@example.kr"


def test_sign_in_elsewhere_does_not_make_the_form_stale(app, customer):
    from tests.conftest import AuthActions

    first = app.test_client()
    AuthActions(first).login(customer)
    html = first.get(EDIT).get_data(as_text=True)
    AuthActions(app.test_client()).login(customer)  # last_login_at changes, not the data
    response = post_form(first, EDIT, {**GOOD, "version": version_from(html)}, page=EDIT)
    assert response.status_code == 302


def test_concurrent_writer_between_read_and_write_is_caught(app, db, customer):
    """The version check passed, then another transaction committed: StaleDataError."""
    recent = password_session(customer.id)
    row = db.session.get(Customer, customer.id)
    assert row.version == 1
    with db.engine.begin() as conn:  # another worker's committed edit
        conn.execute(
            update(Customer.__table__)
            .where(Customer.__table__.c.id == customer.id)
            .values(email="other@example.kr", version=2)
        )
    with pytest.raises(StaleProfile):
        update_profile(row, session_row=recent, version=1, **{**GOOD, "country": None})
    db.session.rollback()
    stored = fresh(customer.id)
    assert stored.email == "other@example.kr"
    assert stored.username == "길동"


def test_service_refuses_stale_version_before_touching_anything(app, db, customer):
    recent = password_session(customer.id)
    row = db.session.get(Customer, customer.id)
    with pytest.raises(StaleProfile):
        update_profile(row, session_row=recent, version=7, **{**GOOD, "country": None})
    assert row.email == "hong_gildong@example.kr"
    assert not db.session.dirty


def test_service_collects_every_error_at_once(app, db, customer):
    recent = password_session(customer.id)
    row = db.session.get(Customer, customer.id)
    with pytest.raises(ValidationFailed) as info:
        update_profile(
            row,
            session_row=recent,
            version=1,
            email="bad",
            phone="1",
            postal_code="1234",
            address="",
            username="",
        )
    assert set(info.value.errors) == {"email", "phone", "postal_code", "address", "username"}
    assert not db.session.dirty
