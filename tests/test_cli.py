"""Command line of REFERENCE.md: customers create, cards issue, demo load, staff create."""

from __future__ import annotations

import json
import random
import string

import pytest
from sqlalchemy import select

from portal.customers.models import Customer, LoginId
from portal.policy.officers import list_officers
from portal.policy.versions import current_version

BASE_ARGS = [
    "customers",
    "create",
    "--login-id",
    "Park_Cli",
    "--name",
    "박씨엘",
    "--email",
    "cli@example.kr",
    "--phone",
    "010-5555-1234",
    "--birth-date",
    "1988-08-08",
    "--postal-code",
    "06236",
    "--address",
    "서울 강남구 테헤란로 152",
    "--password",
    "Trk-Portal-7731!",
]


def test_customers_create_json_card_shape(runner):
    result = runner.invoke(args=[*BASE_ARGS, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"login_id", "security_card"}
    assert data["login_id"] == "park_cli"  # login IDs are case-insensitive, stored lower
    card = data["security_card"]
    assert set(card) == {"serial", "codes"}
    assert len(card["codes"]) == 35
    assert all(len(c) == 4 and c.isdigit() for c in card["codes"])


def test_customers_create_json_otp_shape(runner):
    result = runner.invoke(args=[*BASE_ARGS, "--second-factor", "otp", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"login_id", "otp_secret"}
    assert len(data["otp_secret"]) >= 16


def test_card_codes_are_encrypted_at_rest(runner, db):
    result = runner.invoke(args=[*BASE_ARGS, "--json"])
    codes = json.loads(result.output)["security_card"]["codes"]
    from portal.auth.models import SecurityCard

    stored = db.session.scalars(select(SecurityCard)).one().codes_encrypted
    assert not any(code.encode() in stored for code in codes[:5])


def test_login_id_reuse_is_refused_even_after_retirement(runner, db):
    assert runner.invoke(args=BASE_ARGS).exit_code == 0
    again = runner.invoke(args=[*BASE_ARGS[:3], "PARK_CLI", *BASE_ARGS[4:]])
    assert again.exit_code != 0
    assert "login_id" in again.output
    # Withdrawal deletes the customer but the register keeps the ID for ever.
    customer = db.session.scalars(select(Customer)).one()
    register = customer.login
    db.session.delete(customer)
    from portal.dbtypes import utcnow

    register.retired_at = utcnow()
    db.session.commit()
    assert db.session.scalars(select(LoginId)).one().login_id == "park_cli"
    third = runner.invoke(args=BASE_ARGS)
    assert third.exit_code != 0
    assert len(third.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("--email", "not-an-email"), "email"),
        (("--phone", "12"), "phone"),
        (("--postal-code", "1234"), "postal_code"),
        (("--login-id", "ab"), "login_id"),
        (("--password", "password"), "password"),
        (("--birth-date", "2999-01-01"), "birth_date"),
    ],
)
def test_customers_create_bad_input_one_line(runner, db, change, field):
    args = list(BASE_ARGS)
    index = args.index(change[0])
    args[index + 1] = change[1]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert field in result.output
    assert db.session.scalars(select(Customer)).first() is None


def test_business_customer_needs_valid_check_digit(runner):
    args = [a for a in BASE_ARGS if a not in ("--birth-date", "1988-08-08")]
    bad = runner.invoke(
        args=[*args, "--customer-type", "business", "--business-number", "1248100997"]
    )
    assert bad.exit_code != 0 and "business_number" in bad.output
    good = runner.invoke(
        args=[*args, "--customer-type", "business", "--business-number", "124-81-00998"]
    )
    assert good.exit_code == 0, good.output


def test_customers_create_without_birth_date(runner, db):
    """Birth date is a billing item, not a sign-up item (policy §1): optional here."""
    args = [a for a in BASE_ARGS if a not in ("--birth-date", "1988-08-08")]
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    customer = db.session.scalars(select(Customer)).one()
    assert (customer.customer_type, customer.birth_date) == ("individual", None)


def test_business_customer_without_business_number(runner, db):
    args = [a for a in BASE_ARGS if a not in ("--birth-date", "1988-08-08")]
    result = runner.invoke(args=[*args, "--customer-type", "business"])
    assert result.exit_code == 0, result.output
    customer = db.session.scalars(select(Customer)).one()
    assert (customer.customer_type, customer.business_number) == ("business", None)


def test_overseas_member_takes_international_phone(runner):
    args = [a for a in BASE_ARGS if a not in ("--postal-code", "06236")]
    args[args.index("--phone") + 1] = "+1 415 555 2671"
    result = runner.invoke(args=[*args, "--member-type", "overseas", "--country", "US"])
    assert result.exit_code == 0, result.output


def test_cards_issue_revokes_old_card(runner, db):
    first = json.loads(runner.invoke(args=[*BASE_ARGS, "--json"]).output)
    result = runner.invoke(args=["cards", "issue", "park_cli", "--json"])
    assert result.exit_code == 0, result.output
    second = json.loads(result.output)
    assert second["serial"] != first["security_card"]["serial"]
    from portal.auth.models import SecurityCard

    cards = db.session.scalars(select(SecurityCard).order_by(SecurityCard.id)).all()
    assert cards[0].revoked_at is not None and cards[1].revoked_at is None


def test_cards_issue_unknown_login(runner):
    result = runner.invoke(args=["cards", "issue", "nobody_here"])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1


