"""Staff accounts: create, change role, disable, restore, reset OTP or password.

Every grant, change and revocation of a role is written to the role log (권한 부여·변경·말소
기록, kept 3 years) in the same transaction, with who did it (NULL on the command line).
Accounts are never deleted: the access log and the role log name them for years.
"""

from __future__ import annotations

import secrets

import pyotp
from flask import has_request_context, request
from sqlalchemy import func, select

from portal.admin.models import STAFF_ROLES, Staff
from portal.admin.signin import end_all_sessions, note, set_password
from portal.audit.models import RoleChange
from portal.auth.passwords import password_problems
from portal.customers import validation as v
from portal.extensions import db
from portal.security import encrypt


class StaffError(Exception):
    """A staff account cannot be created or changed as asked (``message`` says why)."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


def _log_role(staff: Staff, kind: str, old: str | None, new: str | None, by: Staff | None) -> None:
    ip = (request.remote_addr or "")[:45] if has_request_context() else ""
    db.session.add(
        RoleChange(
            staff_id=staff.id,
            changed_by_id=by.id if by else None,
            kind=kind,
            old_role=old,
            new_role=new,
            ip=ip,
        )
    )


def _check_role(role: str) -> None:
    if role not in STAFF_ROLES:
        raise StaffError(f"role must be one of {', '.join(STAFF_ROLES)}")


def create_staff(
    *,
    login_id: str,
    name: str,
    role: str,
    password: str,
    by: Staff | None = None,
) -> tuple[Staff, str]:
    """Create a staff account with a mandatory TOTP; returns it and the secret (shown once).

    An account made by another staff member (``by``) must change its password at the first
    sign-in: the person who typed it is not the person who will use it.

    :raises StaffError: bad login ID, name, role or password, or the login ID exists.
    """
    try:
        login = v.login_id(login_id)
        clean_name = v.clean_text(name, max_length=100)
    except v.FieldInvalid as exc:
        raise StaffError(exc.message) from exc
    _check_role(role)
    problems = password_problems(password or "", login_id=login)
    if problems:
        raise StaffError(problems[0])
    if db.session.scalar(select(func.count()).select_from(Staff).where(Staff.login_id == login)):
        raise StaffError(f"staff login ID {login!r} exists")
    secret = pyotp.random_base32()
    staff = Staff(
        login_id=login,
        name=clean_name,
        role=role,
        password_hash="",
        otp_secret_encrypted=encrypt(secret),
    )
    db.session.add(staff)
    db.session.flush()
    set_password(staff, password, must_change=by is not None)
    _log_role(staff, "grant", None, role, by)
    db.session.flush()
    return staff, secret


def staff_list() -> list[Staff]:
    """Every staff account (there are few), active first."""
    return list(db.session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.login_id)))


def staff_by_id(staff_id: int) -> Staff | None:
    return db.session.get(Staff, staff_id)


def _not_self(staff: Staff, by: Staff | None) -> None:
    # An admin cannot demote, disable or reset themselves: the last admin would lock
    # everyone out, and a role change is a decision for a second person.
    if by is not None and by.id == staff.id:
        raise StaffError("cannot change your own account here")


def change_role(staff: Staff, role: str, *, by: Staff | None) -> None:
    """:raises StaffError: unknown role, the same role, or one's own account."""
    _check_role(role)
    _not_self(staff, by)
    if role == staff.role:
        raise StaffError(f"{staff.login_id} already has the role {role}")
    _log_role(staff, "change", staff.role, role, by)
    staff.role = role
    # The new role takes effect at once: sessions carrying the old one end.
    end_all_sessions(staff.id)
    db.session.flush()


def disable_staff(staff: Staff, *, by: Staff | None) -> None:
    """Revoke the account's access (the role is kept on record, the sessions end)."""
    _not_self(staff, by)
    if not staff.active:
        raise StaffError(f"{staff.login_id} is already disabled")
    staff.active = False
    _log_role(staff, "revoke", staff.role, None, by)
    end_all_sessions(staff.id)
    db.session.flush()


def enable_staff(staff: Staff, *, by: Staff | None) -> None:
    _not_self(staff, by)
    if staff.active:
        raise StaffError(f"{staff.login_id} is already active")
    staff.active = True
    _log_role(staff, "restore", None, staff.role, by)
    db.session.flush()


def reset_otp(staff: Staff, *, by: Staff | None) -> str:
    """A new TOTP secret (a lost phone); returns it to be shown once. Sessions end."""
    _not_self(staff, by)
    secret = pyotp.random_base32()
    staff.otp_secret_encrypted = encrypt(secret)
    staff.otp_last_used_step = None
    staff.otp_failed_attempts = 0
    staff.otp_locked_until = None
    end_all_sessions(staff.id)
    note(by, "staff_otp_reset", fields=[f"staff:{staff.login_id}"])
    db.session.flush()
    return secret


def reset_password(staff: Staff, *, by: Staff | None) -> str:
    """A temporary password (shown once) that must be changed at the next sign-in; the
    lockout is lifted and sessions end."""
    _not_self(staff, by)
    temporary = "Tmp-" + secrets.token_urlsafe(12)
    set_password(staff, temporary, must_change=True)
    staff.failed_logins = 0
    staff.locked_until = None
    end_all_sessions(staff.id)
    note(by, "staff_password_reset", fields=[f"staff:{staff.login_id}"])
    db.session.flush()
    return temporary


def role_changes(*, limit: int = 200) -> list[RoleChange]:
    """The newest entries of the role log."""
    stmt = select(RoleChange).order_by(RoleChange.created_at.desc(), RoleChange.id.desc())
    return list(db.session.scalars(stmt.limit(limit)))
