"""Staff accounts: create, change role, disable, restore, reset OTP or password.

Every grant, change and revocation of a role is written to the role log (권한 부여·변경·말소
기록, kept 3 years) in the same transaction, with who did it (NULL on the command line).
Accounts are never deleted: the access log and the role log name them for years.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from flask import has_request_context, request
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from portal.admin import messages as m
from portal.admin.models import STAFF_ROLES, Staff
from portal.admin.signin import end_all_sessions, note, set_password
from portal.audit.models import RoleChange
from portal.auth.passwords import password_problems, temporary_password
from portal.customers import validation as v
from portal.extensions import db
from portal.pagination import MAX_PAGE, Page
from portal.security import encrypt


class StaffError(Exception):
    """A staff account cannot be created or changed as asked (``message`` says why;
    ``field`` names the form field it is about, when there is one)."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


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
        raise StaffError(m.STAFF_ROLE_UNKNOWN, "role")


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
    except v.FieldInvalid as exc:
        raise StaffError(exc.message, "login_id") from exc
    try:
        clean_name = v.clean_text(name, max_length=100)
    except v.FieldInvalid as exc:
        raise StaffError(exc.message, "name") from exc
    _check_role(role)
    problems = password_problems(password or "", login_id=login)
    if problems:
        raise StaffError(problems[0], "password")
    if db.session.scalar(select(func.count()).select_from(Staff).where(Staff.login_id == login)):
        raise StaffError(m.STAFF_LOGIN_TAKEN, "login_id")
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


@dataclass(frozen=True)
class NewStaff:
    """A staff account just made on screen, with what is shown once: its TOTP secret and,
    when the admin typed none, the temporary password chosen for it."""

    staff: Staff
    otp_secret: str
    temporary_password: str | None


def create_staff_account(
    *, login_id: str, name: str, role: str, password: str | None, by: Staff
) -> NewStaff:
    """:func:`create_staff` for the back office: a blank password becomes a random
    temporary one. Either way the account must change it at the first sign-in.

    :raises StaffError: as :func:`create_staff`.
    """
    chosen = None if password else temporary_password(login_id=login_id)
    staff, secret = create_staff(
        login_id=login_id, name=name, role=role, password=password or chosen, by=by
    )
    return NewStaff(staff, secret, chosen)


def staff_list() -> list[Staff]:
    """Every staff account (there are few), active first."""
    return list(db.session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.login_id)))


def staff_by_id(staff_id: int) -> Staff | None:
    return db.session.get(Staff, staff_id)


def _not_self(staff: Staff, by: Staff | None) -> None:
    # An admin cannot demote, disable or reset themselves: the last admin would lock
    # everyone out, and a role change is a decision for a second person.
    if by is not None and by.id == staff.id:
        raise StaffError(m.STAFF_NOT_SELF)


def change_role(staff: Staff, role: str, *, by: Staff | None) -> None:
    """:raises StaffError: unknown role, the same role, or one's own account."""
    _check_role(role)
    _not_self(staff, by)
    if role == staff.role:
        raise StaffError(m.STAFF_SAME_ROLE, "role")
    _log_role(staff, "change", staff.role, role, by)
    staff.role = role
    # The new role takes effect at once: sessions carrying the old one end.
    end_all_sessions(staff.id)
    db.session.flush()


def disable_staff(staff: Staff, *, by: Staff | None) -> None:
    """Revoke the account's access (the role is kept on record, the sessions end)."""
    _not_self(staff, by)
    if not staff.active:
        raise StaffError(m.STAFF_ALREADY_DISABLED)
    staff.active = False
    _log_role(staff, "revoke", staff.role, None, by)
    end_all_sessions(staff.id)
    db.session.flush()


def enable_staff(staff: Staff, *, by: Staff | None) -> None:
    _not_self(staff, by)
    if staff.active:
        raise StaffError(m.STAFF_ALREADY_ACTIVE)
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
    temporary = temporary_password(login_id=staff.login_id)
    set_password(staff, temporary, must_change=True)
    staff.failed_logins = 0
    staff.locked_until = None
    end_all_sessions(staff.id)
    note(by, "staff_password_reset", fields=[f"staff:{staff.login_id}"])
    db.session.flush()
    return temporary


ROLE_LOG_PER_PAGE = 50


@dataclass(frozen=True)
class RoleLogRow:
    """One role-log entry with the login IDs of the account and of whoever changed it."""

    change: RoleChange
    login_id: str
    changed_by: str | None


def role_log_page(*, page: int, per_page: int = ROLE_LOG_PER_PAGE) -> Page:
    """One page of the role log, newest first (one query: both accounts joined)."""
    page = min(max(page, 1), MAX_PAGE)
    target = aliased(Staff)
    actor = aliased(Staff)
    stmt = (
        select(RoleChange, target.login_id, actor.login_id)
        .join(target, target.id == RoleChange.staff_id)
        .outerjoin(actor, actor.id == RoleChange.changed_by_id)
        .order_by(RoleChange.created_at.desc(), RoleChange.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    rows = [RoleLogRow(change, login, by) for change, login, by in db.session.execute(stmt)]
    return Page(items=rows[:per_page], page=page, has_next=len(rows) > per_page)


def role_changes(*, limit: int = 200) -> list[RoleChange]:
    """The newest entries of the role log."""
    stmt = select(RoleChange).order_by(RoleChange.created_at.desc(), RoleChange.id.desc())
    return list(db.session.scalars(stmt.limit(limit)))
