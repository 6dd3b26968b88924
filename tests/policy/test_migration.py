"""Migration 0002 on a fresh database: the seed policy and officers are there, and the
models match the migrations (``flask db check``)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from portal.policy.seed import SEED_LABEL, TERMS_SEED_LABEL, seed_markdown, terms_seed_markdown
from tests.conftest import ROOT


def flask(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_upgrade_seeds_the_policy_and_matches_the_models(tmp_path):
    # Not parametrised by database: tests/test_migrations.py runs every migration on both
    # engines; this one reads the seeded rows back from a fresh SQLite file.
    path = tmp_path / "migrated.sqlite3"
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "PORTAL_ENV": "development",
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{path}",
    }
    upgrade = flask("db", "upgrade", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    check = flask("db", "check", env=env)
    assert check.returncode == 0, check.stderr + check.stdout
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT label, announced_on, effective_on, body_md FROM policy_versions"
            " WHERE document = 'privacy'"
        ).fetchall()
        terms = conn.execute(
            "SELECT label, body_md FROM policy_versions WHERE document = 'terms'"
        ).fetchall()
        officers = conn.execute(
            "SELECT role, phone FROM privacy_officers ORDER BY sort_order"
        ).fetchall()
    conn.close()
    assert rows == [(SEED_LABEL, "2023-09-15", "2023-09-25", seed_markdown())]
    assert terms == [(TERMS_SEED_LABEL, terms_seed_markdown())]  # 0009
    assert officers == [
        ("개인정보 관리책임자", "02-6309-6800"),
        ("개인정보 관리담당자", "02-2679-8705"),
    ]
    # And it can be undone.
    downgrade = flask("db", "downgrade", "0001", env=env)
    assert downgrade.returncode == 0, downgrade.stderr
