"""The permission matrix, from outside: each role × each /admin endpoint (found by walking the
URL map) is either let through or refused with a 403 and an access-log record; a customer's
session opens none of them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.admin.permissions import ATTRIBUTE, PUBLIC, allowed
from portal.audit.models import AccessRecord
from portal.extensions import db
from tests.admin.conftest import StaffActions
from tests.conftest import csrf_from
from tests.test_csrf_everywhere import ARGUMENT_RE

ROLES = ("support", "billing", "privacy_officer", "admin")


@pytest.fixture
def config(config):
    config.RATELIMIT_LOGIN = "1000 per minute"
    return config


def admin_routes(app):
    """(endpoint, method, path, permission) of every guarded /admin route."""
    urls = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        permission = getattr(app.view_functions[rule.endpoint], ATTRIBUTE, None)
        if permission == PUBLIC:
            continue
        # An id that names nothing: the permission is checked before the view looks.
        values = {
            m["name"]: (999999 if m["conv"] == "int" else "x")
            for m in ARGUMENT_RE.finditer(rule.rule)
        }
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        found.append(
            (rule.endpoint, method, urls.build(rule.endpoint, values, method=method), permission)
        )
    return sorted(found)


def test_each_role_on_each_endpoint(app, client, make_staff):
    routes = admin_routes(app)
    assert len(routes) >= 4
    for role in ROLES:
        staff = make_staff(role, login_id=f"m_{role}"[:20])
        browser = app.test_client()
        StaffActions(browser).login(staff)
        token = csrf_from(browser.get("/admin/password").get_data(as_text=True))
        for endpoint, method, path, permission in routes:
            if endpoint == "admin.logout":
                continue  # would end the session the walk goes on with
            before = _denials(staff.login_id)
            if method == "GET":
                response = browser.get(path)
            else:
                response = browser.open(path, method=method, data={"csrf_token": token})
            if allowed(role, permission):
                assert response.status_code != 403, (role, endpoint)
                assert _denials(staff.login_id) == before, (role, endpoint)
            else:
                assert response.status_code == 403, (role, endpoint, response.status_code)
                assert _denials(staff.login_id) == [*before, endpoint], (role, endpoint)


def _denials(login_id: str) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AccessRecord.fields)
            .where(AccessRecord.actor == login_id, AccessRecord.action == "denied")
            .order_by(AccessRecord.seq)
        )
    )


def test_a_customer_session_opens_no_admin_endpoint(app, auth, client, customer):
    auth.login(customer)
    token = csrf_from(client.get("/account/profile/edit").get_data(as_text=True))
    for endpoint, method, path, _permission in admin_routes(app):
        if method == "GET":
            response = client.get(path)
        else:
            response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (endpoint, response.status_code)
        assert response.headers["Location"].endswith("/admin/login"), endpoint
    # And the customer is still signed in to their own pages.
    assert client.get("/account").status_code == 200