def test_demo_load_is_idempotent(runner, db):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "kim_minsu" in first.output and "admin" in first.output
    count = len(db.session.scalars(select(Customer)).all())
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    db.session.expire_all()
    assert len(db.session.scalars(select(Customer)).all()) == count
    assert "kim_minsu" in second.output and "admin" in second.output
    # The demo fills the §9 officers' names and addresses, and the terms of use are there.
    assert [o.name for o in list_officers()] == ["정아리", "박지훈"]
    assert all(o.email and o.department for o in list_officers())
    assert current_version("terms") is not None


def test_staff_create_json(runner):
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "--login-id",
            "ops_kim",
            "--name",
            "김운영",
            "--role",
            "support",
            "--password",
            "Ops-Console-2026!",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == {"login_id", "otp_secret"}


@pytest.mark.parametrize("length", [100, 128])
def test_customers_create_takes_long_passwords(runner, length):
    # PRODUCT.md §2: up to 128 characters; the strength check must not choke on them.
    password = "".join(
        random.Random(length).choices(string.ascii_letters + "0123456789!#", k=length)
    )
    args = list(BASE_ARGS)
    args[args.index("--password") + 1] = password
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output


def _environment_app(monkeypatch, app_factory, database_url, env_name):
    """An app configured from the environment as ``flask`` would be, on the test database."""
    from cryptography.fernet import Fernet

    from portal.config import load_config

    for name, value in {
        "PORTAL_ENV": env_name,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "s" * 40,
        "PORTAL_DATA_KEYS": Fernet.generate_key().decode(),
        "BCRYPT_ROUNDS": "4",
        "PORTAL_TRUSTED_HOSTS": "portal.example.kr",
        "PORTAL_SINGLE_PROCESS": "1",
        "RATELIMIT_STORAGE_URI": "memory://",
    }.items():
        monkeypatch.setenv(name, value)
    return app_factory(load_config())


def test_demo_load_is_refused_in_production(monkeypatch, app_factory, database_url):
    # No ``app``/``db`` fixture here: their testing app context would take the command over.
    from portal.admin.models import Staff
    from portal.extensions import db

    app = _environment_app(monkeypatch, app_factory, database_url, "production")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "production" in lines[0], result.output
    with app.app_context():
        assert db.session.scalars(select(Customer)).first() is None
        assert db.session.scalars(select(Staff)).first() is None


def test_demo_load_runs_in_development(monkeypatch, app_factory, database_url):
    app = _environment_app(monkeypatch, app_factory, database_url, "development")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "kim_minsu" in result.output


# --- passwords off the command line (`ps` shows every argument to every local user) ---

NO_PASSWORD_ARGS = BASE_ARGS[: BASE_ARGS.index("--password")]
STAFF_ARGS = ["staff", "create", "--login-id", "ops_kim", "--name", "김운영", "--role", "support"]
TYPED = "Typed-Not-Shown-2026!"


def _stored_hash(db, kind: str, login_id: str) -> str:
    from portal.admin.models import Staff
    from portal.customers.services import customer_by_login_id

    db.session.expire_all()
    if kind == "customer":
        return customer_by_login_id(login_id).password_hash
    return db.session.scalars(select(Staff).where(Staff.login_id == login_id)).one().password_hash


@pytest.mark.parametrize(
    ("args", "model", "login_id"),
    [(NO_PASSWORD_ARGS, "customer", "park_cli"), (STAFF_ARGS, "staff", "ops_kim")],
)
def test_create_prompts_for_a_hidden_password_twice(runner, db, args, model, login_id):
    from portal.auth.passwords import check_password

    # A typo in the confirmation is asked again rather than stored.
    result = runner.invoke(
        args=[*args, "--json"], input=f"{TYPED}\nTypo-{TYPED}\n{TYPED}\n{TYPED}\n"
    )
    assert result.exit_code == 0, result.output
    assert TYPED not in result.output  # hidden input is not echoed
    assert json.loads(result.stdout)["login_id"] == login_id  # prompts go to stderr
    stored = _stored_hash(db, model, login_id)
    assert check_password(TYPED, stored)


@pytest.mark.parametrize(
    ("args", "model", "login_id"),
    [(NO_PASSWORD_ARGS, "customer", "park_cli"), (STAFF_ARGS, "staff", "ops_kim")],
)
def test_create_reads_one_line_of_stdin_for_the_password(runner, db, args, model, login_id):
    from portal.auth.passwords import check_password

    result = runner.invoke(args=[*args, "--password-stdin", "--json"], input=f"{TYPED}\nignored\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["login_id"] == login_id
    stored = _stored_hash(db, model, login_id)
    assert check_password(TYPED, stored)


@pytest.mark.parametrize("args", [NO_PASSWORD_ARGS, STAFF_ARGS])
@pytest.mark.parametrize(
    ("extra", "stdin"),
    [
        (["--password-stdin"], ""),
        (["--password-stdin"], "\n"),
        (["--password-stdin", "--password", TYPED], f"{TYPED}\n"),
    ],
)
def test_create_password_source_mistakes_are_one_line(runner, db, args, extra, stdin):
    result = runner.invoke(args=[*args, *extra], input=stdin)
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "password" in result.output
    from portal.admin.models import Staff

    assert db.session.scalars(select(Customer)).first() is None
    assert db.session.scalars(select(Staff)).first() is None
