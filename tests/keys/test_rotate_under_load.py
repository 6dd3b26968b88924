"""Data-key rotation (``flask keys rotate``) while customers edit and read: nothing is lost.

The operator's sequence (docs/OPERATIONS.md): put the new key in front of PORTAL_DATA_KEYS and
restart, run ``flask keys rotate``, then drop the old key. Here a gunicorn already serving
with ``new,old`` takes parallel payment-method and profile edits and reads while the command
re-encrypts everything written under the old key. Afterwards the new key alone opens every
encrypted value, each customer's last accepted edit is what the database holds, and no
request failed. PostgreSQL only: that is where the writes truly run side by side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, event, select, update

from portal.billing.methods import set_payment_method
from portal.billing.models import PaymentMethod
from portal.customers.models import Customer
from portal.keys.rotation import ENCRYPTED_COLUMNS, column_name, rotate_batch
from portal.mail.models import OutboxMessage
from portal.security import decrypt, encrypt
from tests.account.conftest import VERSION_RE, password_session
from tests.billing.conftest import auto_debit_fields, customer_row
from tests.concurrency.conftest import Browser
from tests.conftest import ROOT

CUSTOMERS = 6
SEEDED_MAIL = 300  # enough old-key rows that the command runs for a while, in batches
AFTER_SECONDS = 2  # edits go on this long after the command ended
FLASK = Path(sys.executable).parent / "flask"


def _postgres_only(config) -> None:
    if not config.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        pytest.skip("writes run side by side on PostgreSQL; SQLite serialises them")


def _sign_in(browser: Browser, customer) -> None:
    assert browser.step_one(customer.login_id, customer.password).status == 302
    token, first, last = browser.challenge()
    code_first, code_last = customer.card_answer(first, last)
    reply = browser.request(
        "POST",
        "/login/verify",
        {
            "csrf_token": token,
            "code_first": code_first,
            "code_last": code_last,
            "challenge_first": first,
            "challenge_last": last,
        },
    )
    assert reply.status == 302 and reply.location.endswith("/account"), reply.status


class CustomerLoad:
    """One customer's browser, editing in a loop; remembers what the server accepted."""

    def __init__(self, port: int, index: int, customer) -> None:
        self.browser = Browser(port)
        self.index = index
        self.customer = customer
        self.account: str | None = None
        self.address: str | None = None
        self.statuses: list[tuple[str, int]] = []
        self.error: BaseException | None = None

    def _log(self, what: str, status: int) -> None:
        self.statuses.append((what, status))

    def run(self, stop: threading.Event) -> None:
        try:
            step = 0
            while not stop.is_set():
                step += 1
                account = f"{110 + self.index}{step:09d}"  # 12 digits, unique per edit
                token, _ = self.browser.token("/billing/payment-method")
                reply = self.browser.request(
                    "POST",
                    "/billing/payment-method",
                    {
                        "csrf_token": token,
                        "kind": "auto_debit",
                        "holder_name": "홍길동",
                        "holder_birth_date": "1990-01-01",
                        "bank_code": "004",
                        "account_number": account,
                        "phone": "010-1234-5678",
                        "email": "pay@example.kr",
                    },
                )
                self._log("payment-method", reply.status)
                if reply.status == 302:
                    self.account = account
                token, html = self.browser.token("/account/profile/edit")
                address = f"서울특별시 중구 세종대로 {self.index * 1000 + step}"
                reply = self.browser.request(
                    "POST",
                    "/account/profile/edit",
                    {
                        "csrf_token": token,
                        "version": VERSION_RE.search(html)[1],
                        "email": self.customer.login_id + "@example.kr",
                        "phone": "010-1234-5678",
                        "postal_code": "04524",
                        "address": address,
                        "username": "길동",
                    },
                )
                self._log("profile", reply.status)
                if reply.status == 302:
                    self.address = address
                for path in ("/billing", "/account/profile", "/account"):
                    self._log(path, self.browser.request("GET", path).status)
        except BaseException as exc:  # reported by the test
            self.error = exc


def _rotate_env(config, keys: list[str], tmp_path) -> dict:
    return {
        **os.environ,
        "FLASK_APP": "wsgi",
        "PORTAL_ENV": "testing",
        "DATABASE_URL": config.SQLALCHEMY_DATABASE_URI,
        "SECRET_KEY": config.SECRET_KEY,
        "PORTAL_DATA_KEYS": ",".join(keys),
        "PORTAL_INSTANCE_PATH": str(tmp_path / "rotate-instance"),
    }


