"""SECRET_KEY and pepper rotation: what survives and what does not (docs/OPERATIONS.md).

Recovery codes are hashed under a pepper of PORTAL_HASH_PEPPERS recorded in their row, not
under SECRET_KEY; passwords are pre-hashed under a fixed label. So a new SECRET_KEY signs
everyone out (sessions are keyed with it, on purpose) but leaves passwords and recovery codes
working, and a new pepper leaves codes hashed under the older ones working.
"""

from __future__ import annotations

import copy
import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.auth.models import RecoveryCode
from portal.config import ConfigError, parse_hash_peppers
from portal.security import keyed_hash
from tests.auth.test_factors import CODES_RE, enrol
from tests.conftest import post_form


def _rotated(config, **changes):
    cfg = copy.copy(config)
    for name, value in changes.items():
        setattr(cfg, name, value)
    return cfg


def _sign_in_with_recovery(app, customer, code: str):
    """A fresh browser on ``app``: password, then the recovery code; the final response."""
    client = app.test_client()
    step_one = post_form(
        client, "/login", {"login_id": customer.login_id, "password": customer.password}
    )
    assert step_one.status_code == 302, "the password no longer works"
    answer = post_form(client, "/login/recovery", {"recovery_code": code})
    return client, answer


def _peppers_of_codes(db) -> set[str | None]:
    db.session.expire_all()
    return {row.pepper_id for row in db.session.scalars(select(RecoveryCode))}


def test_secret_key_rotation_keeps_passwords_and_recovery_codes(
    config, client, auth, customer, db, app_factory
):
    auth.login(customer)
    _, codes = enrol(client, datetime.now(UTC))
    assert client.get("/account").status_code == 200

    rotated = app_factory(_rotated(config, SECRET_KEY=secrets.token_hex(32)))
    # Sessions are keyed with SECRET_KEY: the old one dies (expected and documented).
    old_browser = rotated.test_client()
    old_browser.set_cookie(
        config.SESSION_COOKIE_NAME, client.get_cookie(config.SESSION_COOKIE_NAME).value
    )
    assert old_browser.get("/account").status_code == 302

    # The password and a recovery code handed out before the rotation still sign in.
    browser, answer = _sign_in_with_recovery(rotated, customer, codes[0])
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert browser.get("/account").status_code == 200
    # ... and the password with the card, as every day.
    card_browser = rotated.test_client()
    card_auth = type(auth)(card_browser)
    card_auth.login(customer)
    assert card_browser.get("/account").status_code == 200


def test_a_new_pepper_keeps_codes_made_under_the_older_one(
    config, client, auth, customer, db, app_factory
):
    old = list(config.PORTAL_HASH_PEPPERS)
    auth.login(customer)
    _, codes = enrol(client, datetime.now(UTC))
    assert _peppers_of_codes(db) == {old[0][0]}

    new = ("n2", secrets.token_hex(32))
    both = app_factory(_rotated(config, PORTAL_HASH_PEPPERS=[new, *old]))
    browser, answer = _sign_in_with_recovery(both, customer, codes[1])
    assert answer.status_code == 302, answer.get_data(as_text=True)
    # Renewing the codes moves them to the newest pepper.
    renewed = post_form(browser, "/account/security/recovery-codes", {}, page="/account/security")
    assert renewed.status_code == 200, renewed.status_code
    new_codes = CODES_RE.findall(renewed.get_data(as_text=True))
    assert len(new_codes) == 10
    assert _peppers_of_codes(db) == {"n2"}

    # The old pepper can now go; the codes made under the new one still work.
    only_new = app_factory(_rotated(config, PORTAL_HASH_PEPPERS=[new]))
    _, answer = _sign_in_with_recovery(only_new, customer, new_codes[0])
    assert answer.status_code == 302, answer.get_data(as_text=True)


def test_a_code_is_checked_under_the_pepper_its_row_records(
    config, client, auth, customer, db, app_factory
):
    auth.login(customer)
    _, codes = enrol(client, datetime.now(UTC))
    # The same secret under another id: the rows name "t1", which is no longer listed, so
    # nothing matches (a dropped pepper voids its codes; it is not guessed from the others).
    renamed = [("other", config.PORTAL_HASH_PEPPERS[0][1])]
    dropped = app_factory(_rotated(config, PORTAL_HASH_PEPPERS=renamed))
    _, answer = _sign_in_with_recovery(dropped, customer, codes[0])
    assert answer.status_code == 200
    assert "복구 코드가 올바르지 않거나" in answer.get_data(as_text=True)
    # Under the configuration that made them, the same code works.
    _, answer = _sign_in_with_recovery(app_factory(config), customer, codes[0])
    assert answer.status_code == 302


