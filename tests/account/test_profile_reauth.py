"""/account/profile/edit needs the password again within the re-auth window (PRODUCT.md §2).

Email and phone are how the customer is reached (and how a password will be reset), so a
stolen or forgotten-open session must not be enough to change them. The whole edit page is
behind the window; a submit that arrives after it closes changes nothing, keeps what was
typed (encrypted, in the cookie session) and comes back to the form after /reauth.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.account.services import update_profile
from portal.audit.models import SecurityEvent
from portal.auth.errors import ReauthNeeded
from portal.auth.models import UserSession
from portal.customers.models import Customer
from portal.dbtypes import utcnow
from tests.account.conftest import fresh, password_session, version_from
from tests.conftest import csrf_from, post_form
from tests.factories import PASSWORD

EDIT = "/account/profile/edit"
NEW = {
    "email": "new.contact@example.kr",
    "phone": "010-9999-8888",
    "postal_code": "04524",
    "address": "서울특별시 중구 세종대로 110",
    "username": "길동",
}


def _password_entered(db, minutes_ago: float) -> None:
    """Move the moment the password was last typed (every session of the test database)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(UserSession.__table__).values(
                authenticated_at=utcnow() - timedelta(minutes=minutes_ago)
            )
        )


def _profile_events(db) -> list[SecurityEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "profile_updated"))
    )


def _assert_sent_to_reauth(response) -> None:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/reauth?")
    assert "next=/account/profile/edit" in location


def test_edit_page_needs_recent_password(db, signed_in, client):
    _password_entered(db, minutes_ago=6)
    _assert_sent_to_reauth(client.get(EDIT))
    html = client.get("/reauth?next=/account/profile/edit").get_data(as_text=True)
    assert "비밀번호를 다시 입력해 주세요" in html


def test_stale_submit_changes_nothing(db, signed_in, client):
    html = client.get(EDIT).get_data(as_text=True)  # the form was opened in the window...
    _password_entered(db, minutes_ago=6)  # ...and submitted after it closed
    response = client.post(
        EDIT, data={"csrf_token": csrf_from(html), "version": version_from(html), **NEW}
    )
    _assert_sent_to_reauth(response)
    stored = fresh(signed_in.id)
    assert (stored.email, stored.phone, stored.version) == (
        "hong_gildong@example.kr",
        "+821012345678",
        1,
    )
    assert _profile_events(db) == []


def test_stale_submit_that_skips_the_form_is_refused(db, signed_in, client):
    """The rule is on the server: a POST made without ever opening the form is refused too."""
    _password_entered(db, minutes_ago=30)
    token = csrf_from(client.get("/account/profile").get_data(as_text=True))
    for phone_only in ({"phone": "010-5555-0000"}, {"email": "x@example.kr", "username": "y"}):
        response = client.post(
            EDIT, data={"csrf_token": token, "version": "1", **NEW, **phone_only}
        )
        _assert_sent_to_reauth(response)
    assert fresh(signed_in.id).phone == "+821012345678"
    assert _profile_events(db) == []


