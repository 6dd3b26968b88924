"""The back office's menu: each screen module adds its entry; the role decides what shows."""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l

from portal.admin.permissions import allowed

ROLE_LABELS = {
    "support": _l("고객지원"),
    "billing": _l("요금"),
    "privacy_officer": _l("개인정보 보호책임자"),
    "admin": _l("관리자"),
}

# (order, endpoint, permission, label)
_MENU: list[tuple[int, str, str, object]] = []


def menu_item(endpoint: str, permission: str, label: object, *, order: int) -> None:
    """Add a screen to the menu (called once, when its module is imported)."""
    if not any(item[1] == endpoint for item in _MENU):
        _MENU.append((order, endpoint, permission, label))
        _MENU.sort(key=lambda item: item[0])


def template_helpers() -> dict:
    """``admin_menu``, ``staff_can`` and ``role_label`` for the back office's templates."""
    staff = g.get("staff")
    return {
        "admin_menu": [(endpoint, permission, label) for _, endpoint, permission, label in _MENU],
        "staff_can": lambda permission: staff is not None and allowed(staff.role, permission),
        "role_label": lambda role: str(ROLE_LABELS.get(role, role)),
    }
