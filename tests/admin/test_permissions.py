"""Every /admin endpoint declares a permission; the table gives each role the least it needs."""

from __future__ import annotations

from portal.admin.permissions import ATTRIBUTE, PERMISSIONS, PUBLIC, allowed


def test_every_admin_endpoint_declares_a_permission(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        view = app.view_functions[rule.endpoint]
        permission = getattr(view, ATTRIBUTE, None)
        if permission is None or (permission != PUBLIC and permission not in PERMISSIONS):
            undeclared.append(rule.endpoint)
    assert undeclared == []


def test_only_the_sign_in_pages_are_public(app):
    public = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin")
        and getattr(app.view_functions[rule.endpoint], ATTRIBUTE, None) == PUBLIC
    )
    assert public == ["admin.login", "admin.verify"]


def test_least_privilege_table():
    assert {r for r in PERMISSIONS["staff.manage"]} == {"admin"}
    assert not allowed("support", "withdrawals.process")
    assert not allowed("billing", "customers.register")
    assert not allowed("support", "access_log.review")
    assert allowed("privacy_officer", "access_log.review")
    assert not allowed("admin", "no.such.permission")


def test_an_undeclared_admin_endpoint_is_refused_at_run_time(app, client):
    from portal.admin import bp

    # A route added without @requires (as a careless change would) opens for no one.
    app.view_functions["admin.careless"] = lambda: "secret"
    app.add_url_rule("/admin/careless", endpoint="admin.careless")
    assert bp  # the blueprint's before_request guards every admin.* endpoint
    assert client.get("/admin/careless").status_code == 403