def test_password_entered_within_the_window_is_enough(db, signed_in, client):
    html = client.get(EDIT).get_data(as_text=True)
    _password_entered(db, minutes_ago=4)
    response = client.post(
        EDIT, data={"csrf_token": csrf_from(html), "version": version_from(html), **NEW}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/profile"
    stored = fresh(signed_in.id)
    assert (stored.email, stored.phone) == ("new.contact@example.kr", "+821099998888")
    # The event names the contact fields that changed, never their values.
    (event,) = _profile_events(db)
    assert set(event.detail.split(",")) == {"email", "phone"}
    assert "new.contact" not in event.detail and "9999" not in event.detail


def test_typed_values_come_back_after_reauth_and_are_saved_only_on_confirm(db, signed_in, client):
    html = client.get(EDIT).get_data(as_text=True)
    _password_entered(db, minutes_ago=6)
    response = client.post(
        EDIT, data={"csrf_token": csrf_from(html), "version": version_from(html), **NEW}
    )
    _assert_sent_to_reauth(response)

    response = post_form(
        client, "/reauth", {"password": PASSWORD, "next": EDIT}, page="/reauth?next=" + EDIT
    )
    assert response.status_code == 302 and response.headers["Location"] == EDIT
    html = client.get(EDIT).get_data(as_text=True)
    assert 'id="draft-restored"' in html
    assert 'value="new.contact@example.kr"' in html and 'value="010-9999-8888"' in html
    assert version_from(html) == "1"  # the version the typing was based on, not a newer one
    assert fresh(signed_in.id).email == "hong_gildong@example.kr"  # not saved by the detour

    response = client.post(
        EDIT, data={"csrf_token": csrf_from(html), "version": version_from(html), **NEW}
    )
    assert response.status_code == 302
    assert fresh(signed_in.id).email == "new.contact@example.kr"
    # Used once: the next visit shows the stored values, without the notice.
    html = client.get(EDIT).get_data(as_text=True)
    assert 'id="draft-restored"' not in html and version_from(html) == "2"


def test_kept_draft_is_not_readable_in_the_cookie(app, db, signed_in, client):
    """Flask's cookie session is signed, not encrypted: the draft inside it is encrypted."""
    html = client.get(EDIT).get_data(as_text=True)
    _password_entered(db, minutes_ago=6)
    client.post(EDIT, data={"csrf_token": csrf_from(html), "version": "1", **NEW})
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert "profile_draft" in data
    dumped = json.dumps(data, ensure_ascii=False)
    assert "new.contact" not in dumped and "9999" not in dumped


def test_draft_from_another_session_is_not_restored(app, db, customer):
    """A draft belongs to the session that typed it: a new sign-in starts clean."""
    from tests.conftest import AuthActions

    client = app.test_client()
    auth = AuthActions(client)
    auth.login(customer)
    html = client.get(EDIT).get_data(as_text=True)
    _password_entered(db, minutes_ago=6)
    client.post(EDIT, data={"csrf_token": csrf_from(html), "version": "1", **NEW})
    auth.logout()
    auth.login(customer)
    html = client.get(EDIT).get_data(as_text=True)
    assert 'id="draft-restored"' not in html
    assert "new.contact@example.kr" not in html


# --- service -------------------------------------------------------------------------


@pytest.mark.parametrize("minutes_ago", [6, 60])
def test_service_refuses_any_change_with_a_stale_password(app, db, customer, minutes_ago):
    row = db.session.get(Customer, customer.id)
    stale = password_session(customer.id, minutes_ago=minutes_ago)
    with pytest.raises(ReauthNeeded):
        update_profile(row, session_row=stale, version=1, **{**NEW, "country": None})
    with pytest.raises(ReauthNeeded):
        update_profile(row, session_row=None, version=1, **{**NEW, "country": None})
    assert row.email == "hong_gildong@example.kr" and row.version == 1
    assert not db.session.dirty


def test_service_applies_the_change_with_a_fresh_password(app, db, customer):
    row = db.session.get(Customer, customer.id)
    recent = password_session(customer.id, minutes_ago=1)
    changed = update_profile(row, session_row=recent, version=1, **{**NEW, "country": None})
    assert set(changed) == {"email", "phone"}
    db.session.commit()
    assert fresh(customer.id).phone == "+821099998888"


def test_longest_valid_input_is_kept_and_absurd_input_is_not(db, signed_in, client):
    """The cookie budget (views.DRAFT_MAX_TOKEN) holds the longest input the length rules
    accept, in the heaviest characters (3-byte Korean, 4-byte emoji)."""
    longest = {
        "email": "a" * 64 + "@" + "b" * 62 + "." + "b" * 62 + "." + "b" * 60 + ".kr",
        "phone": "가" * 30,
        "postal_code": "04524",
        "address": "가" * 300,
        "username": "\U0001f600" * 40,
    }
    assert len(longest["email"]) == 254
    html = client.get(EDIT).get_data(as_text=True)
    _password_entered(db, minutes_ago=6)
    client.post(EDIT, data={"csrf_token": csrf_from(html), "version": "1", **longest})
    _password_entered(db, minutes_ago=0)
    html = client.get(EDIT).get_data(as_text=True)
    assert 'id="draft-restored"' in html and "가" * 300 in html

    _password_entered(db, minutes_ago=6)
    absurd = {**longest, "address": "\U0001f600" * 2000}
    client.post(EDIT, data={"csrf_token": csrf_from(html), "version": "1", **absurd})
    _password_entered(db, minutes_ago=0)
    html = client.get(EDIT).get_data(as_text=True)
    assert 'id="draft-restored"' not in html
    assert fresh(signed_in.id).address == "서울특별시 중구 세종대로 110"
