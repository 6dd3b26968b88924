"""The disk holding the SQLite database fills up under a live gunicorn: a small tmpfs
(mounted by the test; it needs root, as in the project's container and CI), filled but for
a sliver, then inquiries posted until the writes fail.

Each refused write gets a clear 503 page (Korean, or English with the language cookie; no
traceback, no SQL), nothing is half-written (the inquiries held are exactly those answered
with a redirect; integrity_check ok), and once space is freed the same server saves again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess

import pytest

from tests.concurrency.conftest import Browser
from tests.faults._live import Gunicorn

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def small_disk(tmp_path):
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _sign_in(browser: Browser, customer) -> None:
    assert browser.step_one(customer.login_id, customer.password).status == 302
    token, first, last = browser.challenge()
    code_first, code_last = customer.card_answer(first, last)
    reply = browser.request(
        "POST",
        "/login/verify",
        {"csrf_token": token, "code_first": code_first, "code_last": code_last},
    )
    assert reply.location == "/account", reply.body[:300]


def _fill(disk, keep: int) -> None:
    """Fill the disk but for ``keep`` bytes."""
    free = shutil.disk_usage(disk).free
    with (disk / "filler").open("wb") as fh:
        fh.write(b"\0" * max(0, free - keep))


def test_a_full_disk_answers_503_and_keeps_nothing_half_written(
    database, config, customer, small_disk, tmp_path
):
    if database[0] != "sqlite":
        pytest.skip("the disk under PostgreSQL is PostgreSQL's own")
    # The test's database (with its customer) moves onto the small disk.
    source = config.SQLALCHEMY_DATABASE_URI.removeprefix("sqlite:///")
    target = small_disk / "portal.sqlite3"
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{target}"
    server = Gunicorn(config, tmp_path, workers=2)
    try:
        browser = Browser(server.port)
        _sign_in(browser, customer)
        _fill(small_disk, keep=96 * 1024)
        saved, refused = 0, []
        for n in range(200):
            token, _ = browser.token("/account/inquiries")
            reply = browser.request(
                "POST",
                "/account/inquiries",
                {"csrf_token": token, "subject": f"문의 {n}", "body": f"{n} " + "가" * 4500},
            )
            if reply.status == 302:
                saved += 1
                continue
            refused.append(reply)
            if len(refused) == 3:
                break
        assert refused, "the disk never filled up"
        for reply in refused:
            assert reply.status == 503, (reply.status, reply.body[:500])
            assert "서비스를 잠시 이용할 수 없습니다" in reply.body
            assert "아무것도 바뀌지 않았습니다" in reply.body
            for leak in ("Traceback", "OperationalError", "INSERT", "sqlite"):
                assert leak not in reply.body
        # The same page in English for a visitor who chose it.
        browser.cookies["lang"] = "en"
        token, _ = browser.token("/account/inquiries")
        reply = browser.request(
            "POST", "/account/inquiries", {"csrf_token": token, "subject": "x", "body": "가" * 4500}
        )
        assert reply.status == 503
        assert "The service is temporarily unavailable" in reply.body
        browser.cookies.pop("lang")

        # Space again: the same server saves again, without a restart.
        (small_disk / "filler").unlink()
        token, _ = browser.token("/account/inquiries")
        reply = browser.request(
            "POST", "/account/inquiries", {"csrf_token": token, "subject": "다시", "body": "공간"}
        )
        assert reply.status == 302, reply.body[:300]
        saved += 1
    finally:
        server.stop()
    # Operators get one line saying what happened (Flask also logs the commit's traceback);
    # no request went down the 500 path.
    assert "Database storage full" in server.log()
    assert "Unhandled error" not in server.log()
    # Nothing half-written: exactly the answered inquiries, and a sound file.
    with contextlib.closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM inquiries").fetchone() == (saved,)