def test_keys_rotate_under_load_loses_no_edit(request, app, config, db, make_customer, tmp_path):
    _postgres_only(config)
    old = config.PORTAL_DATA_KEYS[0]
    customers = [make_customer(login_id=f"rotate_user{i}") for i in range(CUSTOMERS)]
    for customer in customers:  # written under the old key, as before the rotation
        set_payment_method(
            customer_row(customer),
            session_row=password_session(customer.id),
            **auto_debit_fields(),
        )
    db.session.add_all(
        OutboxMessage(kind="seed", content_encrypted=encrypt(f"seed {i}"), status="sent")
        for i in range(SEEDED_MAIL)
    )
    db.session.commit()

    # Step 1 of the procedure: every host serves with the new key in front.
    new = Fernet.generate_key().decode()
    config.PORTAL_DATA_KEYS = [new, old]
    port = request.getfixturevalue("live_server")
    loads = [CustomerLoad(port, i, c) for i, c in enumerate(customers)]
    for load in loads:
        _sign_in(load.browser, load.customer)

    stop = threading.Event()
    threads = [threading.Thread(target=load.run, args=(stop,)) for load in loads]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the load is running
    edits_before = sum(len(load.statuses) for load in loads)
    # Step 2: the command, while the edits go on.
    rotated = subprocess.run(
        [FLASK, "keys", "rotate", "--json"],
        cwd=ROOT, env=_rotate_env(config, [new, old], tmp_path),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    edits_during = sum(len(load.statuses) for load in loads) - edits_before
    time.sleep(AFTER_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert rotated.returncode == 0, rotated.stderr
    assert edits_during > 0, "nothing was served while the command ran"
    counts = json.loads(rotated.stdout)["counts"]
    assert counts["mail_outbox.content_encrypted"] >= SEEDED_MAIL

    for load in loads:
        assert load.error is None, repr(load.error)
        failed = [(what, status) for what, status in load.statuses if status >= 500]
        assert not failed, failed
        unexpected = [
            (what, status)
            for what, status in load.statuses
            if status != (200 if what.startswith("/") else 302)
        ]
        assert not unexpected, unexpected
        assert load.account is not None and load.address is not None

    # Step 3: the old key can go. The new key alone opens everything...
    app.config["PORTAL_DATA_KEYS"] = [new]
    db.session.expire_all()
    only_new = Fernet(new.encode())
    for column in ENCRYPTED_COLUMNS:
        for token in db.session.scalars(select(column).where(column.is_not(None))):
            only_new.decrypt(bytes(token))  # raises InvalidToken: a value was left behind
    # ... and holds every customer's last accepted edit.
    for load in loads:
        method = db.session.scalars(
            select(PaymentMethod).where(PaymentMethod.customer_id == load.customer.id)
        ).one()
        assert decrypt(method.account_number_encrypted) == load.account, column_name(
            PaymentMethod.account_number_encrypted
        )
        row = db.session.get(Customer, load.customer.id)
        assert row.address == load.address
    seeds = db.session.scalars(
        select(OutboxMessage.content_encrypted).where(OutboxMessage.kind == "seed")
    ).all()
    assert sorted(decrypt(token) for token in seeds) == sorted(
        f"seed {i}" for i in range(SEEDED_MAIL)
    )
    # A rerun has nothing left to do.
    again = subprocess.run(
        [FLASK, "keys", "rotate", "--dry-run", "--json"],
        cwd=ROOT, env=_rotate_env(config, [new], tmp_path),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert set(json.loads(again.stdout)["counts"].values()) == {0}


def test_an_edit_between_the_rotations_read_and_write_is_kept(app, config, db, customer):
    """The race the load can only hit by chance, forced: the customer's edit commits after
    the rotation read the old ciphertext and before it writes; the rotation's UPDATE, which
    names the ciphertext it read, then matches nothing and the edit stands."""
    _postgres_only(config)
    set_payment_method(
        customer_row(customer), session_row=password_session(customer.id), **auto_debit_fields()
    )
    db.session.commit()
    method_id = db.session.scalars(select(PaymentMethod.id)).one()
    old = config.PORTAL_DATA_KEYS[0]
    new = Fernet.generate_key().decode()
    app.config["PORTAL_DATA_KEYS"] = [new, old]
    edited = encrypt("998877665544")

    other = create_engine(config.SQLALCHEMY_DATABASE_URI)
    fired = []

    def edit_first(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.lstrip().upper().startswith("UPDATE PAYMENT_METHODS"):
            fired.append(True)
            with other.begin() as side:  # another request, committed meanwhile
                side.execute(
                    update(PaymentMethod)
                    .where(PaymentMethod.id == method_id)
                    .values(account_number_encrypted=edited)
                )

    engine = db.engine
    event.listen(engine, "before_cursor_execute", edit_first)
    try:
        rotate_batch(PaymentMethod.account_number_encrypted, after_id=0, dry_run=False)
        db.session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", edit_first)
        other.dispose()
    assert fired
    db.session.expire_all()
    stored = db.session.scalars(select(PaymentMethod.account_number_encrypted)).one()
    assert decrypt(stored) == "998877665544"
