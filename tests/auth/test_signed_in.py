"""current_user on signed-in requests: the light SignedIn of portal.auth.sessions."""

from __future__ import annotations

from flask_login import current_user, login_required
from sqlalchemy import delete

from portal.auth.models import UserSession
from portal.auth.sessions import SignedIn, signed_in_customer
from portal.customers.models import Customer


def test_light_user_answers_without_orm_rows_and_loads_them_on_demand(app, auth, customer, client):
    seen = {}

    @login_required
    def probe():
        user = current_user._get_current_object()
        seen["light"] = isinstance(user, SignedIn) and user._row is None
        seen["facts"] = (user.id, user.login_id, user.name, user.customer_type)
        row = signed_in_customer()
        seen["row"] = (type(row), row.id, row.session_token == user.get_id())
        seen["session"] = row.current_session.id == user.session_id
        return "ok"

    app.add_url_rule("/test-probe", view_func=probe)
    auth.login(customer)
    assert client.get("/test-probe").status_code == 200
    assert seen["light"] is True
    assert seen["facts"] == (customer.id, customer.login_id, "홍길동", "individual")
    assert seen["row"] == (Customer, customer.id, True)
    assert seen["session"] is True


def test_session_ended_while_the_request_ran_signs_out_instead_of_failing(
    app, db, auth, customer, client
):
    @login_required
    def ended_meanwhile():
        # Another tab signs out after this request's lookup, before it loads the rows.
        db.session.execute(delete(UserSession))
        signed_in_customer()
        return "unreachable"

    app.add_url_rule("/test-ended", view_func=ended_meanwhile)
    auth.login(customer)
    response = client.get("/test-ended")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
