"""The restore drill (docs/OPERATIONS.md), as an operator runs it, on both databases.

While the portal writes (customers registered, each with a card, a security event and a
staff access record, one transaction each), ``flask backup create`` takes a backup; ``flask
backup restore`` puts it into a new, empty database; ``flask backup check`` (integrity,
foreign keys, rows per table) and ``flask audit verify`` (the access log's hash chain) must
pass and agree with each other; then a gunicorn serves the restored copy and a customer signs
in with password and card.
"""

from __future__ import annotations

import json
import threading

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from portal.audit.access import record_access
from portal.audit.services import record_event
from portal.auth.registration import register_customer
from portal.config import format_hash_peppers
from portal.customers.services import NewCustomer
from portal.extensions import db
from tests.concurrency.conftest import Browser
from tests.conftest import ROOT
from tests.factories import PASSWORD, create_customer
from tests.livehost import gunicorn

WRITE = "drill_write"


class Writer(threading.Thread):
    """The portal at work: one registration, event and access record per transaction."""

    def __init__(self, application) -> None:
        super().__init__(daemon=True)
        self.application = application
        self.committed = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.application.app_context():
                while not self.stop.is_set():
                    n = self.committed
                    registered = register_customer(
                        NewCustomer(
                            login_id=f"drill_{n:05d}",
                            name="복원훈련",
                            email=f"drill_{n}@example.kr",
                            phone="010-2345-6789",
                            postal_code="04524",
                            address="서울",
                            password=PASSWORD,
                            activated=True,
                        )
                    )
                    customer_id = registered.customer.id
                    record_event(WRITE, customer_id=customer_id)
                    record_access(
                        staff_id=None,
                        actor="drill",
                        action="customer_view",
                        customer_id=customer_id,
                        fields=("name",),
                    )
                    db.session.commit()
                    self.committed += 1
                db.session.remove()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def wait_for(self, count: int) -> None:
        for _ in range(1200):
            if self.committed >= count or self.error:
                return
            self.stop.wait(0.05)


def _invoke(application, *args: str) -> tuple[int, dict]:
    out = application.test_cli_runner().invoke(args=[*args, "--json"])
    with application.app_context():
        db.session.remove()
    return out.exit_code, json.loads(out.stdout) if out.stdout.strip() else {"output": out.output}


def test_restore_drill_backup_under_writes_restore_check_and_sign_in(
    database, new_database, app_for, config, tmp_path
):
    kind = database[0]
    source = app_for(new_database("drill_source"), migrate=True)
    with source.app_context():
        customer = create_customer(login_id="drill_customer")
        db.session.remove()

    writer = Writer(source)
    writer.start()
    try:
        writer.wait_for(5)
        backup = tmp_path / "drill.backup"
        created, summary = _invoke(source, "backup", "create", str(backup))
        writer.wait_for(writer.committed + 3)  # the portal kept writing after the backup
    finally:
        writer.stop.set()
        writer.join(60)
    assert writer.error is None, writer.error
    assert created == 0, summary

    restored_url = new_database("drill_restored")
    target = app_for(restored_url)
    restored, info = _invoke(target, "backup", "restore", str(backup))
    assert restored == 0, info
    assert info["sha256"] == summary["sha256"]

    # The integrity check: the engine's own, then counts that must agree with each other.
    checked, report = _invoke(target, "backup", "check")
    assert checked == 0 and report["ok"], report
    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    assert report["schema_revision"] == head
    rows = report["rows"]
    writes = rows["access_records"]
    assert 5 <= writes <= writer.committed  # a snapshot taken while the writes went on
    # Each writer transaction wholly in or wholly out: one of each per registration.
    assert rows["customers"] == rows["login_ids"] == rows["security_cards"] == writes + 1
    assert rows["security_events"] >= writes
    verified, chain = _invoke(target, "audit", "verify")
    assert verified == 0 and chain["ok"], chain
    assert chain["checked"] == writes and chain["head_seq"] == writes

    # The restored copy serves: a gunicorn on it, the same secrets, a real sign-in.
    with target.app_context():
        db.engine.dispose()
    env = {
        "DATABASE_URL": restored_url,
        "SECRET_KEY": config.SECRET_KEY,
        "PORTAL_DATA_KEYS": ",".join(config.PORTAL_DATA_KEYS),
        "PORTAL_HASH_PEPPERS": format_hash_peppers(config.PORTAL_HASH_PEPPERS),
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "BCRYPT_ROUNDS": str(config.BCRYPT_ROUNDS),
    }
    with gunicorn(env, tmp_path / "restored.log") as port:
        browser = Browser(port)
        assert browser.step_one(customer.login_id, customer.password).status == 302
        token, first, last = browser.challenge()
        code_first, code_last = customer.card_answer(first, last)
        reply = browser.request(
            "POST",
            "/login/verify",
            {"csrf_token": token, "code_first": code_first, "code_last": code_last},
        )
        assert reply.status == 302, reply.body[-500:]
        account = browser.request("GET", "/account")
        assert account.status == 200
        # A customer the writer registered before the backup is there too.
        assert browser.request("GET", "/healthz").status == 200
    del kind


def test_backup_check_names_broken_links_and_a_foreign_database(
    database, new_database, app_for, tmp_path
):
    """The check goes red: an orphan row (SQLite keeps one if foreign keys were off when it
    was written) and a database without the portal's alembic_version."""
    application = app_for(new_database("drill_check"), migrate=True)
    with application.app_context():
        create_customer(login_id="check_customer")
        db.session.remove()
    checked, report = _invoke(application, "backup", "check")
    assert checked == 0 and report["ok"] and report["rows"]["customers"] == 1
    with application.app_context():
        if database[0] == "sqlite":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.execute(text("DELETE FROM customers"))
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
        db.engine.dispose()
    checked, report = _invoke(application, "backup", "check")
    assert checked == 1 and not report["ok"]
    assert "not a portal database (no alembic_version)" in report["problems"]
    if database[0] == "sqlite":
        assert any("its customers row is missing" in p for p in report["problems"]), report
    assert make_url(application.config["SQLALCHEMY_DATABASE_URI"]).database
