"""Address entry: 상세주소 apart, a country select for overseas members, 상호/대표자 labels."""

from __future__ import annotations

from tests.account.conftest import fresh, version_from
from tests.conftest import post_form

EDIT = "/account/profile/edit"
GOOD = {
    "email": "gildong.new@example.kr",
    "phone": "010-9999-8888",
    "postal_code": "06236",
    "address": "서울특별시 강남구 테헤란로 152",
    "username": "새길동",
}


def _post(client, **changes):
    html = client.get(EDIT).get_data(as_text=True)
    return post_form(client, EDIT, {**GOOD, "version": version_from(html), **changes}, page=EDIT)


def test_general_member_types_postcode_road_address_and_detail(signed_in, client):
    html = client.get(EDIT).get_data(as_text=True)
    assert 'name="postal_code"' in html and 'name="address_detail"' in html
    assert "<legend>주소</legend>" in html and "<script" not in html.split("<main")[1]
    response = _post(client, address_detail="101동 1203호")
    assert response.status_code == 302
    customer = fresh(signed_in.id)
    assert (customer.postal_code, customer.address_detail) == ("06236", "101동 1203호")
    assert "101동 1203호" in client.get("/account/profile").get_data(as_text=True)


def test_a_client_that_does_not_send_the_detail_keeps_it(signed_in, client):
    assert _post(client, address_detail="3층").status_code == 302
    html = client.get(EDIT).get_data(as_text=True)
    data = {**GOOD, "username": "다른이름", "version": version_from(html)}
    assert post_form(client, EDIT, data, page=EDIT).status_code == 302
    assert fresh(signed_in.id).address_detail == "3층"


def test_too_long_detail_is_refused_with_its_label(signed_in, client):
    response = _post(client, address_detail="가" * 201)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="e-address_detail"' in html and "200자" in html
    assert fresh(signed_in.id).address_detail == ""


def test_overseas_member_picks_a_country_from_a_list(auth, overseas, client):
    auth.login(overseas)
    html = client.get(EDIT).get_data(as_text=True)
    assert '<select id="f-country"' in html
    assert '<option value="US" selected>미국</option>' in html
    assert '<option value="KR"' not in html
    data = {
        "email": "p@example.com",
        "phone": "+44 20 7946 0958",
        "address": "10 Downing St",
        "username": "P",
        "version": version_from(html),
    }
    for bad in ("XX", "KR", "EU", ""):
        response = post_form(client, EDIT, {**data, "country": bad}, page=EDIT)
        assert response.status_code == 400, bad
        assert 'id="e-country"' in response.get_data(as_text=True)
    response = post_form(client, EDIT, {**data, "country": "GB"}, page=EDIT)
    assert response.status_code == 302
    assert fresh(overseas.id).country == "GB"
    assert "영국" in client.get("/account/profile").get_data(as_text=True)


def test_business_customer_sees_trade_name_and_representative(auth, business, client):
    auth.login(business)
    profile = client.get("/account/profile").get_data(as_text=True)
    assert "<dt>상호</dt>" in profile and "<dt>대표자</dt>" in profile
    assert "<dt>성명</dt>" not in profile
    html = client.get(EDIT).get_data(as_text=True)
    assert 'name="representative"' in html
    data = {**GOOD, "representative": "김대표", "version": version_from(html)}
    assert post_form(client, EDIT, data, page=EDIT).status_code == 302
    assert fresh(business.id).representative == "김대표"
    assert "김대표" in client.get("/account/profile").get_data(as_text=True)


def test_individuals_have_no_representative(signed_in, client):
    html = client.get(EDIT).get_data(as_text=True)
    assert 'name="representative"' not in html
    assert _post(client, representative="누군가").status_code == 302
    assert fresh(signed_in.id).representative == ""
    assert "<dt>성명</dt>" in client.get("/account/profile").get_data(as_text=True)
