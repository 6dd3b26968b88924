"""Staff accounts. (The back office calls the other packages' services; it owns no rules.)"""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from portal.admin.models import STAFF_ROLES, Staff
from portal.auth.passwords import hash_password, password_problems
from portal.customers import validation as v
from portal.extensions import db
from portal.security import encrypt


class StaffError(Exception):
    """A staff account cannot be created or changed as asked."""


def create_staff(*, login_id: str, name: str, role: str, password: str) -> tuple[Staff, str]:
    """Create a staff account with a mandatory TOTP; returns it and the secret (shown once).

    :raises StaffError: bad login ID, role or password, or the login ID exists.
    """
    try:
        login = v.login_id(login_id)
        clean_name = v.clean_text(name, max_length=100)
    except v.FieldInvalid as exc:
        raise StaffError(str(exc.message)) from exc
    if role not in STAFF_ROLES:
        raise StaffError(f"role must be one of {', '.join(STAFF_ROLES)}")
    problems = password_problems(password, login_id=login)
    if problems:
        raise StaffError(str(problems[0]))
    if db.session.scalars(select(Staff).where(Staff.login_id == login)).first():
        raise StaffError(f"staff login ID {login!r} exists")
    secret = pyotp.random_base32()
    staff = Staff(
        login_id=login,
        name=clean_name,
        role=role,
        password_hash=hash_password(password),
        otp_secret_encrypted=encrypt(secret),
    )
    db.session.add(staff)
    db.session.flush()
    return staff, secret