def test_codes_from_before_peppers_survive_a_secret_key_change_listed_as_legacy(
    app, config, client, auth, customer, db, app_factory
):
    auth.login(customer)
    _, codes = enrol(client, datetime.now(UTC))
    # Rows as migration 0013 leaves them: keyed with SECRET_KEY, no pepper recorded.
    for row in db.session.scalars(select(RecoveryCode)):
        db.session.delete(row)
    for code in codes[:3]:
        hashed = keyed_hash(code.replace("-", ""))
        db.session.add(RecoveryCode(customer_id=customer.id, code_hash=hashed, pepper_id=None))
    db.session.commit()

    # Unchanged SECRET_KEY: a legacy code works as before the upgrade.
    _, answer = _sign_in_with_recovery(app_factory(config), customer, codes[0])
    assert answer.status_code == 302
    # A new SECRET_KEY with the old one listed as the "legacy" pepper: still works.
    legacy = ("legacy", config.SECRET_KEY)
    rotated = _rotated(
        config,
        SECRET_KEY=secrets.token_hex(32),
        PORTAL_HASH_PEPPERS=[*config.PORTAL_HASH_PEPPERS, legacy],
    )
    _, answer = _sign_in_with_recovery(app_factory(rotated), customer, codes[1])
    assert answer.status_code == 302, answer.get_data(as_text=True)
    # Without it, they cannot: the documented step matters.
    forgotten = _rotated(config, SECRET_KEY=secrets.token_hex(32))
    _, answer = _sign_in_with_recovery(app_factory(forgotten), customer, codes[2])
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("nocolon", "ID:SECRET"),
        ("bad id!:" + "x" * 40, "ID:SECRET"),
        ("p1:short", "at least 32"),
        ("p1:" + "x" * 40 + ",p1:" + "y" * 40, "listed twice"),
    ],
)
def test_bad_peppers_stop_the_start(raw, complaint):
    with pytest.raises(ConfigError, match=complaint):
        parse_hash_peppers(raw, "PORTAL_HASH_PEPPERS")


def test_retained_records_are_found_by_subject_across_key_changes(app, config, db, app_factory):
    """The retention store outlives any SECRET_KEY: records are gathered by former customer
    under the pepper their row names, before and after SECRET_KEY and pepper changes."""
    from datetime import date

    from portal.retention.models import RetainedRecord
    from portal.retention.store import of_subject, retain, subject_key

    def store(register_id: int) -> None:
        retain(
            category="contract",
            subject=subject_key(register_id),
            source="test",
            record_date=date.today(),
            payload={"n": register_id},
        )

    store(41)
    store(42)
    # A record from before peppers: keyed with SECRET_KEY, no pepper id.
    db.session.add(
        RetainedRecord(
            category="contract",
            legal_basis="test",
            subject_key=keyed_hash("retention-subject:42"),
            subject_pepper_id=None,
            source="legacy",
            payload_encrypted=b"x",
            record_date=date.today(),
            purge_after=date.today(),
        )
    )
    db.session.commit()
    assert subject_key(42) != keyed_hash("retention-subject:42")

    old_secret = config.SECRET_KEY
    rotated = _rotated(
        config,
        SECRET_KEY=secrets.token_hex(32),
        PORTAL_HASH_PEPPERS=[
            ("n2", secrets.token_hex(32)),
            *config.PORTAL_HASH_PEPPERS,
            ("legacy", old_secret),
        ],
    )
    later = app_factory(rotated)
    with later.app_context():
        store(42)  # one more, under the new pepper
        db.session.commit()
        found = db.session.scalars(select(RetainedRecord.source).where(of_subject(42))).all()
        assert sorted(found) == ["legacy", "test", "test"]
        assert db.session.scalars(select(RetainedRecord.id).where(of_subject(41))).all()
        assert {row.subject_pepper_id for row in db.session.scalars(select(RetainedRecord))} == {
            None,
            config.PORTAL_HASH_PEPPERS[0][0],
            "n2",
        }
        db.session.remove()
